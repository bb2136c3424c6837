"""Shared timing harness of the peer benchmarks (``bench_*_peers.py``): interleaved runs in one process.

Each round runs every contender once, in turn, so a burst of load from other processes on a shared machine
hits all of them alike; the figures are the min and the median over the rounds, and the ratios are taken
between medians. The peak memory growth of a call is the kernel's peak RSS (``VmHWM``, reset through
``/proc/self/clear_refs`` just before the call) minus the RSS before it.
"""

from __future__ import annotations

import gc
import os
import resource
import statistics
import time


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(fn) -> tuple[float, float, object]:
    """(wall seconds, peak RSS growth in MB, result) of one call."""
    gc.collect()
    before = rss_mb()
    ok = _reset_peak()
    t0 = time.perf_counter()
    out = fn()
    wall = time.perf_counter() - t0
    return wall, (_hwm_mb() - before) if ok else float("nan"), out


def interleaved(contenders: dict, rounds: int) -> dict:
    """Run each contender once per round, in turn; name -> {"times": [...], "growth": [...], "result": ...}."""
    res = {name: {"times": [], "growth": [], "result": None} for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            wall, growth, out = measure(fn)
            res[name]["times"].append(wall)
            res[name]["growth"].append(growth)
            res[name]["result"] = out
            del out
    return res


def report(res: dict, reference: str) -> None:
    """Print min/median time, max memory growth and the median ratio of each contender to ``reference``."""
    ref = statistics.median(res[reference]["times"])
    print(f"{'':>10} {'min s':>8} {'median s':>9} {'peak growth MB':>15} {'median / ' + reference:>18}")
    for name, r in res.items():
        med = statistics.median(r["times"])
        print(f"{name:>10} {min(r['times']):8.2f} {med:9.2f} {max(r['growth']):15,.0f} {med / ref:18.2f}")


def load_line(label: str) -> None:
    one, five, _ = os.getloadavg()
    print(f"{label}: load average {one:.2f} (1 min) {five:.2f} (5 min) on {os.cpu_count()} cpus")
