"""Every public plot function draws the names it is given as written, never as matplotlib mathtext.

matplotlib reads text with two ``$`` as mathtext. The names crmml draws come from the user's data and model files
(segment, cluster, feature, column and series names, labels); a segment named ``"$10-$50"`` was drawn as a formula
and ``"$^$"`` made the user's own ``savefig`` raise matplotlib's ValueError. Each case below puts hostile names in
every name a plot function draws, then draws the returned figure with the default rcParams (no ``rc_context``) and
saves it as PNG: nothing raises, and each name is found verbatim in a drawn text that is plain text. Text matplotlib
writes as mathtext on purpose (log-scale tick labels) stays mathtext.
"""

from __future__ import annotations

import importlib
import io
import pkgutil

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

import crmml

HOSTILE = ("$^$", "$10-$50", "a_b^c $x$", "\\frac{")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _figure(obj):
    if isinstance(obj, dict):
        return [f for v in obj.values() for f in _figure(v)]
    if hasattr(obj, "savefig"):
        return [obj]
    if isinstance(obj, (np.ndarray, list, tuple)):
        return _figure(np.asarray(obj, dtype=object).ravel()[0])
    return [obj.figure]


def _draw(fig) -> list[Text]:
    """Draw and save ``fig`` outside any rc_context; its visible texts (tick labels, legends, table cells too)."""
    assert matplotlib.rcParams["text.parse_math"] and not matplotlib.rcParams["text.usetex"]
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    fig.savefig(io.BytesIO(), format="png")
    texts = fig.findobj(Text)
    texts += [c.get_text() for ax in fig.axes for t in ax.tables for c in t.get_celld().values()]
    return [t for t in texts if t.get_visible() and t.get_text()]


# ------------------------------------------------------------------------------------------------- the cases
def _scores(n=60, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n // 2), np.ones(n // 2)].astype(int)
    return y, np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1), rng.random(n)


def _segment_sizes(names):
    from crmml.segmentation import plot_segment_sizes

    return plot_segment_sizes(pd.Series([*names, names[0]], name="segment")), names, []


def _rf_grid(names):
    from crmml.segmentation import RFMSegmenter, plot_rf_grid

    rfm = pd.DataFrame({"recency": [1.0, 10, 50, 100, 200], "frequency": [9, 5, 3, 2, 1],
                        "monetary": [500.0, 200, 80, 40, 10], names[0]: [5000.0, 200, 80, 40, 1]})
    return plot_rf_grid(RFMSegmenter().fit(rfm), rfm, value=names[0]), [], [names[0]]


def _cluster_profiles(names):
    from crmml.segmentation import CustomerClusterer, plot_cluster_profiles

    rng = np.random.default_rng(0)
    X = pd.DataFrame(np.r_[rng.normal(1, 0.1, (20, 4)), rng.normal(9, 0.1, (20, 4))], columns=list(names))
    return plot_cluster_profiles(CustomerClusterer(n_clusters=2, random_state=0).fit(X)), names, []


def _roc(names):
    from crmml.evaluation import plot_roc

    y, s, _ = _scores()
    return plot_roc(y, s, label=names[0]), [], [names[0]]


def _precision_recall(names):
    from crmml.evaluation import plot_precision_recall

    y, s, _ = _scores()
    return plot_precision_recall(y, s, label=names[0]), [], [names[0]]


def _score_distribution(names):
    from crmml.evaluation import plot_score_distribution

    y, s, _ = _scores()
    return plot_score_distribution(y, s, labels=(names[0], names[1])), [], names[:2]


def _shap_bar(names):
    from crmml.evaluation import plot_shap_summary

    sv = np.random.default_rng(0).normal(size=(30, 4)) * [4, 3, 2, 1]
    return plot_shap_summary(sv, feature_names=list(names)), names, []


def _shap_beeswarm(names):
    from crmml.evaluation import plot_shap_summary

    rng = np.random.default_rng(0)
    sv, X = rng.normal(size=(30, 4)), pd.DataFrame(rng.normal(size=(30, 4)), columns=list(names))
    return plot_shap_summary(sv, X, kind="beeswarm"), names, []


def _decile_table(names):
    from crmml.evaluation import decile_table, plot_decile_table

    y, s, _ = _scores()
    t = decile_table(y, s, n_bins=4).rename(columns={"lift": names[0]})
    t.index = list(names)
    t["segment"] = list(names)
    return plot_decile_table(t), names, []


