"""The classification report a reviewer trusts: the baseline on every curve, intervals, counts, thresholds."""

import numpy as np
import pandas as pd
import pytest
from report_html import metric_rows, number, plot_data, series, table

from crmml.evaluation import (
    bootstrap_metrics,
    calibration_bins,
    classification_metrics,
    classification_report,
    roc_auc,
    threshold_table,
)
from crmml._utils._numeric import trapezoid
from crmml.evaluation._bootstrap import fast_classification_metrics
from crmml.exceptions import ParameterError


@pytest.fixture(scope="module")
def scored():
    rng = np.random.default_rng(7)
    n = 800
    x = rng.normal(size=n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(x - 1)))).astype(int)
    model = 1 / (1 + np.exp(-(x - 1)))
    weak = 1 / (1 + np.exp(-(0.3 * x + rng.normal(size=n) - 1)))     # a clearly worse baseline
    return y, np.round(model, 3), weak                                    # rounded: ties in the model's scores


@pytest.fixture(scope="module")
def churn_text(scored, tmp_path_factory):
    y, p, b = scored
    out = classification_report(tmp_path_factory.mktemp("r") / "c.html", y, p, baseline_prob=b,
                                baseline_name="recency only", title="Churn", n_boot=60, cost_per_contact=1.0,
                                value_per_event=8.0)
    return out.read_text()


@pytest.mark.parametrize("caption", ["ROC curve", "Precision-recall curve", "Calibration curve", "Cumulative gains",
                                     "Net value by targeting depth"])
def test_every_comparison_plot_shows_model_and_baseline(churn_text, caption):
    s = series(churn_text, caption)
    assert {"model", "recency only"} <= set(s)
    assert s["model"]["y"] != s["recency only"]["y"]                      # two different curves, not one twice


def test_plotted_curves_are_the_right_curves(churn_text, scored):
    y, p, b = scored
    roc = series(churn_text, "ROC curve")
    for name, score in (("model", p), ("recency only", b)):
        # the embedded curve is thinned to 200 points: its area is the AUC up to that
        assert trapezoid(roc[name]["y"], roc[name]["x"]) == pytest.approx(roc_auc(y, score), abs=1e-3)
        assert f"AUC {roc_auc(y, score):.3f}" in roc[name]["label"]
        assert (roc[name]["x"][-1], roc[name]["y"][-1]) == (1.0, 1.0)
    gains = series(churn_text, "Cumulative gains")["recency only"]
    i = int(np.argmin(np.abs(np.asarray(gains["x"]) - 0.1)))            # the top 10%
    top = np.argsort(-b, kind="mergesort")[: round(gains["x"][i] * len(y))]
    assert gains["y"][i] == pytest.approx(y[top].sum() / y.sum(), abs=1e-6)


def test_calibration_bins_have_counts_and_intervals(churn_text, scored):
    y, p, _ = scored
    bins = table(churn_text, "Calibration bins (model; observed rate with a 95% Wilson interval)")
    counts = bins["count"].map(number)
    assert counts.sum() == len(y)
    assert counts.tolist() == calibration_bins(y, p)["count"].tolist()
    lo, obs, hi = (bins[c].map(number) for c in ("lower", "observed", "upper"))
    assert ((lo <= obs) & (obs <= hi) & (hi - lo > 0)).all()
    cal = series(churn_text, "Calibration curve")
    assert len(cal["model"]["x"]) == len(bins)


def test_decile_table_appears_once_as_a_table(churn_text):
    assert churn_text.count("<h3>Decile table</h3>") == 1
    assert 'alt="Decile table"' not in churn_text and "Decile table" not in plot_data(churn_text)


def test_metrics_have_intervals_and_a_clear_win_is_coloured(churn_text, scored):
    rows = metric_rows(churn_text)
    cls, lo, hi, cells = rows["roc_auc"]
    assert cls == "better" and 0 < lo < hi                               # the weak baseline is clearly worse
    assert "[" in cells[1] and "[" in cells[2]                            # model and baseline with their intervals
    assert rows["brier"][0] == "better" and rows["brier"][2] < 0          # lower is better: the interval is < 0
    assert rows["n"][0] is None and rows["event_rate"][0] is None         # not judged


def test_no_colour_when_the_difference_interval_includes_zero(scored, tmp_path):
    from crmml.evaluation import report

    y, p, _ = scored
    rng = np.random.default_rng(3)
    twin = np.clip(p + rng.normal(0, 0.02, len(p)), 0, 1)                # about as good as the model
    ci = bootstrap_metrics(y, p, twin, n_boot=60)
    text = report(tmp_path / "t.html", title="t", metrics=classification_metrics(y, p),
                  baseline_metrics=classification_metrics(y, twin), metric_intervals=ci).read_text()
    rows = metric_rows(text)
    cls, lo, hi, _ = rows["roc_auc"]
    assert lo < 0 < hi and cls is None
    assert (lo, hi) == (ci.loc["roc_auc", "difference_lower"], ci.loc["roc_auc", "difference_upper"])
    for m, (c, lo, hi, _) in rows.items():                                # whatever is coloured excludes 0
        assert c is None or lo > 0 or hi < 0, m


