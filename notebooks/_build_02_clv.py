"""Build and execute notebooks/02_clv.ipynb (run from the repository root or notebooks/)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

cells = [
    ("md", """# Customer lifetime value on CDNOW

`crmml.clv` on the CDNOW master data (23,570 customers who first bought in Q1 1997, 69,659 transactions to
June 1998; Fader, Hardie & Lee 2005). We calibrate on purchases before **1997-10-01**, hold out the next
nine months, and check the BG/NBD and Pareto/NBD forecasts against what customers actually did.
Time unit: days (`freq="D"`, same-day purchases collapse into one occasion)."""),
    ("code", """import warnings
import matplotlib.pyplot as plt
import pandas as pd
from crmml.clv import (BetaGeoModel, ParetoNBDModel, GammaGammaModel, CLVModel, calibration_holdout,
                       evaluate_holdout, calibration_holdout_table, plot_calibration_holdout,
                       plot_p_alive_matrix, plot_clv_distribution)
from crmml.datasets import load_cdnow, load_cdnow_summary

tx = load_cdnow()
summary = calibration_holdout(tx, calibration_end="1997-10-01", observation_end="1998-07-01")
summary.describe().T.round(2)"""),
    ("md", """## Published values first
On the 2,357-customer sample of the BG/NBD paper (weeks) the fits reproduce the published parameters and
log-likelihoods (sum over customers, the papers' scale), with standard errors from the observed
information."""),
    ("code", """sample = load_cdnow_summary()
bg_paper = BetaGeoModel().fit(sample)
pn_paper = ParetoNBDModel().fit(sample)
print(f"BG/NBD LL {bg_paper.log_likelihood_:.1f}   Pareto/NBD LL {pn_paper.log_likelihood_:.1f}")
pd.concat({"BG/NBD": bg_paper.summary_, "Pareto/NBD": pn_paper.summary_}).round(3)"""),
    ("md", """## Holdout check on CDNOW full
Per-customer error of the expected holdout purchases and the total. lifetimes' BG/NBD on the same split
gives MAE 0.819, RMSE 1.733, correlation 0.669 and 16,874 predicted vs 19,684 actual."""),
    ("code", """bg = BetaGeoModel().fit(summary)
pn = ParetoNBDModel().fit(summary)
pd.DataFrame({"BG/NBD": evaluate_holdout(bg, summary)[1], "Pareto/NBD": evaluate_holdout(pn, summary)[1]}).round(3)"""),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(12, 4))
plot_calibration_holdout(bg, summary, ax=axes[0])
plot_calibration_holdout(pn, summary, ax=axes[1])
axes[1].set(title="Calibration vs holdout (Pareto/NBD)");"""),
    ("md", """Both models under-forecast the holdout total by 13-14% (lifetimes' BG/NBD gives the same figures on this
split): repeat buying in the nine holdout months did not decay as fast as these stationary models expect
from the calibration months. The gradient over calibration frequency is tracked well.

## P(alive) over recency and frequency
A customer observed for the whole calibration window (T = 272 days): frequent buyers who have been quiet
for a long time are the likeliest to have left."""),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
plot_p_alive_matrix(bg, T=272, max_frequency=20, ax=axes[0])
plot_p_alive_matrix(pn, T=272, max_frequency=20, ax=axes[1])
axes[0].set(title="P(alive), BG/NBD"); axes[1].set(title="P(alive), Pareto/NBD");"""),
    ("md", """## Discounted CLV with intervals
`CLVModel` chains the purchase model with Gamma-Gamma spend and discounts monthly cash flows at an
annual rate (10% here) over a 12-month horizon from the cut-off. Customers without a repeat purchase get
the population mean spend; customers whose repeat spend net of returns is not positive get 0 (column
`rule`). `predict_interval` gives 90% intervals that combine parameter uncertainty with each customer's
posterior (alive or not, purchase rate, spend)."""),
    ("code", """clv = CLVModel(purchase_model="bgnbd", horizon_days=365, discount_rate=0.10).fit(tx, as_of="1997-10-01")
pred = clv.predict()
iv = clv.predict_interval(level=0.9, n_draws=200, random_state=0)
print(clv.spend_model_.summary_.round(3))
print(pred["rule"].value_counts())
pred.join(iv).sort_values("clv", ascending=False).head(8).round(2)"""),
    ("code", """fig, ax = plt.subplots(figsize=(7, 4))
plot_clv_distribution(pred, ax=ax);"""),
    ("md", """Actual spend over the next 12 months (the holdout is 9 months, so this is only a sanity check of the
ranking): customers in the top CLV decile spent far more in the holdout than the rest."""),
    ("code", """hold = tx[(tx["timestamp"] >= "1997-10-01") & (tx["timestamp"] < "1998-07-01")]
actual = hold.groupby("customer_id")["amount"].sum().reindex(pred.index, fill_value=0.0)
decile = pd.qcut(pred["clv"].rank(method="first"), 10, labels=range(1, 11))
pd.DataFrame({"predicted clv": pred["clv"], "actual 9-month spend": actual}).groupby(decile, observed=True).mean().round(2)"""),
]

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
            for kind, src in cells]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, HERE / "02_clv.ipynb")
print("wrote", HERE / "02_clv.ipynb", (HERE / "02_clv.ipynb").stat().st_size, "bytes")
