"""HTML reports: self-contained, with metrics beside the baseline, decodable images, and tables."""

import base64
import io
import re

import numpy as np
import pandas as pd
import pytest

from crmml.evaluation import classification_report, report, summarize_data, top_drivers

_IMG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def decode_images(text):
    from PIL import Image

    sizes = []
    for b64 in _IMG.findall(text):
        img = Image.open(io.BytesIO(base64.b64decode(b64)))
        img.load()
        sizes.append(img.size)
    return sizes


@pytest.fixture
def churn_like(seed):
    rng = np.random.default_rng(seed)
    n = 1500
    X = pd.DataFrame({"recency_days": rng.exponential(60, n), "n_orders_365d": rng.poisson(3, n).astype(float)})
    logit = -2 + 0.02 * X["recency_days"] - 0.3 * X["n_orders_365d"]
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    sv = np.c_[0.02 * (X["recency_days"] - X["recency_days"].mean()),
               -0.3 * (X["n_orders_365d"] - X["n_orders_365d"].mean())]
    base = 1 / (1 + np.exp(-(X["recency_days"] / 60 - 2)))
    return X, y, p.to_numpy(), sv, base.to_numpy()


def test_classification_report_is_self_contained_and_complete(tmp_path, churn_like):
    X, y, p, sv, base = churn_like
    backtest = pd.DataFrame({"cutoff": pd.to_datetime(["2011-06-01", "2011-07-01"]), "roc_auc": [0.71, 0.74]})
    out = classification_report(tmp_path / "sub" / "churn.html", y, p, title="Churn <risk>", baseline_prob=base,
                                baseline_name="recency only", shap_values=sv, X=X, backtest=backtest,
                                data_summary={"rows": 1500, "customers": 1500, "as_of": "2011-09-01"},
                                notes=["SHAP values are in log-odds."])
    text = out.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert "Churn &lt;risk&gt;" in text                                  # escaped, not raw HTML
    assert not re.search(r'(src|href)="(?!data:)', text)                 # nothing loaded from outside
    for needle in ("roc_auc", "pr_auc", "ks", "brier", "ece", "recency only", "difference", "Decile table",
                   "Top drivers", "Backtest per cutoff", "2011-07-01", "as_of", "recency_days"):
        assert needle in text, needle
    sizes = decode_images(text)
    assert len(sizes) == 6                        # 5 standard plots + SHAP; the decile table is a table only
    assert all(w > 200 and h > 200 for w, h in sizes)
    # the model's AUC is in the metrics table beside the baseline's
    from crmml.evaluation import roc_auc

    for auc in (roc_auc(y, p), roc_auc(y, base)):
        assert f">{auc:.4f}".rstrip("0") in text


