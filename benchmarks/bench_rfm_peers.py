"""RFM (table + quintile scores + segment names) in crmml, polars and DuckDB, interleaved in one process.

Usage::

    python benchmarks/bench_rfm_peers.py                        # 500k customers, ~10M lines (the target size)
    python benchmarks/bench_rfm_peers.py --customers 50000 --rounds 3

Peers: ``pip install crmml[bench]`` (polars, duckdb). Data: ``make_synthetic_crm(n, seed=0,
with_events=False)`` transactions (not timed); each tool gets its native in-memory frame (pandas for crmml, a
polars DataFrame, an Arrow table registered in DuckDB), converted before timing.

The same job for all three: rows before ``as_of``; per customer the recency (days since the last purchase),
frequency (distinct ``transaction_id`` among purchase lines), monetary (net sum, returns included), average
order value, tenure and returns; customers with only returns left out; then 1-5 scores of recency, frequency
and monetary and a segment name per customer. crmml: ``rfm_table`` + ``RFMSegmenter().fit(r).transform(r)``
(tie-aware quintile edges); polars/DuckDB: the same table with ``qcut``/``NTILE(5)`` scores and a join on a
125-row (R, F, M) -> segment lookup. The tables of the three are checked to agree before timing.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from _peers import interleaved, load_line, report

DAY_NS = 86_400 * 10**9


def crmml_rfm(tx, as_of):
    from crmml.segmentation import RFMSegmenter, rfm_table

    r = rfm_table(tx, as_of)
    return RFMSegmenter().fit(r).transform(r)


def _lookup():
    from crmml.segmentation import RFMSegmenter

    seg = RFMSegmenter().fit(pd.DataFrame({"recency": np.arange(5.0), "frequency": np.arange(5),
                                           "monetary": np.arange(5.0)}))
    g = np.arange(1, 6)
    r, f, m = (a.ravel() for a in np.meshgrid(g, g, g, indexing="ij"))
    names = np.asarray(seg.segment_names_)[seg.lookup_[r - 1, f - 1, m - 1]]
    return pd.DataFrame({"r": r, "f": f, "m": m, "segment": names})


def polars_rfm(ptx, as_of, lookup):
    import polars as pl

    a = pl.lit(as_of)
    buy = pl.col("amount") >= 0
    t = (ptx.lazy().filter(pl.col("timestamp") < a)
         .group_by("customer_id")
         .agg(pl.col("transaction_id").filter(buy).n_unique().alias("frequency"),
              pl.col("amount").sum().alias("monetary"),
              (-pl.col("amount").filter(~buy).sum()).alias("returns"),
              pl.col("timestamp").filter(buy).max().alias("last"),
              pl.col("timestamp").filter(buy).min().alias("first"))
         .filter(pl.col("frequency") > 0)
         .with_columns(((a - pl.col("last")).dt.total_nanoseconds() / DAY_NS).alias("recency"),
                       ((a - pl.col("first")).dt.total_nanoseconds() / DAY_NS).alias("tenure"),
                       (pl.col("monetary") / pl.col("frequency")).alias("avg_order_value"))
         .with_columns((6 - (pl.col("recency").rank("ordinal") * 5 / pl.len()).ceil()).cast(pl.Int64).alias("r"),
                       (pl.col("frequency").rank("ordinal") * 5 / pl.len()).ceil().cast(pl.Int64).alias("f"),
                       (pl.col("monetary").rank("ordinal") * 5 / pl.len()).ceil().cast(pl.Int64).alias("m"))
         .join(lookup.lazy(), on=["r", "f", "m"], how="left")
         .sort("customer_id"))
    return t.collect()


def duckdb_rfm(con, as_of):
    q = f"""
    WITH t AS (
      SELECT customer_id,
             COUNT(DISTINCT transaction_id) FILTER (WHERE amount >= 0) AS frequency,
             SUM(amount) AS monetary,
             -COALESCE(SUM(amount) FILTER (WHERE amount < 0), 0) AS returns,
             MAX(timestamp) FILTER (WHERE amount >= 0) AS last,
             MIN(timestamp) FILTER (WHERE amount >= 0) AS first
      FROM tx WHERE timestamp < TIMESTAMP '{as_of}' GROUP BY customer_id HAVING frequency > 0),
    s AS (
      SELECT *, epoch_ns(TIMESTAMP '{as_of}' - last) / {DAY_NS} AS recency,
             epoch_ns(TIMESTAMP '{as_of}' - first) / {DAY_NS} AS tenure,
             monetary / frequency AS avg_order_value FROM t),
    q AS (
      SELECT *, 6 - NTILE(5) OVER (ORDER BY recency) AS r, NTILE(5) OVER (ORDER BY frequency) AS f,
             NTILE(5) OVER (ORDER BY monetary) AS m FROM s)
    SELECT q.*, lookup.segment FROM q LEFT JOIN lookup USING (r, f, m) ORDER BY customer_id"""
    rel = con.sql(q)
    return rel.to_arrow_table() if hasattr(rel, "to_arrow_table") else rel.arrow()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    import duckdb
    import polars as pl
    import pyarrow as pa

    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=args.customers, seed=0, with_events=False)
    tx = crm.transactions[["customer_id", "timestamp", "amount", "transaction_id"]].copy()
    as_of = crm.end
    del crm
    lookup = _lookup()
    ptx, plookup = pl.from_pandas(tx), pl.from_pandas(lookup)
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("tx", pa.Table.from_pandas(tx, preserve_index=False))
    con.register("lookup", pa.Table.from_pandas(lookup, preserve_index=False))
    print(f"{len(tx):,} transaction lines, {tx['customer_id'].nunique():,} customers; as_of {as_of.date()}")

    ours = crmml_rfm(tx, as_of).sort_index()
    from crmml.segmentation import rfm_table

    ref = rfm_table(tx, as_of)
    for name, other in (("polars", polars_rfm(ptx, as_of, plookup).to_pandas()),
                        ("duckdb", duckdb_rfm(con, as_of).to_pandas())):
        other = other.set_index("customer_id")
        assert other.index.equals(ref.index), name
        for c in ("recency", "frequency", "monetary", "tenure", "returns"):
            np.testing.assert_allclose(other[c].to_numpy(float), ref[c].to_numpy(float), rtol=1e-9, atol=1e-6, err_msg=name)
    print(f"tables agree; crmml segments: {ours['segment'].value_counts().head(3).to_dict()}")

    load_line("before")
    res = interleaved({"crmml": lambda: crmml_rfm(tx, as_of),
                       "polars": lambda: polars_rfm(ptx, as_of, plookup),
                       "duckdb": lambda: duckdb_rfm(con, as_of)}, args.rounds)
    load_line("after")
    report(res, "crmml")


if __name__ == "__main__":
    main()
