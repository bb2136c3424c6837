"""Build and execute notebooks/05_next_best_offer.ipynb (run from the repo root or notebooks/)."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell

cells = [
    md("""# Next-best-offer on a real gift retailer

`crmml.recommend.NextBestOffer` ranks, for every customer, the products to offer next. It mixes three
next-purchase signals, each a distribution over the catalogue:

* **co-occurrence** — "customers who buy X also buy Y": item-to-item cosine similarity from products bought in the
  same invoice (sparse `scipy` matrices, top 50 neighbours per item), weighted by the customer's recency-weighted
  history (half-life 90 days);
* **repurchase** — the customer's own recency-weighted purchases (on this wholesaler of gifts, repeat orders are
  the strongest signal);
* **popularity** — distinct buyers in the last 30 days.

Business rules then apply to every offer: a recent-purchase exclusion window, never-repurchase, eligibility flags
and a value (margin) weighting from a products frame, and a cap per category. Each offer carries a readable reason.

Data: the full UCI *Online Retail* invoices (406,829 lines with a customer, Dec 2010 – Dec 2011), read from
`../shared/data` by `crmml.datasets.load_online_retail(sample=False)`. `product_id` is the StockCode; the
`description` column gives readable names. Cancellations (negative amounts) never count as purchases."""),
    code("""import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from crmml.datasets import load_online_retail, make_synthetic_crm
from crmml.recommend import (NextBestOffer, PastPurchasesBaseline, PopularityBaseline, evaluate_recommendations,
                             ranking_metrics, time_split)

pd.set_option("display.width", 160)
pd.set_option("display.max_colwidth", 110)
tx = load_online_retail(sample=False)  # the full file in ../shared/data
print(f"{len(tx):,} lines, {tx['customer_id'].nunique():,} customers, {tx['product_id'].nunique():,} products, "
      f"{tx['timestamp'].min():%Y-%m-%d} .. {tx['timestamp'].max():%Y-%m-%d}")"""),
    md("""## 1. Time-split evaluation against two baselines

Fit on everything before 1 November 2011 (nothing after), recommend 10 products, and check them against what each
customer bought in the next 30 days, for the customers who bought in both periods. Baselines: **popularity** (the
10 products with most buyers in the last 30 days) and **past purchases** (the customer's own products, most
frequent then most recent, filled with popular ones when the history is short)."""),
    code("""SPLIT, HORIZON, K = "2011-11-01", 30, 10
t0 = time.perf_counter()
res = evaluate_recommendations(NextBestOffer(), tx, SPLIT, horizon_days=HORIZON, k=K)
print(f"evaluated in {time.perf_counter() - t0:.1f} s; metrics @{K}")
res.round(4)"""),
    md("""The model beats both baselines on precision@10 and recall@10 (and MAP, NDCG); the same holds at other split
dates (see the README). Popularity alone is weak on this retailer: customers are shops with very different
assortments. Precision and recall at every cut-off from one fit of each model:"""),
    code("""train, relevant = time_split(tx, SPLIT, HORIZON)
customers = relevant["customer_id"].unique()
models = {"NextBestOffer": NextBestOffer(), "popularity": PopularityBaseline(),
          "past_purchases": PastPurchasesBaseline()}
recs = {name: m.fit(train, as_of=SPLIT).recommend(customers, k=20) for name, m in models.items()}
ks = [1, 2, 3, 5, 10, 15, 20]
curve = pd.DataFrame([{"model": name, "k": k, **ranking_metrics(r, relevant, k=k)}
                      for name, r in recs.items() for k in ks])
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for name, g in curve.groupby("model", sort=False):
    axes[0].plot(g["k"], g["precision"], marker="o", label=name)
    axes[1].plot(g["k"], g["recall"], marker="o", label=name)
axes[0].set(xlabel="k (offers per customer)", ylabel="precision@k", title="Precision@k, 30 days after 2011-11-01")
axes[1].set(xlabel="k (offers per customer)", ylabel="recall@k", title="Recall@k")
axes[0].legend()
fig.tight_layout()"""),
    md("""## 2. Offers with reasons

Each row says why: the bought product that contributes most to a co-occurrence score, the customer's own repeat
purchases, or recent popularity."""),
    code("""nbo = models["NextBestOffer"]
recs["NextBestOffer"][recs["NextBestOffer"]["customer_id"] == customers[0]].head(K)"""),
    code("""# new products only: what the customer has never bought, with "customers who buy X also buy Y" reasons
