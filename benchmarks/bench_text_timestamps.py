"""Validation of text timestamps (what a CSV gives `crmml score`): the 541,909 Online Retail invoice times written
in three formats, read by crmml's timestamp rule (format="mixed" per distinct text, the day-first rule, range
checks) and by pandas' `to_datetime(format="mixed")` alone, in the same run; then the same lines shuffled (pandas'
own cache of repeated texts judges a column by its first rows and is skipped on a shuffled one); then 200,000
distinct times with every other one a text and the rest Timestamps.

Run: python benchmarks/bench_text_timestamps.py [--rounds 3]   (needs ../shared/data/online_retail)
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import pandas as pd

from crmml._schema_coerce import _coerce_datetime

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "online_retail" / "online_retail.csv.gz"


def best(f, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        out = f()
        times.append(time.perf_counter() - t)
    return min(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    d = pd.to_datetime(pd.read_csv(DATA, usecols=["InvoiceDate"])["InvoiceDate"])
    print(f"{len(d):,} lines, {d.nunique():,} distinct times; load average {os.getloadavg()[0]:.1f}")
    for order in ("file order", "shuffled"):
        dd = d if order == "file order" else d.sample(frac=1.0, random_state=0).reset_index(drop=True)
        for fmt in ("%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S"):
            s = pd.Series(dd.dt.strftime(fmt), dtype=object)
            a, out = best(lambda: _coerce_datetime(s, "transactions", "timestamp", False), args.rounds)
            b, _ = best(lambda: pd.to_datetime(s, format="mixed"), args.rounds)
            assert (out == dd).all()
            print(f"{order:10s} {fmt:18s} crmml {a:6.2f} s   pandas mixed alone {b:6.2f} s   (min of {args.rounds})")
    # an object column of distinct times, every other one a text and the rest Timestamps (a partly converted column)
    dd = pd.Series(pd.Timestamp("2011-01-01") + pd.to_timedelta(range(200_000), unit="s"))
    s = pd.Series([str(t) if i % 2 else t for i, t in enumerate(dd)], dtype=object)
    a, out = best(lambda: _coerce_datetime(s, "transactions", "timestamp", False), args.rounds)
    b, _ = best(lambda: pd.to_datetime(s, format="mixed"), args.rounds)
    assert (out == dd).all()
    print(f"texts beside Timestamps, 200,000 distinct: crmml {a:6.2f} s   pandas mixed alone {b:6.2f} s")


if __name__ == "__main__":
    main()
