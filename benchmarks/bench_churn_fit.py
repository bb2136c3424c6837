"""ChurnModel fit time on stacked snapshots (issue 14's budget: 100k customers x 206 features under 2 minutes).

    python benchmarks/bench_churn_fit.py [--customers 100000] [--n-jobs 2]

Builds the 206-column feature factory output at two snapshot cutoffs of a synthetic CRM, stacks them (about
``--customers`` rows each) and times ``ChurnModel().fit(X, y, time=cutoffs)``: early stopping on the latest
snapshot, the baseline candidate, the refit on both snapshots and the calibration.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd

from crmml.churn import ChurnModel, make_churn_snapshot
from crmml.datasets import make_synthetic_crm


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--n-jobs", type=int, default=2)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    crm = make_synthetic_crm(n_customers=args.customers, seed=0)
    parts = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for c in ("2024-06-01", "2024-08-01"):
            X, y = make_churn_snapshot(crm.transactions, c, events=crm.events, customers=crm.customers)
            parts.append((X, y, c))
    X = pd.concat([p[0] for p in parts])
    y = np.concatenate([p[1].to_numpy() for p in parts])
    t = np.concatenate([np.full(len(p[1]), np.datetime64(p[2])) for p in parts])
    print(f"data: {len(X):,} rows x {X.shape[1]} features in {time.perf_counter() - t0:.0f} s; "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    t1 = time.perf_counter()
    m = ChurnModel(n_jobs=args.n_jobs, random_state=0).fit(X, y, time=t)
    print(f"ChurnModel.fit: {time.perf_counter() - t1:.1f} s ({m.best_iteration_ + 1} trees, learning rate "
          f"{m.learning_rate_}, chosen {m.chosen_}); load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
