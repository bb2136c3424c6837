"""Time-to-churn on the real logs: concordance / IBS beside Cox and Kaplan-Meier, 45-day AUC beside ChurnModel.

Run: PYTHONPATH=src python benchmarks/bench_decisions_survival.py
"""

import time

import pandas as pd

from crmml.churn import survival_backtest
from crmml.datasets import load_cdnow, load_online_retail

CUTOFFS = {"online_retail": ["2011-08-01", "2011-09-01", "2011-10-01"],
           "cdnow": ["1997-10-01", "1998-01-01", "1998-04-01"]}

if __name__ == "__main__":
    pd.set_option("display.width", 200)
    for name, load in (("online_retail", load_online_retail), ("cdnow", load_cdnow)):
        t0 = time.perf_counter()
        res = survival_backtest(load(), CUTOFFS[name])
        print(f"== {name} ({time.perf_counter() - t0:.0f} s)")
        print(res.round({"concordance": 4, "ibs": 4, "roc_auc_45d": 4, "event_rate": 4}).to_string(index=False))
        print(res.groupby("model")[["concordance", "ibs", "roc_auc_45d"]].agg(["mean", "std"]).round(4))
