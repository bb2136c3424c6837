"""Feature factory against polars and DuckDB, interleaved in one process (time and peak memory growth).

Usage::

    python benchmarks/bench_features_peers.py                   # 1M customers (~20M lines), the target size
    python benchmarks/bench_features_peers.py --customers 100000 --rounds 3

Peers: ``pip install crmml[bench]`` (polars, duckdb). Data: ``make_synthetic_crm(n, seed=0, with_events=False)``
transactions (not timed), each tool on its native in-memory frame (pandas, polars, an Arrow table in DuckDB).

The peers compute the ``rfm`` and ``lifetime`` families (70 columns; the same definitions: purchase occasions = a
customer's purchase lines at one timestamp; windows ``[as_of - w days, as_of)`` for w in 7..365; counts, net
amount, occasion value mean/max/min, lines, units, active days, weekend share; recency, tenure, monthly rate),
with 2 threads. crmml runs twice per round: the same job (``build_features(tx, as_of, families=["rfm",
"lifetime"])``, the same 70 columns: ``crmml_same``) and all of ``build_features(tx, as_of)`` (220 columns on
these data: ``crmml_all``, about three times the peers' work), both with ``n_jobs=2``. The ratios are against
the same job. Every one of the 70 columns is checked to agree before timing.
"""

from __future__ import annotations

import argparse

import numpy as np
from _peers import interleaved, load_line, report

DAY_NS = 86_400 * 10**9
WINDOWS = (7, 14, 30, 60, 90, 180, 365)
SAME_JOB = ("rfm", "lifetime")


def crmml_features(tx, as_of, families=None):
    from crmml.features import build_features

    return build_features(tx, as_of, n_jobs=2, families=families)


def polars_features(ptx, as_of):
    import polars as pl

    a = pl.lit(as_of)
    lines = ptx.lazy().filter(pl.col("timestamp") < a)
    buy = pl.col("amount").is_null() | (pl.col("amount") >= 0)
    occ = (lines.filter(buy).group_by("customer_id", "timestamp")
           .agg(pl.col("amount").fill_null(0).sum().alias("value"), pl.len().alias("lines"),
                pl.col("quantity").fill_null(0).sum().alias("qty"))
           .with_columns(((a - pl.col("timestamp")).dt.total_nanoseconds()).alias("age"),
                         pl.col("timestamp").dt.date().alias("day"),
                         (pl.col("timestamp").dt.weekday() >= 6).cast(pl.Float64).alias("weekend")))
    aggs = []
    for w in WINDOWS:
        inw = pl.col("age") <= w * DAY_NS
        v = pl.col("value").filter(inw)
        aggs += [inw.sum().alias(f"purchase_count_{w}d"), v.mean().alias(f"purchase_amount_mean_{w}d"),
                 v.max().alias(f"purchase_amount_max_{w}d"), v.min().alias(f"purchase_amount_min_{w}d"),
                 pl.col("lines").filter(inw).sum().alias(f"line_count_{w}d"),
                 pl.col("qty").filter(inw).sum().alias(f"quantity_sum_{w}d"),
                 pl.col("day").filter(inw).n_unique().alias(f"active_days_count_{w}d"),
                 pl.col("weekend").filter(inw).mean().alias(f"weekend_purchase_share_{w}d")]
    n_all = pl.len()
    aggs += [(pl.col("age").min() / DAY_NS).alias("purchase_recency_all"),
             (pl.col("age").max() / DAY_NS).alias("purchase_tenure_all"), n_all.alias("purchase_count_all"),
             pl.col("value").mean().alias("purchase_amount_mean_all"),
             (n_all / (pl.col("age").max() / DAY_NS / 30)).alias("purchase_rate_monthly_all"),
             pl.col("day").n_unique().alias("active_days_count_all")]
    per_occ = occ.group_by("customer_id").agg(aggs)
    lage = (a - pl.col("timestamp")).dt.total_nanoseconds()
    net = (lines.group_by("customer_id")
           .agg([pl.col("amount").fill_null(0).filter(lage <= w * DAY_NS).sum().alias(f"amount_sum_{w}d")
                 for w in WINDOWS] + [pl.col("amount").fill_null(0).sum().alias("amount_sum_all")]))
    return net.join(per_occ, on="customer_id", how="left").sort("customer_id").collect()


