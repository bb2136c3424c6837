"""crmml.spark against the pandas path: build_features (transactions, events, customers) on N customers.

Usage: python benchmarks/bench_spark.py [--customers N] [--buckets B]     (default: 1,000,000 customers)

Writes the synthetic CRM to parquet once, then prints the wall time of:
- pandas: read the parquet files + build_features with n_jobs=1 and n_jobs=2;
- crmml.spark with local[1] and local[2]: read the parquet datasets + build_features, forced with a
  ``noop`` write (every feature computed, nothing collected); Spark start-up excluded, the
  discovery job of event types and channels included.
Then the throughput ratio local[2] / local[1] (goal >= 1.7x) and the Spark overhead over pandas at
equal cores (local[1] vs n_jobs=1, local[2] vs n_jobs=2), and the load average of the machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

from crmml.datasets import make_synthetic_crm
from crmml.features import build_features

AS_OF = "2024-07-01"


def _pandas(paths, n_jobs):
    t0 = time.perf_counter()
    tx, ev, cu = (pd.read_parquet(paths[n]) for n in ("transactions", "events", "customers"))
    f = build_features(tx, AS_OF, ev, cu, n_jobs=n_jobs)
    return time.perf_counter() - t0, len(f)


def _spark(paths, master, buckets):
    from crmml import spark as cs
    from crmml.spark._cli import read_parquet

    session = cs.get_session(master, shuffle_partitions=buckets, app_name="crmml-bench",
                             conf={"spark.driver.memory": "6g", "spark.sql.adaptive.enabled": "false"})
    session.sparkContext.setLogLevel("ERROR")
    try:
        t0 = time.perf_counter()
        tx, ev, cu = (read_parquet(session, paths[n]) for n in ("transactions", "events", "customers"))
        cs.build_features(tx, AS_OF, ev, cu).write.format("noop").mode("overwrite").save()
        return time.perf_counter() - t0
    finally:
        session.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--customers", type=int, default=1_000_000)
    p.add_argument("--buckets", type=int, default=None, help="customer buckets (default: 8 per core, at least 8)")
    args = p.parse_args(argv)
    crm = make_synthetic_crm(n_customers=args.customers, seed=0)
    with tempfile.TemporaryDirectory(prefix="crmml-bench-spark-") as d:
        paths = {}
        for n in ("transactions", "events", "customers"):
            paths[n] = Path(d) / f"{n}.parquet"
            getattr(crm, n).to_parquet(paths[n], index=False)
        n_lines = len(crm.transactions)
        del crm
        print(f"{args.customers:,} customers, {n_lines:,} transaction lines; load average before: "
              f"{os.getloadavg()[0]:.2f}")
        times = {}
        for n_jobs in (1, 2):
            times[f"pandas n_jobs={n_jobs}"], rows = _pandas(paths, n_jobs)
        for cores in (1, 2):
            buckets = args.buckets or max(8, 8 * cores)
            times[f"spark local[{cores}]"] = _spark(paths, f"local[{cores}]", buckets)
        for k, v in times.items():
            print(f"{k:<20} {v:8.1f} s   {args.customers / v:>10,.0f} customers/s")
        print(f"rows: {rows:,}")
        ratio = times["spark local[1]"] / times["spark local[2]"]
        print(f"throughput local[2] / local[1]: {ratio:.2f}x (goal >= 1.7x)")
        for c in (1, 2):
            print(f"Spark overhead at {c} core(s): {times[f'spark local[{c}]'] / times[f'pandas n_jobs={c}']:.2f}x "
                  "the pandas time")
        print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