def test_threshold_view_counts_add_up(churn_text, scored):
    y, p, b = scored
    t = threshold_table(y, p, cost_per_contact=1.0, value_per_event=8.0)
    assert ((t["TP"] + t["FP"]) == t["contacted"]).all() and ((t["TP"] + t["FN"]) == y.sum()).all()
    assert ((t["TP"] + t["FP"] + t["FN"] + t["TN"]) == len(y)).all()
    for share, row in t.iterrows():
        top = np.argsort(-p, kind="mergesort")[: round(share * len(y))]
        assert row["TP"] == y[top].sum() and row["net_value"] == 8.0 * y[top].sum() - len(top)
    shown = table(churn_text, "Acting on the top share of customers (model)")
    assert shown["TP"].map(number).tolist() == t["TP"].tolist()
    assert "Acting on the top share of customers (recency only)" in churn_text


def test_threshold_table_refuses_half_a_cost_model():
    with pytest.raises(ValueError, match="give both cost_per_contact and value_per_event"):
        threshold_table([0, 1], [0.2, 0.8], cost_per_contact=1.0)
    with pytest.raises(ParameterError, match="'shares' parameter of threshold_table"):
        threshold_table([0, 1], [0.2, 0.8], shares=[0.0])


def test_fast_metrics_equal_classification_metrics():
    rng = np.random.default_rng(11)
    for n in (7, 60, 500):
        p = np.round(rng.random(n), 1)                                     # many ties
        y = (rng.random(n) < p).astype(int)
        assert fast_classification_metrics(y, p) == pytest.approx(classification_metrics(y, p), rel=1e-12,
                                                                 nan_ok=True)


def test_bootstrap_intervals_shrink_with_more_data_and_refuse_bad_parameters(scored):
    y, p, b = scored
    wide = bootstrap_metrics(y[:150], p[:150], n_boot=50)
    narrow = bootstrap_metrics(y, p, n_boot=50)
    width = lambda t: t.loc["roc_auc", "upper"] - t.loc["roc_auc", "lower"]   # noqa: E731
    assert width(narrow) < width(wide)
    t = bootstrap_metrics(y, p, b, n_boot=50)
    scored_metrics = t.drop(index=["n", "ece"])
    assert (scored_metrics["lower"] <= scored_metrics["value"]).all()
    assert (scored_metrics["value"] <= scored_metrics["upper"]).all()
    # ECE grows under resampling: no interval of its own, only of its difference from the baseline
    assert np.isnan(t.loc["ece", ["lower", "upper"]].astype(float)).all()
    assert t.loc["ece", "difference_lower"] < t.loc["ece", "difference_upper"]
    assert t.equals(bootstrap_metrics(y, p, b, n_boot=50))                # seeded
    with pytest.raises(ParameterError, match="'n_boot' parameter of bootstrap_metrics"):
        bootstrap_metrics(y, p, n_boot=0)
    with pytest.raises(ParameterError, match="'level' parameter of bootstrap_metrics"):
        bootstrap_metrics(y, p, level=1.0)
    with pytest.raises(ValueError, match="same length"):
        bootstrap_metrics(y, p, b[:10])
    one = bootstrap_metrics(np.zeros(40, int), np.linspace(0, 1, 40), n_boot=20)
    assert np.isnan(one.loc["roc_auc", ["value", "lower", "upper"]].astype(float)).all()


def test_plot_data_cannot_break_out_of_its_script_tag(tmp_path):
    from crmml.evaluation import drift_report

    evil = "</script><script>alert(1)</script>"
    ref = pd.DataFrame({evil: np.arange(50.0)})
    text = drift_report(tmp_path / "d.html", ref, ref + 10).read_text()
    assert "<script>alert(1)" not in text
    assert plot_data(text)["Distributions: reference and current"][0]["title"].startswith(evil)


def test_bootstrap_takes_any_metric_for_continuous_outcomes():
    rng = np.random.default_rng(5)
    actual = rng.gamma(2, 50, 600)
    good, noisy = actual + rng.normal(0, 10, 600), actual + rng.normal(0, 60, 600)

    def mae(a, v):
        return {"mae_value": float(np.abs(a - v).mean())}

    t = bootstrap_metrics(actual, good, noisy, metrics=mae, n_boot=50)
    assert t.loc["mae_value", "value"] == pytest.approx(np.abs(actual - good).mean())
    assert t.loc["mae_value", "difference_upper"] < 0                      # clearly smaller error
    with pytest.raises(ValueError, match="prediction has 1 NaN or infinite"):
        bootstrap_metrics(actual, np.r_[good[:-1], np.nan], metrics=mae)
    with pytest.raises(ValueError, match="y_true must contain only 0 and 1"):
        bootstrap_metrics(actual, good)                                    # the default metrics need 0/1


def test_model_and_baseline_are_scored_on_the_same_resamples(scored):
    """Paired bootstrap: a baseline equal to the model differs by exactly 0 on every resample, and a baseline that
    only rescales the model (same ranking) differs by exactly 0 on every ranking metric; unpaired resamples would
    give intervals of non-zero width."""
    y, p, _ = scored
    same = bootstrap_metrics(y, p, p.copy(), n_boot=40)
    resampled = same.index.drop("n")
    assert len(resampled) >= 8
    assert (same.loc[resampled, ["difference", "difference_lower", "difference_upper"]] == 0).all().all()
    assert same.loc["n", ["difference_lower", "difference_upper"]].isna().all()     # the size has no interval
    rescaled = bootstrap_metrics(y, p, p ** 2, n_boot=40)                  # monotone: the same order on [0, 1]
    ranking = [m for m in rescaled.index if m.startswith(("roc_auc", "pr_auc", "gini", "ks", "lift", "capture"))]
    assert len(ranking) >= 6
    assert (rescaled.loc[ranking, ["difference_lower", "difference_upper"]] == 0).all().all()
    assert rescaled.loc["brier", "difference_lower"] < rescaled.loc["brier", "difference_upper"]
