"""Value-at-risk capture on the real logs: share of the value actually lost found in the top 10% / 20%.

Settings of tests/decisions/test_decisions_real.py (CDNOW: a seeded 4,000-customer subsample).
Rankings of the customers active at each cutoff: value at risk (RetentionPlanner), churn probability only,
CLV only. Lost value = prior-365-day spend of the customers with no purchase in the next 45 days.
Run: PYTHONPATH=src python benchmarks/bench_decisions_capture.py
"""

import time

import numpy as np
import pandas as pd

from crmml.churn import ChurnModel
from crmml.datasets import load_cdnow, load_online_retail
from crmml.decisions import RetentionPlanner, capture_table, lost_value

CUTOFFS = {"online_retail": ["2011-08-01", "2011-09-01", "2011-10-01"],
           "cdnow": ["1997-10-01", "1998-01-01", "1998-04-01"]}


def capture_at(tx, cutoff, **planner_kw):
    rp = RetentionPlanner(**planner_kw).fit(tx, cutoff)
    s = rp.scores_
    lost = lost_value(tx, cutoff)["lost_value"]
    rank = pd.DataFrame({"value_at_risk": s["value_at_risk"], "churn_only": s["churn_probability"],
                         "clv_only": s["clv"]})
    return capture_table(rank, lost, fractions=(0.1, 0.2))


if __name__ == "__main__":
    fast = dict(churn_model=ChurnModel(n_estimators=150, learning_rate=0.1), windows=(30, 90, 365))
    for name, load in (("online_retail", load_online_retail), ("cdnow", load_cdnow)):
        tx = load()
        if name == "cdnow":           # the 4,000-customer seeded subsample of tests/decisions/test_decisions_real.py
            ids = np.random.default_rng(0).choice(np.sort(tx["customer_id"].unique()), 4000, replace=False)
            tx = tx[tx["customer_id"].isin(ids)]
        tabs = []
        for c in CUTOFFS[name]:
            t0 = time.perf_counter()
            tab = capture_at(tx, c, **fast)
            print(f"== {name} {c} ({time.perf_counter() - t0:.0f} s)\n{tab.round(4)}")
            tabs.append(tab.assign(cutoff=c))
        allt = pd.concat(tabs)
        print(f"== {name}: mean (std) over cutoffs")
        print(allt.groupby(level=0)[["top_10pct", "top_20pct"]].agg(["mean", "std"]).round(4))
