"""Benchmark NextBestOffer: fit + recommend top-10 for 100k customers x 5k products.

Run: python benchmarks/bench_recommend.py [--customers 100000] [--products 5000] [--n-jobs 1]
     python benchmarks/bench_recommend.py --accuracy    # time-split figures on the full online retail

Data: make_synthetic_crm(n_customers, params={"n_products": 5000}, with_events=False)
(~2M transaction lines). Prints wall times of fit and recommend (with readable reasons)
and peak resident memory. Target: fit + recommend < 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import pandas as pd

from crmml.datasets import make_synthetic_crm
from crmml.recommend import NextBestOffer, evaluate_recommendations


def accuracy(k: int) -> None:
    """NextBestOffer vs the two baselines on the full UCI online retail, three time splits, 30-day horizon."""
    from crmml.datasets import load_online_retail

    tx = load_online_retail()
    with pd.option_context("display.width", 200):
        for split in ["2011-08-01", "2011-10-01", "2011-11-01"]:
            res = evaluate_recommendations(NextBestOffer(), tx, split, horizon_days=30, k=k)
            print(f"split {split}, horizon 30 days, metrics @{k} (all purchases count)")
            print(res.round(4).to_string(), "\n")
        res = evaluate_recommendations(NextBestOffer(repurchase="never"), tx, "2011-11-01", horizon_days=30, k=k,
                                       target="new")
        print(f"split 2011-11-01, discovery (target='new', repurchase='never'), metrics @{k}")
        print(res.round(4).to_string())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--products", type=int, default=5_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--accuracy", action="store_true", help="time-split figures on the full online retail")
    ap.add_argument("--blend", choices=["auto", "fixed"], default="auto",
                    help="NextBestOffer(blend=...): 'fixed' skips learning the weights in fit")
    ap.add_argument("--n-jobs", type=int, default=1, help="NextBestOffer(n_jobs=...): threads of recommend")
    args = ap.parse_args()
    if args.accuracy:
        accuracy(args.k)
        return

    t0 = time.perf_counter()
    crm = make_synthetic_crm(n_customers=args.customers, seed=0, with_events=False,
                             params={"n_products": args.products})
    tx, products = crm.transactions, crm.products
    t_data = time.perf_counter() - t0
    print(f"data: {len(tx):,} lines, {tx['customer_id'].nunique():,} customers, "
          f"{tx['product_id'].nunique():,} products ({t_data:.1f} s to generate, not timed below)")

    model = NextBestOffer(max_per_category=3, exclude_recent_days=14, value_column="margin", blend=args.blend,
                          n_jobs=args.n_jobs)
    t0, c0 = time.perf_counter(), time.process_time()
    model.fit(tx, products)
    t_fit, c_fit = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    recs = model.recommend(k=args.k)
    t_rec, c_rec = time.perf_counter() - t0, time.process_time() - c0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"similarity: {model.similarity_.shape[0]:,} x {model.similarity_.shape[1]:,}, "
          f"{model.similarity_.nnz:,} non-zeros; affinity nnz {model.affinity_.nnz:,}")
    print(f"fit:       {t_fit:6.1f} s wall, {c_fit:6.1f} s CPU")
    print(f"recommend: {t_rec:6.1f} s wall, {c_rec:6.1f} s CPU  ({len(recs):,} rows for "
          f"{recs['customer_id'].nunique():,} customers, k={args.k}, with reasons)")
    print(f"total:     {t_fit + t_rec:6.1f} s wall, {c_fit + c_rec:6.1f} s CPU  (target < 30 s on 2 cores)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (1 min)")
    print(f"peak RSS:  {peak_mb:,.0f} MB")
    with pd.option_context("display.width", 200, "display.max_colwidth", 80):
        print(recs.head(5).to_string(index=False))


if __name__ == "__main__":
    main()