nbo_new = NextBestOffer(repurchase="never").fit(train, as_of=SPLIT)
nbo_new.recommend(customers[:2], k=5)"""),
    md("""## 3. Repurchase or discovery: an honest comparison

Whether already-bought products may be offered is an option (`repurchase="allow"` by default, `"never"` for
durables or cross-sell campaigns). The metrics above reward repurchases, so discovery is scored separately with
`target="new"`: only products new to the customer count, and the popularity baseline also skips what each
customer bought."""),
    code("""res_new = evaluate_recommendations(NextBestOffer(repurchase="never"), tx, SPLIT, horizon_days=HORIZON, k=K,
                                   target="new")
res_new.round(4)"""),
    md("""Discovery is much harder (about 7% of new-product offers are bought within 30 days, against about 29% when
repurchases count); co-occurrence beats popularity on recall, MAP and NDCG, and covers a far larger share of the
catalogue."""),
    md("""## 4. Business rules

A products frame carries eligibility and value. On this retailer we build one: non-merchandise codes (postage,
manual adjustments, bank charges, fees) are not offers, a margin stands in for each product's value, and stock
flags come from a made-up rule. Every recommended row obeys every rule; the tests check each of them row by row."""),
    code("""non_merch = {"POST", "DOT", "M", "BANK CHARGES", "C2", "AMAZONFEE", "CRUK", "D", "PADS", "S", "B"}
prod = (train[train["amount"] > 0].groupby("product_id")
        .agg(price=("amount", "sum"), quantity=("quantity", "sum"), description=("description", "first")))
products = pd.DataFrame({"product_id": prod.index, "description": prod["description"].to_numpy(),
                         "price": (prod["price"] / prod["quantity"]).round(2).to_numpy()})
products["is_merchandise"] = ~products["product_id"].isin(non_merch)
rng = np.random.default_rng(0)
products["in_stock"] = rng.random(len(products)) > 0.05
products["margin"] = np.round(rng.uniform(0.2, 0.6, len(products)), 2)

ruled = NextBestOffer(exclude_recent_days=14, eligible=["is_merchandise", "in_stock"], value_column="margin")
ruled.fit(train, products, as_of=SPLIT)
offers = ruled.recommend(customers, k=K)
check = offers.merge(products, on="product_id")
last = (train[train["amount"] > 0].groupby(["customer_id", "product_id"])["timestamp"].max()
        .rename("last_bought").reset_index())
check = check.merge(last, on=["customer_id", "product_id"], how="left")
days = (pd.Timestamp(SPLIT) - check["last_bought"]).dt.days
print("all merchandise:", bool(check["is_merchandise"].all()), "| all in stock:", bool(check["in_stock"].all()),
      "| none bought in the last 14 days:", bool(~(days < 14).any()))
print(f"mean margin of offers: {check['margin'].mean():.3f} (catalogue {products['margin'].mean():.3f})")
offers.head(5)"""),
    md("""A per-category cap needs categories; this retailer has none, so the cap is shown on the synthetic CRM (which
has a `category` per product and a products frame with price and margin). Customers favour one category, so
without a cap it fills the list."""),
    code("""crm = make_synthetic_crm(n_customers=3_000, seed=1, with_events=False)
ids = crm.transactions["customer_id"].unique()[:500]
cat = crm.products.set_index("product_id")["category"]
rows = []
for cap in [None, 3, 1]:
    r = NextBestOffer(max_per_category=cap).fit(crm.transactions, crm.products).recommend(ids, k=K)
    per = r.join(cat, on="product_id").groupby(["customer_id", "category"]).size()
    rows.append({"max_per_category": cap, "max offers of one category": per.max(),
                 "mean categories per list": per.groupby(level=0).size().mean(),
                 "mean list length": r.groupby("customer_id").size().mean()})
pd.DataFrame(rows)"""),
    md("""## 5. Recency half-life

The customer's history is weighted by `0.5 ** (age_days / half_life_days)`: with the default 90 days a purchase
three months ago counts half as much as one today. Shorter half-lives follow recent orders more closely."""),
    code("""hl = []
for h in [30, 90, 365]:
    r = NextBestOffer(half_life_days=h).fit(train, as_of=SPLIT).recommend(customers, k=K)
    hl.append({"half_life_days": h, **ranking_metrics(r, relevant, k=K)})  # no catalogue size: no coverage
pd.DataFrame(hl).drop(columns="coverage").round(4)"""),
]

nb = nbformat.v4.new_notebook(cells=cells)
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
out = HERE / "05_next_best_offer.ipynb"
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}).execute()
nbformat.write(nb, out)
print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KB)")
