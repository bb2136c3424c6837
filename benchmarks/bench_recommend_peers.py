"""Next-best-offer against implicit's ALS, interleaved in one process: fit + top-10 for every customer.

Usage::

    python benchmarks/bench_recommend_peers.py                  # 100k customers x 5k products (~2M lines)
    python benchmarks/bench_recommend_peers.py --customers 20000 --rounds 3

Peer: ``pip install crmml[bench]`` (implicit). Data: ``make_synthetic_crm(n, params={"n_products": 5000},
with_events=False)`` (not timed). crmml: ``NextBestOffer(max_per_category=3, exclude_recent_days=14,
value_column="margin").fit(tx, products).recommend(k=10)`` (with readable reasons, as in
bench_recommend.py). implicit: the customer x product purchase-count matrix built from the same frame
(timed), ``AlternatingLeastSquares(factors=64, iterations=15)`` on 2 threads, ``recommend`` top 10 for every
customer, bought items filtered. Time and peak memory only; accuracy is in bench_recommend.py --accuracy.
"""

from __future__ import annotations

import argparse

import numpy as np
from _peers import interleaved, load_line, report


def crmml_nbo(tx, products, k):
    from crmml.recommend import NextBestOffer

    model = NextBestOffer(max_per_category=3, exclude_recent_days=14, value_column="margin")
    return model.fit(tx, products).recommend(k=k)


def implicit_als(tx, k):
    import pandas as pd
    import scipy.sparse as sp
    from implicit.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    users, uid = pd.factorize(tx["customer_id"])
    items, iid = pd.factorize(tx["product_id"])
    m = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=(len(uid), len(iid)))
    m.sum_duplicates()
    with threadpool_limits(1, "blas"):         # implicit's advice: its own threads, single-threaded BLAS
        als = AlternatingLeastSquares(factors=64, iterations=15, random_state=0, num_threads=2)
        als.fit(m, show_progress=False)
        ids, _ = als.recommend(np.arange(len(uid)), m, N=k, filter_already_liked_items=True)
    return ids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--products", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--k", type=int, default=10)
    args = ap.parse_args()

    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=args.customers, seed=0, with_events=False,
                             params={"n_products": args.products})
    tx, products = crm.transactions, crm.products
    print(f"{len(tx):,} lines, {tx['customer_id'].nunique():,} customers, {tx['product_id'].nunique():,} products")
    load_line("before")
    res = interleaved({"crmml": lambda: crmml_nbo(tx, products, args.k),
                       "implicit": lambda: implicit_als(tx, args.k)}, args.rounds)
    load_line("after")
    report(res, "crmml")


if __name__ == "__main__":
    main()
