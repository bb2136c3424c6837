"""Time and peak memory of crmml.features.build_features.

Usage::

    python benchmarks/bench_features.py                   # 1M customers (the target size)
    python benchmarks/bench_features.py --customers 200000

Data come from ``make_synthetic_crm`` (generation is not timed). Baskets are a little
larger than the default so that the frames approach the target 30 transaction
lines and 10 events per customer (1M customers / 30M lines / 10M events). Peak memory is the
peak RSS during the call (``VmHWM`` after resetting it through
``/proc/self/clear_refs`` just before the call; it includes the input frames, and the increase
over the RSS before the call is printed too). The peak of the data generation
(``ru_maxrss`` before the call) is printed separately.
"""

from __future__ import annotations

import argparse
import gc
import resource
import time

import numpy as np


def _rss_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _reset_peak():
    """Reset the kernel's peak-RSS counter (VmHWM) so that the peak of data generation is not counted."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _hwm_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dtype", default="float64")
    args = ap.parse_args()

    from crmml.datasets import make_synthetic_crm
    from crmml.features import build_features

    params = {"basket_extra_items": 2.6}
    t0 = time.perf_counter()
    crm = make_synthetic_crm(n_customers=args.customers, seed=args.seed, params=params, n_leads=500)
    gen = time.perf_counter() - t0
    tx, ev, cu = crm.transactions, crm.events, crm.customers
    crm.leads = crm.lead_events = None
    as_of = crm.start + (crm.end - crm.start) * 0.8
    gc.collect()
    rss0 = _rss_mb()
    gen_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    reset = _reset_peak()
    print(f"generated in {gen:.1f} s: {len(cu):,} customers, {len(tx):,} transaction lines, "
          f"{len(ev):,} events; as_of={as_of.date()}; RSS before: {rss0:,.0f} MB")
    t0 = time.perf_counter()
    f = build_features(tx, as_of, ev, cu, dtype=args.dtype)
    wall = time.perf_counter() - t0
    peak = _hwm_mb() if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"build_features: {wall:.1f} s wall, output {f.shape[0]:,} x {f.shape[1]} "
          f"({f.memory_usage(deep=False).sum() / 2**20:,.0f} MB), peak RSS during the call {peak:,.0f} MB "
          f"(+{peak - rss0:,.0f} MB over the inputs){'' if reset else ' (process peak, incl. generation)'}; "
          f"peak of the data generation {gen_peak:,.0f} MB")
    print(f"non-null share: {np.isfinite(f.select_dtypes('number').to_numpy()).mean():.2f}")


if __name__ == "__main__":
    main()