def duckdb_features(con, as_of):
    ts = f"TIMESTAMP '{as_of}'"
    cols = []
    for w in WINDOWS:
        f = f"FILTER (WHERE age <= {w * DAY_NS})"
        cols += [f"COUNT(*) {f} AS purchase_count_{w}d", f"AVG(value) {f} AS purchase_amount_mean_{w}d",
                 f"MAX(value) {f} AS purchase_amount_max_{w}d", f"MIN(value) {f} AS purchase_amount_min_{w}d",
                 f"SUM(lines) {f} AS line_count_{w}d", f"SUM(qty) {f} AS quantity_sum_{w}d",
                 f"COUNT(DISTINCT day) {f} AS active_days_count_{w}d",
                 f"AVG(weekend) {f} AS weekend_purchase_share_{w}d"]
    nets = [f"COALESCE(SUM(COALESCE(amount, 0)) FILTER (WHERE epoch_ns({ts} - timestamp) <= {w * DAY_NS}), 0) "
            f"AS amount_sum_{w}d" for w in WINDOWS]
    q = f"""
    WITH l AS (SELECT * FROM tx WHERE timestamp < {ts}),
    o AS (SELECT customer_id, timestamp, SUM(COALESCE(amount, 0)) AS value, COUNT(*) AS lines,
                 SUM(COALESCE(quantity, 0)) AS qty, epoch_ns({ts} - timestamp) AS age,
                 CAST(timestamp AS DATE) AS day, CAST(isodow(timestamp) >= 6 AS DOUBLE) AS weekend
          FROM l WHERE amount IS NULL OR amount >= 0 GROUP BY customer_id, timestamp),
    po AS (SELECT customer_id, {", ".join(cols)}, MIN(age) / {DAY_NS} AS purchase_recency_all,
                  MAX(age) / {DAY_NS} AS purchase_tenure_all, COUNT(*) AS purchase_count_all,
                  AVG(value) AS purchase_amount_mean_all,
                  COUNT(*) / (MAX(age) / {DAY_NS} / 30) AS purchase_rate_monthly_all,
                  COUNT(DISTINCT day) AS active_days_count_all FROM o GROUP BY customer_id),
    n AS (SELECT customer_id, {", ".join(nets)}, SUM(COALESCE(amount, 0)) AS amount_sum_all FROM l
          GROUP BY customer_id)
    SELECT * FROM n LEFT JOIN po USING (customer_id) ORDER BY customer_id"""
    rel = con.sql(q)
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    import duckdb
    import pandas as pd
    import polars as pl
    import pyarrow as pa

    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=args.customers, seed=0, with_events=False)
    tx = crm.transactions[["customer_id", "timestamp", "amount", "quantity", "product_id", "category",
                           "channel", "transaction_id"]]
    as_of = (crm.start + (crm.end - crm.start) * 0.8).normalize()
    del crm
    ptx = pl.from_pandas(tx[["customer_id", "timestamp", "amount", "quantity"]])
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("tx", pa.Table.from_pandas(tx[["customer_id", "timestamp", "amount", "quantity"]],
                                            preserve_index=False))
    print(f"{len(tx):,} transaction lines, {tx['customer_id'].nunique():,} customers; as_of {as_of.date()}")

    ours = crmml_features(tx, as_of, SAME_JOB)
    n_all = crmml_features(tx, as_of).shape[1]
    for name, other in (("polars", polars_features(ptx, as_of).to_pandas()),
                        ("duckdb", duckdb_features(con, as_of).to_pandas())):
        other = other.set_index("customer_id").reindex(ours.index)
        assert sorted(other.columns) == sorted(ours.columns), f"{name} computes other columns than crmml's"
        for c in ours.columns:
            theirs = other[c].to_numpy(float)
            if "_count_" in c or "_sum_" in c:         # SQL's SUM/COUNT FILTER over no rows is NULL; crmml's is 0
                theirs = np.nan_to_num(theirs, nan=0.0)
            np.testing.assert_allclose(theirs, ours[c].to_numpy(float), rtol=1e-9, atol=1e-6, err_msg=f"{name} {c}")
    print(f"same job: {ours.shape[1]} columns (families {', '.join(SAME_JOB)}), all agree between crmml, polars and "
          f"DuckDB; crmml_all: {n_all} columns")
    del ours, other

    load_line("before")
    res = interleaved({"crmml_same": lambda: crmml_features(tx, as_of, SAME_JOB),
                       "polars": lambda: polars_features(ptx, as_of),
                       "duckdb": lambda: duckdb_features(con, as_of),
                       "crmml_all": lambda: crmml_features(tx, as_of)}, args.rounds)
    load_line("after")
    report(res, "crmml_same")
    _ = pd  # pandas is crmml's input


if __name__ == "__main__":
    main()
