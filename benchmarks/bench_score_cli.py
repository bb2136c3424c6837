"""End-to-end speed of ``crmml score``: customers scored per minute.

Usage::

    python benchmarks/bench_score_cli.py                      # 1M customers (the target size)
    python benchmarks/bench_score_cli.py --customers 100000 --kinds segments,churn
    python benchmarks/bench_score_cli.py --workdir /tmp/b --reuse --batch 250000   # bounded memory

Not timed: generating the synthetic CRM (``make_synthetic_crm``), writing its
transactions to parquet, and training the models (``crmml train`` on a
``--train-customers`` subset). Timed: each ``crmml score --model M --input tx.parquet
--output out.parquet`` as a separate process, end to end: Python start-up and imports,
reading parquet, schema validation, point-in-time features, the model, and writing
the scores. Peak memory is that process's peak RSS (``os.wait4``), input frames included. Each model is
scored ``--repeat`` times (default 3): the median, min and max wall time and the largest peak RSS are printed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _crmml(*args) -> tuple[float, float]:
    """Run ``crmml *args`` in a fresh process; (wall seconds, peak RSS MB of that process)."""
    cmd = [sys.executable, "-m", "crmml.cli", *map(str, args)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024


def _prepare(work: Path, customers: int, seed: int, train_customers: int) -> None:
    """Write the synthetic transactions (all, and the training customers') and their metadata to ``work``."""
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=customers, seed=seed, n_leads=500, with_events=False)
    tx = crm.transactions[["customer_id", "timestamp", "amount", "transaction_id"]]
    as_of = (crm.start + (crm.end - crm.start) * 0.8).normalize()
    tx.to_parquet(work / "tx.parquet", index=False)
    ids = crm.customers["customer_id"].to_numpy()[:train_customers]
    tx[tx["customer_id"].isin(ids)].to_parquet(work / "train_tx.parquet", index=False)
    meta = {"customers": int(tx["customer_id"].nunique()), "rows": len(tx), "as_of": str(as_of.date())}
    (work / "info.json").write_text(json.dumps(meta))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--train-customers", type=int, default=50_000)
    ap.add_argument("--kinds", default="segments,churn", help="comma-separated: segments, churn, clv")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--reuse", action="store_true", help="reuse the data already in --workdir")
    ap.add_argument("--batch", type=int, default=None, help="crmml score --batch N (customers per part)")
    ap.add_argument("--repeat", type=int, default=3, help="score runs per model (min and median printed)")
    args = ap.parse_args()

    import pandas as pd

    work = Path(args.workdir or tempfile.mkdtemp(prefix="crmml_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    full, train, info = work / "tx.parquet", work / "train_tx.parquet", work / "info.json"
    t0 = time.perf_counter()
    if not (args.reuse and info.exists()):
        # in a child process: a crmml process started from this one inherits its resident size at the fork as the
        # start of its peak RSS (Linux), so this process must never hold the 20M generated lines
        child = multiprocessing.get_context("spawn").Process(
            target=_prepare, args=(work, args.customers, args.seed, args.train_customers))
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating the data failed (exit code {child.exitcode})")
    meta = json.loads(info.read_text())
    as_of = pd.Timestamp(meta["as_of"])
    print(f"data: {meta['customers']:,} customers, {meta['rows']:,} transaction lines, as_of {as_of.date()} "
          f"(ready in {time.perf_counter() - t0:.0f} s; {full.stat().st_size / 2**20:,.0f} MB "
          f"parquet); cpus: {os.cpu_count()}")
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        model = work / f"{kind}.zip"
        t_train, _ = _crmml("--quiet", "train", kind, "--input", train, "--model", model, "--as-of", as_of.date())
        out = work / f"{kind}_scores.parquet"
        batch = ["--batch", args.batch] if args.batch else []
        runs = [_crmml("--quiet", "score", "--model", model, "--input", full, "--output", out,
                       "--as-of", as_of.date(), *batch) for _ in range(max(1, args.repeat))]
        walls = sorted(w for w, _ in runs)
        wall, peak = statistics.median(walls), max(p for _, p in runs)
        n_out = len(pd.read_parquet(out, columns=[]))
        print(f"{kind:>9}{' (batch ' + format(args.batch, ',') + ')' if args.batch else ''}: train on "
              f"{args.train_customers:,} customers {t_train:.1f} s; score {n_out:,} customers end to end, "
              f"{len(walls)} runs: median {wall:.1f} s = {n_out / wall * 60:,.0f} customers/min (min {walls[0]:.1f} s, "
              f"max {walls[-1]:.1f} s); peak RSS {peak:,.0f} MB; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
