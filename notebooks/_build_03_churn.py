"""Build and execute notebooks/03_churn.ipynb (run from the repository root or notebooks/)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

cells = [
    ("md", """# Churn risk on real retail data

The UCI *Online Retail* log (a UK gift retailer, Dec 2010 - Dec 2011, 4,372 customers) through
`crmml.features` (point-in-time features) and `crmml.churn` (labels, calibrated xgboost, SHAP drivers,
walk-forward backtest). **Churn** here: a customer who bought in the 365 days before the cutoff and does not buy
in the next 45 days. Every number below is out of time: the model for a cutoff is trained only on snapshots
whose 45-day label windows end at or before that cutoff."""),
    ("code", """import warnings
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmml.churn import ChurnModel, backtest
from crmml.datasets import load_online_retail
from crmml.evaluation import decile_table, expected_calibration_error
from crmml.features import feature_catalog

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 80)
tx = load_online_retail()
print(f"{len(tx):,} lines, {tx['customer_id'].nunique():,} customers, "
      f"{tx['timestamp'].min().date()} .. {tx['timestamp'].max().date()}")"""),
    ("md", "## The feature factory\nEvery feature is registered with its family, window and description:"),
    ("code", """cat = feature_catalog()
print(len(cat), "transaction features (events and customer attributes add more)")
cat.groupby("family").size().rename("features").to_frame().T"""),
    ("md", """## Walk-forward backtest: model beside the recency-frequency baseline
Three test cutoffs; for each, three training snapshots 45, 90 and 135 days earlier (the latest one validates
for early stopping and calibration)."""),
    ("code", """cutoffs = ["2011-09-01", "2011-09-25", "2011-10-20"]
res = backtest(tx, cutoffs, n_train_snapshots=3, model=ChurnModel())   # default: depth-2 trees, strong regularisation
cols = ["cutoff", "model", "n_customers", "churn_rate", "roc_auc", "pr_auc", "brier", "lift_top_decile",
        "capture_top_decile"]
res.metrics[cols].round({c: 3 for c in cols[3:]})"""),
    ("code", "res.summary.round(3)"),
    ("md", """## Calibration
Predicted churn probability against the observed churn rate, by decile of prediction, pooled over the three
test cutoffs."""),
    ("code", """p = res.predictions
fig, ax = plt.subplots(figsize=(5.5, 5))
for col, label in (("p_model", "churn model"), ("p_baseline", "baseline (recency + frequency)")):
    bins = pd.qcut(p[col], 10, duplicates="drop")
    g = p.groupby(bins, observed=True).agg(pred=(col, "mean"), obs=("churned", "mean"))
    ece = expected_calibration_error(p["churned"], p[col])
    ax.plot(g["pred"], g["obs"], "o-", label=f"{label} (ECE {ece:.3f})")
ax.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
ax.set(xlabel="predicted churn probability", ylabel="observed churn rate", xlim=(0, 1), ylim=(0, 1),
       title="Calibration on the test cutoffs")
ax.legend(loc="upper left", fontsize=8)
plt.show()"""),
    ("md", "## Gains by decile (latest cutoff)"),
    ("code", """last = max(res.models)
pl = p[p["cutoff"] == last]
decile_table(pl["churned"], pl["p_model"]).round(3)"""),
    ("md", """## Why are the top-risk customers at risk?
SHAP values (xgboost `pred_contribs`) of the model scored at the latest cutoff; each driver shows the feature,
the customer's value and its contribution to the log-odds of churning."""),
    ("code", """model, X = res.models[last], res.test_features[last]
risk = model.predict_risk(X).sort_values(ascending=False)
drivers = model.explain(X.loc[risk.index[:8]], top_n=3)
drivers[["churn_probability", "driver_1", "driver_2", "driver_3"]].round(3)"""),
    ("md", "## Global importance (mean |SHAP| at the latest cutoff)"),
    ("code", """imp = model.global_importance(X).head(15)
fig, ax = plt.subplots(figsize=(6, 4.5))
ax.barh(imp.index[::-1], imp["mean_abs_shap"][::-1])
ax.set(xlabel="mean |SHAP| (log-odds)", title="Top 15 features")
plt.show()"""),
    ("code", """m = res.metrics.pivot(index="cutoff", columns="model", values="roc_auc")
wins = int((m["churn_model"] > m["baseline"]).sum())
gain = (m["churn_model"] - m["baseline"]).mean()
print(f"The model beats the baseline on ROC-AUC at {wins} of {len(m)} cutoffs "
      f"(mean gain {gain:+.3f}); mean churn rate {res.metrics['churn_rate'].mean():.0%}.")"""),
    ("md", """**Reading the results.** In this log recency and frequency carry most of the signal: what the other 200
features add over the two-variable baseline is a small gain in ROC-AUC, not a different league. Top-decile lift
is modest because the churn rate at a 45-day horizon is high: most customers of an occasional-gift shop do not buy
in any given 45 days. Missing values in the drivers mean "not defined" (for example no gap statistics for a
customer with a single purchase in the window); the model learns what missingness means."""),
]

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
            for kind, src in cells]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, HERE / "03_churn.ipynb")