def _migration(names):
    from crmml.evaluation import plot_migration, segment_migration

    a = pd.Series([*names, names[0]], index=range(5))
    b = pd.Series([names[1], names[2], names[3], names[0], names[1]], index=range(5))
    return plot_migration(segment_migration(a, b)), names, []


def _drift(names):
    from crmml.evaluation import plot_drift

    rng = np.random.default_rng(0)
    ref = pd.DataFrame({names[0]: rng.normal(size=200), names[1]: [names[2], names[3]] * 100})
    cur = pd.DataFrame({names[0]: rng.normal(1, size=200), names[1]: [names[2]] * 150 + [names[3]] * 50})
    return plot_drift(ref, cur), names[2:], names[:2]


def _net_value(names):
    from crmml.evaluation import plot_net_value

    y, s, b = _scores()
    return (plot_net_value(y, {names[0]: s, names[1]: b}, cost_per_contact=1, value_per_event=4), [],
            names[:2])


def _classification_figures(names):
    from crmml.evaluation import classification_figures

    y, s, b = _scores()
    sv = np.random.default_rng(0).normal(size=(len(y), 3))
    figs = classification_figures(y, s, baseline_prob=b, baseline_name=names[0], shap_values=sv,
                                  feature_names=list(names[1:]), cost_per_contact=1, value_per_event=4)
    return figs, names[1:], [names[0]]


def _clv_distribution(names):
    from crmml.clv import plot_clv_distribution

    pred = pd.DataFrame({names[0]: np.random.default_rng(0).lognormal(3, 1, 500)})
    return plot_clv_distribution(pred, column=names[0]), [], [names[0]]


# plots that draw names: each returns (plot, names drawn alone as a text, names drawn within a text)
NAMED = {
    "plot_segment_sizes": _segment_sizes, "plot_rf_grid": _rf_grid, "plot_cluster_profiles": _cluster_profiles,
    "plot_roc": _roc, "plot_precision_recall": _precision_recall, "plot_score_distribution": _score_distribution,
    "plot_shap_summary": _shap_bar, "plot_shap_summary beeswarm": _shap_beeswarm,
    "plot_decile_table": _decile_table, "plot_migration": _migration, "plot_drift": _drift,
    "plot_net_value": _net_value, "classification_figures": _classification_figures,
    "plot_clv_distribution": _clv_distribution,
}


@pytest.fixture(scope="module")
def bg():
    from crmml.clv import BetaGeoModel
    from crmml.datasets import load_cdnow_summary

    s = load_cdnow_summary()
    return BetaGeoModel().fit(s), s


def _unnamed(bg):
    """Plots that draw no names of the user's: each must still draw with the default rcParams."""
    from crmml import clv, evaluation, scoring
    from crmml.datasets import load_cdnow

    model, s = bg
    y, p, _ = _scores()
    hold = clv.calibration_holdout(load_cdnow(), "1997-10-01", "1998-07-01", freq="W")
    track = pd.DataFrame({"actual": [1.0, 2, 3], "expected": [1.2, 2, 2.5], "holdout": [False, False, True]},
                         index=pd.date_range("2024-01-01", periods=3, freq="W-MON", name="period"))
    track["actual_cumulative"], track["expected_cumulative"] = track["actual"].cumsum(), track["expected"].cumsum()
    path = pd.Series([1.0, 0.8, 1.0, 0.7], name="p_alive", index=pd.date_range("2024-01-01", periods=4))
    clv_track = pd.DataFrame({"actual": [0, 5, 9], "expected": [0, 4.8, 9.5], "holdout": [False, False, True]},
                             index=pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]))
    ev = scoring.evaluate_lead_scores([1, 0, 1, 0, 0, 0], [.9, .2, .7, .4, .1, .3], ["A", "D", "A", "B", "D", "C"])
    return {
        "plot_calibration": lambda: evaluation.plot_calibration(y, p),
        "plot_gains_lift": lambda: evaluation.plot_gains_lift(y, p),
        "plot_clv_tracking": lambda: evaluation.plot_clv_tracking(clv_track),
        "plot_tracking": lambda: clv.plot_tracking(track),
        "plot_period_transactions": lambda: clv.plot_period_transactions(model, s),
        "plot_frequency_recency_matrix": lambda: clv.plot_frequency_recency_matrix(model, t=4, T=39),
        "plot_p_alive_path": lambda: clv.plot_p_alive_path(path),
        "plot_calibration_holdout": lambda: clv.plot_calibration_holdout(model, hold),
        "plot_p_alive_matrix": lambda: clv.plot_p_alive_matrix(model, T=39),
        "plot_gains": lambda: scoring.plot_gains(ev),
    }


