"""Time-to-churn on the real logs: concordance / IBS beside Cox and Kaplan-Meier, 45-day AUC beside ChurnModel.

Run: PYTHONPATH=src python benchmarks/bench_decisions_survival.py
"""

import time

import numpy as np
import pandas as pd

from crmml.churn import ChurnModel, TimeToChurnModel, survival_backtest
from crmml.datasets import load_cdnow, load_online_retail

# the cutoffs and settings of tests/churn/test_time_to_churn_real.py (whole logs; --cdnow-subsample 4000 for the
# seeded subsample that earlier releases measured)
CUTOFFS = {"online_retail": ["2011-07-18", "2011-09-01", "2011-10-16"],
           "cdnow": ["1997-10-01", "1997-12-30", "1998-03-30"]}
FAST = dict(model=TimeToChurnModel(n_estimators=150, learning_rate=0.1, windows=(30, 90, 365)),
            churn_model=ChurnModel(n_estimators=150, learning_rate=0.1))

if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--cdnow-subsample", type=int, default=0, help="seeded subsample of CDNOW customers (0: all)")
    args = ap.parse_args()
    pd.set_option("display.width", 200)
    for name, load in (("online_retail", load_online_retail), ("cdnow", load_cdnow)):
        t0 = time.perf_counter()
        tx = load()
        if name == "cdnow" and args.cdnow_subsample:
            ids = np.random.default_rng(0).choice(np.sort(tx["customer_id"].unique()), args.cdnow_subsample,
                                                  replace=False)
            tx = tx[tx["customer_id"].isin(ids)]
        res = survival_backtest(tx, CUTOFFS[name], **FAST)
        print(f"== {name} ({time.perf_counter() - t0:.0f} s)")
        print(res.round({"concordance": 4, "ibs": 4, "roc_auc_45d": 4, "event_rate": 4}).to_string(index=False))
        print(res.groupby("model")[["concordance", "ibs", "roc_auc_45d"]].agg(["mean", "std"]).round(4))
