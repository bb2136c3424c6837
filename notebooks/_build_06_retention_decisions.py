"""Build and execute notebooks/06_retention_decisions.ipynb (run from the repository root or notebooks/)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

cells = [
    ("md", """# Whom is it worth saving, and by when?

`crmml.decisions.RetentionPlanner` combines a churn model and a CLV model fitted **at the same cutoff**:
per active customer the probability of no purchase in the next 45 days, the discounted value over the next year
*if the customer stays* (`value_if_retained`), their product (`value_at_risk`), and, given a cost and an assumed
effect of the retention action, the expected net gain of acting, under a budget. `crmml.churn.TimeToChurnModel`
adds the *when*: a survival curve per customer, so the risk at any horizon.

Data: the 1,500-customer sample of UCI *Online Retail* shipped with crmml (the full-log figures are in the
README). Everything is point in time: nothing at or after the cutoff is read to fit or score."""),
    ("code", """import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmml.churn import ChurnModel, TimeToChurnModel, make_time_to_event
from crmml.datasets import load_online_retail
from crmml.decisions import RetentionPlanner, capture_table, lost_value
from crmml.evaluation import concordance_index

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 90)
tx = load_online_retail(sample=True)
cutoff = "2011-09-01"
print(f"{len(tx):,} lines, {tx['customer_id'].nunique():,} customers; cutoff {cutoff}")"""),
    ("md", """## The retention plan
A voucher costing 5 (GBP, the currency of the log) assumed to remove 20% of a customer's churn risk; budget 500."""),
    ("code", """planner = RetentionPlanner(churn_model=ChurnModel(n_estimators=150, learning_rate=0.1),
                           windows=(30, 90, 365)).fit(tx, cutoff)
plan = planner.plan(cost=5.0, effect=0.2, budget=500)
cols = ["churn_probability", "value_if_retained", "value_at_risk", "expected_net_gain", "selected"]
print(f"{plan['selected'].sum()} customers selected, expected net gain {plan.loc[plan['selected'], 'expected_net_gain'].sum():,.0f}")
plan[cols].head(8).round(2)"""),
    ("md", "Each row says why: the churn drivers (SHAP) and the value drivers (CLV model)."),
    ("code", """plan[["churn_reasons", "value_reasons"]].head(4)"""),
    ("md", """## Did the ranking find the value that was actually lost?
Lost value: the prior-year spend of the customers who then did not buy in the 45 days after the cutoff.
Share of the total found in the top 10% / 20% of each ranking (random: 10% / 20%)."""),
    ("code", """s = planner.scores_
lost = lost_value(tx, cutoff)["lost_value"]
capture_table(pd.DataFrame({"value at risk": s["value_at_risk"], "churn risk only": s["churn_probability"],
                            "CLV only": s["clv"]}), lost).round(3)"""),
    ("md", """Churn risk alone ranks the one-off small buyers first (they are the likeliest to lapse, and worth little);
CLV alone ranks loyal big spenders who were never going to leave. Their product targets both at once."""),
    ("md", """## By when: survival curves
`TimeToChurnModel` is a gradient-boosted discrete-time hazard model on stacked point-in-time snapshots.
S(t) is the probability of no purchase within t days of the cutoff, i.e. crmml's churn probability at horizon
t, for every t up to 180 days."""),
    ("code", """ttc = TimeToChurnModel(n_estimators=150, learning_rate=0.1, windows=(30, 90, 365)).fit(tx, cutoff)
days = np.arange(15, 181, 15)
curves = ttc.predict_survival(days=days)
fig, ax = plt.subplots(figsize=(6, 4))
for cid in plan.index[:3].tolist() + s["churn_probability"].sort_values().index[:2].tolist():
    ax.plot(days, curves.loc[cid], "o-", ms=3, label=f"customer {cid}")
ax.set(xlabel="days after the cutoff", ylabel="S(t) = P(no purchase yet)", ylim=(0, 1),
       title="Per-customer survival curves")
ax.legend(fontsize=8)
plt.show()"""),
    ("code", """tte = make_time_to_event(tx, cutoff).reindex(ttc.features_.index)
c = concordance_index(tte["duration_days"], ttc.predict_expected_days(), tte["event"])
print(f"concordance of the predicted time to the next purchase, observed after the cutoff: {c:.3f}")
med = ttc.predict_median()
back = np.isfinite(med)
print(f"{back.mean():.0%} of the active customers are expected back within 180 days (S falls below 0.5); "
      f"their median time to the next purchase: {med[back].median():.0f} days")
ttc.predict_churn_probability(45).describe().round(3)"""),
    ("md", """**Caveats.** The effect of the action is an assumption here; measure it with a randomised test and an
uplift model (notebook 07) before trusting the net gains. `value_if_retained` divides the CLV by
`max(p_alive, 0.1)`: customers the CLV model already considers gone get a bounded value."""),
]

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
            for kind, src in cells]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, HERE / "06_retention_decisions.ipynb")
