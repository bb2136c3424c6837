"""Build and execute notebooks/01_segmentation.ipynb (run from the repository root or notebooks/)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent

cells = [
    ("md", """# Customer segmentation on real retail data

`crmml.segmentation` on the full UCI Online Retail invoices (a UK gift retailer, 4,372 customers,
2010-12-01..2011-12-09; read from `../shared/data`) and on CDNOW:

1. an **RFM table** (recency, frequency = distinct invoices, net monetary value with returns netted, tenure),
2. **RFM scores and named segments** (Champions ... Lost) with tie-aware quintile edges,
3. a check that the segments **order future spend** (history before a split date, spend in the next 90 days),
4. **data-driven clusters** with an automatic k, readable names and if-then rules,
5. **rule segments** written by the business."""),
    ("code", """import matplotlib.pyplot as plt
import pandas as pd
from crmml.datasets import load_online_retail, load_cdnow
from crmml.segmentation import (rfm_table, RFMSegmenter, CustomerClusterer, RuleSegmenter,
                                DEFAULT_RFM_SEGMENTS, plot_segment_sizes, plot_rf_grid, plot_cluster_profiles)

tx = load_online_retail(sample=False)          # full file from ../shared/data
rfm = rfm_table(tx, as_of="2011-12-10")        # only rows before as_of are read
print(f"{len(tx):,} invoice lines -> {len(rfm):,} customers "
      f"({tx['customer_id'].nunique() - len(rfm)} with only returns in the data are left out, documented rule)")
rfm.describe().T.round(1)"""),
    ("md", """## RFM scores and named segments
Edges are learned in `fit` and reused in `transform`. Ties are never split: a third of these customers bought
exactly once, so F=1 is that whole group and the remaining customers are split evenly over F=2..5.
The segment map is a table (R score x FM = ceil((F+M)/2)); every (R, F, M) cell maps to exactly one segment
and the table can be replaced."""),
    ("code", """seg = RFMSegmenter().fit(rfm)
print("R edges (days):", seg.r_edges_.round(1))
print("F edges (invoices):", seg.f_edges_, " M edges (GBP):", seg.m_edges_.round(0))
scores = seg.transform(rfm)
seg.summary(rfm).round(2)"""),
    ("code", """DEFAULT_RFM_SEGMENTS"""),
    ("code", """fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
plot_segment_sizes(seg.summary(rfm), ax=axes[0])
plot_rf_grid(seg, rfm, ax=axes[1])
fig.tight_layout()"""),
    ("md", """## Do the segments order future value?
Segments are built on history before a split date; the table shows each segment's mean net spend in the
following 90 days (non-buyers count as 0). This is the acceptance test in
`tests/segmentation/test_rfm_real_data.py`."""),
    ("code", """def future_value(tx, split, horizon=90):
    split = pd.Timestamp(split)
    r = rfm_table(tx, split)
    s = RFMSegmenter().fit(r).transform(r)["segment"]
    w = tx[(tx["timestamp"] >= split) & (tx["timestamp"] < split + pd.Timedelta(days=horizon))]
    fut = w.groupby("customer_id")["amount"].sum().reindex(r.index).fillna(0.0)
    return fut.groupby(s, observed=False).mean()   # s is categorical: rows in segment-table order

order = ["Champions", "Loyal Customers", "At Risk", "Hibernating", "Lost"]
retail = pd.DataFrame({d: future_value(tx, d) for d in ["2011-03-01", "2011-06-01", "2011-09-01"]})
retail["mean"] = retail.mean(axis=1)
retail.round(1)"""),
    ("code", """cd = load_cdnow()
cdnow = pd.DataFrame({d: future_value(cd, d) for d in ["1997-07-01", "1997-10-01", "1998-01-01", "1998-04-01"]})
cdnow["mean"] = cdnow.mean(axis=1)
cdnow.loc[order].round(2)"""),
    ("md", """Champions > Loyal Customers > At Risk > {Hibernating, Lost} holds at every split on both datasets.
Hibernating (R=2) and Lost (R=1) are mostly one-time buyers who differ only in how long ago they bought; their
90-day spend is close and their order flips at one split of each dataset, while the mean over splits keeps
Hibernating > Lost. Segments outside the chain (Potential Loyalist, New Customers ...) are recent customers
whose value is still uncertain.

## Data-driven clusters
`CustomerClusterer` puts the features on a log scale, robust-scales them, picks k by silhouette on a seeded
sample, names clusters from their z-scores and fits a depth-3 tree that explains membership."""),
    ("code", """cc = CustomerClusterer(features=["recency", "frequency", "monetary", "tenure"], random_state=0).fit(rfm)
print("silhouette by k:", cc.k_scores_.round(3).to_dict(), "-> k =", cc.n_clusters_)
print(f"tree fidelity: {cc.fidelity_:.1%}")
cc.profiles_.round(2)"""),
    ("code", """fig, ax = plt.subplots(figsize=(9, 3.5))
plot_cluster_profiles(cc, ax=ax)
fig.tight_layout()"""),
    ("code", """pd.set_option("display.max_colwidth", 120)
cc.rules().round(3)"""),
    ("md", """How the clusters relate to the RFM segments (share of each segment in each cluster):"""),
    ("code", """pd.crosstab(scores["segment"], cc.transform(rfm)["segment"], normalize="index").round(2)"""),
    ("md", """## Business rule segments
Ordered rules (pandas query strings or callables), first match wins; a rule naming a missing column fails
at `fit` with the rule named. String rules can be saved with `crmml.persistence`."""),
    ("code", """rules = RuleSegmenter({
    "high net worth": "monetary >= 5000",
    "growth potential": "frequency >= 3 and recency <= 60 and avg_order_value >= 300",
    "low-frequency active": "frequency <= 2 and recency <= 90",
    "lapsed": "recency > 180",
}, default="core").fit(rfm)
tiers = rules.transform(rfm)
from crmml.segmentation import segment_summary
segment_summary(tiers, rfm[["recency", "frequency", "monetary"]]).round(2)"""),
]

nb = nbformat.v4.new_notebook()
nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "md" else nbformat.v4.new_code_cell(src)
            for kind, src in cells]
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, HERE / "01_segmentation.ipynb")
print("wrote", HERE / "01_segmentation.ipynb", (HERE / "01_segmentation.ipynb").stat().st_size, "bytes")
