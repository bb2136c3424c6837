"""Plots of crmml.evaluation: each returns a Figure that draws what it says."""

import io

import numpy as np
import pandas as pd
import pytest

from crmml.evaluation import (decile_table, clv_decile_table, plot_calibration, plot_decile_table,
                              plot_gains_lift, plot_precision_recall, plot_roc, plot_score_distribution,
                              plot_shap_summary)


@pytest.fixture
def scored(seed):
    rng = np.random.default_rng(seed)
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(int)
    return y, p


def _renders(fig):
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    img = Image.open(io.BytesIO(buf.getvalue()))
    return img.size[0] > 100 and img.size[1] > 100


def test_roc_curve_ends_at_corners_and_reports_auc(scored):
    y, p = scored
    fig = plot_roc(y, p).figure
    line = fig.axes[0].get_lines()[0]
    x, t = line.get_xdata(), line.get_ydata()
    assert (x[0], t[0]) == (0.0, 0.0) and (x[-1], t[-1]) == (1.0, 1.0)
    assert "AUC = 0.8" in fig.axes[0].get_legend().get_texts()[0].get_text()
    assert _renders(fig)


def test_pr_curve_baseline_is_event_rate(scored):
    y, p = scored
    fig = plot_precision_recall(y, p).figure
    baseline = fig.axes[0].get_lines()[1].get_ydata()
    assert baseline[0] == pytest.approx(y.mean())


def test_calibration_curve_of_calibrated_score_is_near_diagonal(scored):
    y, p = scored
    fig = plot_calibration(y, p, n_bins=5).figure
    model = fig.axes[0].get_lines()[1]
    assert np.abs(model.get_xdata() - model.get_ydata()).max() < 0.08
    with pytest.raises(ValueError, match="The 'strategy' parameter of plot_calibration"):
        plot_calibration(y, p, strategy="bogus")


def test_gains_reach_one_and_lift_ends_at_one(scored):
    y, p = scored
    fig = plot_gains_lift(y, p)[0].figure
    gains, lift = fig.axes[0].get_lines()[0], fig.axes[1].get_lines()[0]
    assert gains.get_ydata()[-1] == pytest.approx(1.0)
    assert lift.get_ydata()[-1] == pytest.approx(1.0)
    assert lift.get_ydata()[0] > 1.5                       # the top of a good score is enriched
    assert np.all(np.diff(gains.get_ydata()) >= 0)


def test_score_distribution_has_one_histogram_per_class(scored):
    y, p = scored
    fig = plot_score_distribution(y, p, bins=20).figure
    assert len(fig.axes[0].patches) == 40
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels[1] == f"event (n={int(y.sum()):,})"


def test_plots_draw_on_a_given_axes(scored):
    from matplotlib.figure import Figure

    y, p = scored
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_roc(y, p, ax=ax) is ax and plot_calibration(y, p, ax=ax) is ax      # ax in, Axes out
    two = Figure().subplots(1, 2)
    got = plot_gains_lift(y, p, ax=two)
    assert list(got) == list(two) and got[0].get_title() == "Cumulative gains"
    with pytest.raises(ValueError, match="The 'ax' parameter of plot_gains_lift must be two matplotlib Axes"):
        plot_gains_lift(y, p, ax=ax)


def test_fig_argument_of_two_panel_plots_is_deprecated(scored):
    from matplotlib.figure import Figure

    y, p = scored
    fig = Figure()
    with pytest.warns(FutureWarning, match=r"plot_decile_table\(fig=...\) is deprecated"):
        axes = plot_decile_table(decile_table(y, p), fig=fig)
    assert [a.figure for a in axes] == [fig, fig] and len(fig.axes) == 2
    with pytest.warns(FutureWarning, match=r"plot_gains_lift\(fig=...\) is deprecated"):
        assert plot_gains_lift(y, p, fig=Figure())[1].get_title() == "Cumulative lift"


def test_shap_summary_orders_by_importance_and_says_log_odds(seed):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"small": rng.normal(size=500), "big": rng.normal(size=500)})
    sv = np.c_[0.1 * X["small"], 2.0 * X["big"]]
    fig = plot_shap_summary(sv, X, kind="bar").figure
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["small", "big"]      # top of the axis = last
    assert "log-odds" in ax.get_xlabel() and "log-odds" in ax.get_title()
    bees = plot_shap_summary(sv, X, kind="beeswarm", units=None).figure
    assert "log-odds" not in bees.axes[0].get_xlabel()
    assert len(bees.axes) == 2                                                  # colour bar of feature value
    assert _renders(bees)


def test_shap_summary_errors(seed):
    sv = np.zeros((10, 2))
    with pytest.raises(ValueError, match="The 'kind' parameter of plot_shap_summary must be one of"):
        plot_shap_summary(sv, kind="violin")
    with pytest.raises(ValueError, match="feature_names has 3 names but shap_values has 2 columns"):
        plot_shap_summary(sv, feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="shap_values must be 2-D"):
        plot_shap_summary(np.zeros(5))
    with pytest.raises(ValueError, match=r"X has shape \(10, 3\) but shap_values has shape \(10, 2\)"):
        plot_shap_summary(sv, np.zeros((10, 3)))


def test_shap_summary_accepts_an_explanation(seed):
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(seed)
    ex = shap.Explanation(values=rng.normal(size=(50, 2)), data=rng.normal(size=(50, 2)),
                          feature_names=["f1", "f2"])
    fig = plot_shap_summary(ex, kind="beeswarm").figure
    assert {t.get_text() for t in fig.axes[0].get_yticklabels()} == {"f1", "f2"}


def test_decile_table_figure_shows_the_table(scored):
    y, p = scored
    t = decile_table(y, p)
    fig = plot_decile_table(t)[0].figure
    bars = [r.get_height() for r in fig.axes[0].patches]
    assert bars == pytest.approx(t["event_rate"].tolist())
    table = fig.axes[1].tables[0]
    assert table.get_celld()[(0, 0)].get_text().get_text() == "count"
    assert _renders(fig)


def test_clv_decile_table_figure_draws_predicted_and_actual(seed):
    rng = np.random.default_rng(seed)
    pred = rng.gamma(2, 50, 1000)
    t = clv_decile_table(pred, pred * rng.lognormal(0, 0.3, 1000))
    fig = plot_decile_table(t)[0].figure
    assert len(fig.axes[0].patches) == 20
    assert fig.axes[0].get_title() == "Predicted vs actual by decile of prediction"