UNNAMED = ("plot_calibration", "plot_gains_lift", "plot_clv_tracking", "plot_tracking", "plot_period_transactions",
           "plot_frequency_recency_matrix", "plot_p_alive_path", "plot_calibration_holdout", "plot_p_alive_matrix",
           "plot_gains")


def _public_plot_functions() -> set[str]:
    out = set()
    for mod in pkgutil.iter_modules(crmml.__path__):
        if mod.ispkg and not mod.name.startswith("_") and mod.name != "spark":
            out |= {n for n in importlib.import_module(f"crmml.{mod.name}").__all__ if n.startswith("plot_")}
    return out


# ------------------------------------------------------------------------------------------------- the tests
def test_every_public_plot_function_has_a_case():
    cases = {k.split()[0] for k in NAMED} | set(UNNAMED)
    assert _public_plot_functions() - cases == set(), "public plot functions without a case: add them here"
    assert _public_plot_functions() >= cases - {"classification_figures"}


@pytest.mark.parametrize("shift", range(len(HOSTILE)), ids=lambda k: f"names{k}")
@pytest.mark.parametrize("case", list(NAMED))
def test_names_are_drawn_as_written(case, shift):
    """Each hostile name in each slot (the names rotate): drawn verbatim, as plain text, and saving works."""
    names = [*HOSTILE[shift:], *HOSTILE[:shift]]
    plot, alone, within = NAMED[case](names)
    texts = [t for fig in _figure(plot) for t in _draw(fig)]
    for t in texts:
        if any(h in t.get_text() for h in HOSTILE):
            assert not t.get_parse_math(), f"{t.get_text()!r} is read as mathtext"
    drawn = [t.get_text() for t in texts]
    for name in alone:
        assert name in drawn, f"{name!r} not drawn as a text of its own; drawn: {drawn}"
    for name in within:
        assert any(name in d for d in drawn), f"{name!r} not drawn; drawn: {drawn}"


@pytest.mark.parametrize("case", UNNAMED)
def test_plots_without_names_draw_with_the_default_rcparams(case, bg):
    plot = _unnamed(bg)[case]()
    for fig in _figure(plot):
        assert _draw(fig)


def _tick_labels(axis):
    return [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]


def test_log_scale_tick_labels_stay_mathtext():
    """matplotlib writes log-scale tick labels as mathtext ('$\\mathdefault{10^{2}}$'): they are not names and
    are still drawn as powers of ten, on a log axis and on a log colour bar."""
    from crmml.clv import plot_clv_distribution

    ax = plot_clv_distribution(pd.DataFrame({"clv": np.random.default_rng(0).lognormal(3, 1, 500)}))
    _draw(ax.figure)
    rf = _rf_grid(list(HOSTILE))[0]
    cbar = rf.images[0].colorbar
    assert type(cbar.norm).__name__ == "LogNorm"
    _draw(rf.figure)
    for axis in (ax.yaxis, cbar.ax.yaxis):
        ticks = _tick_labels(axis)
        assert ticks and all(t.get_text().startswith("$\\mathdefault{") and t.get_parse_math() for t in ticks)


def test_report_images_draw_log_scale_tick_labels_as_matplotlib_does():
    """figure_to_png drew every text as plain text while saving, so a log axis in a report image (the demo's CLV
    distribution, a skewed R x F grid) read '$\\mathdefault{10^{2}}$' instead of 10 squared."""
    from matplotlib.figure import Figure

    from crmml.evaluation import figure_to_png

    def log_axes():
        ax = Figure(figsize=(3, 2)).add_subplot()
        ax.plot([1, 10, 100, 1000])
        ax.set_yscale("log")
        return ax

    buf = io.BytesIO()
    log_axes().figure.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    assert figure_to_png(log_axes()) == buf.getvalue()