def test_report_generic_api_tables_and_figures(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    big = pd.DataFrame({"segment": [f"s{i}" for i in range(80)], "n": np.arange(80)})
    out = report(tmp_path / "r.html", title="Segments", figures=[("Sizes", fig)],
                 tables={"Segment table": big, "A series": pd.Series([1.5, 2.5], name="x")},
                 metrics={"silhouette": 0.41}, max_table_rows=60)
    text = out.read_text()
    assert len(decode_images(text)) == 1
    assert "showing 60 of 80 rows" in text and "s59" in text and "s60" not in text
    assert "silhouette" in text and "difference" not in text              # no baseline column


def test_metric_direction_colours_only_when_the_interval_excludes_zero(tmp_path):
    metrics = {"roc_auc": 0.8, "brier": 0.10, "mae_value": 3.0, "pr_auc": 0.5, "predicted_total": 5000.0}
    base = {"roc_auc": 0.7, "brier": 0.12, "mae_value": 2.0, "pr_auc": 0.45, "predicted_total": 7000.0}
    # without intervals a difference is shown but never judged
    text = report(tmp_path / "m.html", title="t", metrics=metrics, baseline_metrics=base).read_text()
    assert 'class="better"' not in text and 'class="worse"' not in text
    assert "<td>-2,000</td>" in text and "+0.1</td>" in text
    ci = pd.DataFrame({"difference_lower": [0.05, -0.03, 0.4, -0.02, -3000.0],
                       "difference_upper": [0.15, -0.01, 1.6, 0.12, -1000.0]}, index=list(metrics))
    text = report(tmp_path / "c.html", title="t", metrics=metrics, baseline_metrics=base,
                  metric_intervals=ci).read_text()
    cls = {m: re.search(rf'data-metric="{m}">(?:<td[^>]*>.*?</td>){{3}}<td( class="(\w+)")?', text).group(2)
           for m in metrics}
    # roc_auc up (better), brier down (better), mae up (worse); pr_auc's interval straddles 0; totals not judged
    assert cls == {"roc_auc": "better", "brier": "better", "mae_value": "worse", "pr_auc": None,
                   "predicted_total": None}
    assert "[-0.02, 0.12]" in text


def test_summarize_data_and_top_drivers(churn_like):
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "timestamp": pd.to_datetime(["2024-01-02", "2024-02-01",
                                                                               "2024-01-05"])})
    s = summarize_data(tx, as_of="2024-03-01")
    assert s == {"rows": 3, "customers": 2, "first date": "2024-01-02", "last date": "2024-02-01",
                 "as_of": "2024-03-01 00:00:00"}
    X, y, p, sv, base = churn_like
    d = top_drivers(sv, list(X.columns))
    assert d.index[0] == "recency_days" and d["share"].sum() == pytest.approx(1.0)
    assert d.loc["recency_days", "mean_abs_shap"] == pytest.approx(np.abs(sv[:, 0]).mean())


def test_tables_keep_ids_flatten_multiindex_and_accept_axes(tmp_path):
    from matplotlib.figure import Figure

    ax = Figure(figsize=(3, 2)).add_subplot()
    ax.plot([0, 1], [0, 1])
    summary = pd.DataFrame([[0.71, 0.02]], index=pd.Index(["churn_model"], name="model"),
                           columns=pd.MultiIndex.from_tuples([("roc_auc", "mean"), ("roc_auc", "std")]))
    offers = pd.DataFrame({"customer_id": [13047], "product_id": [22720], "score": [12345.678],
                           "reason": ["bought it 5 times"]})
    text = report(tmp_path / "t.html", title="t", figures={"an axes": ax},
                  tables={"summary": summary, "offers": offers}).read_text()
    assert len(decode_images(text)) == 1
    assert "<th>roc_auc mean</th>" in text and "<th>model</th>" in text
    assert "<td>13047</td>" in text and "<td>22720</td>" in text and "<td>12,345.7</td>" in text
    assert '<td class="t">bought it 5 times</td>' in text


@pytest.mark.parametrize("label", [0, 1])
def test_one_class_report_skips_undefined_curves(tmp_path, label):
    import warnings

    y = np.full(60, label)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        text = classification_report(tmp_path / "one.html", y, np.linspace(0, 1, 60), title="t").read_text()
    assert "Only one outcome class is present" in text and "ROC curve" not in text
    assert len(decode_images(text)) == (2 if label == 0 else 3)    # calibration, distribution (+ gains)


def test_sections_lay_out_tables_and_plots_and_refuse_anything_else(tmp_path):
    from matplotlib.figure import Figure

    ax = Figure(figsize=(3, 2)).add_subplot()
    ax.plot([0, 1], [0, 1], label="model")
    small = pd.DataFrame({"psi": [0.1]}, index=pd.Index(["x"], name="feature"))
    text = report(tmp_path / "s.html", title="t", sections=[("Drift", [("PSI", small), ("Plot", ax)])]).read_text()
    body = text[text.index("<h2>Drift</h2>"):]
    assert body.index("<h3>PSI</h3>") < body.index('alt="Plot"')          # the table beside (before) its plot
    assert '<div><h3>PSI</h3>' in body                                     # narrow: shares the row
    with pytest.raises(TypeError, match="'oops' must be a matplotlib Figure or Axes"):
        report(tmp_path / "e.html", title="t", sections=[("S", [("oops", "not a plot")])])
