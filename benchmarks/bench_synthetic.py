"""Time and peak memory of make_synthetic_crm.

Usage: python benchmarks/bench_synthetic.py [n_customers ...]   (default: 100000 1000000)
"""

from __future__ import annotations

import resource
import sys
import time

from crmml.datasets import make_synthetic_crm


def main(sizes):
    for n in sizes:
        t0 = time.perf_counter()
        crm = make_synthetic_crm(n_customers=n, seed=0, params={"basket_extra_items": 2.6})
        dt = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
        print(f"make_synthetic_crm n_customers={n:>9,}: {dt:6.1f} s, {len(crm.transactions):>11,} transaction lines, "
              f"{len(crm.events):>11,} events, {len(crm.leads):>8,} leads; peak RSS so far {peak:.1f} GB")
        del crm


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
