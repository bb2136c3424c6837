"""CLV: summary speed, and fit times of crmml vs lifetimes side by side (CDNOW full, synthetic 1M customers).

Usage: python benchmarks/bench_clv.py [n_customers]     (default: 1000000; 0 skips the synthetic base)

Models with a lifetimes counterpart are timed side by side (BG/NBD, MBG/NBD, Pareto/NBD, Gamma-Gamma on
CDNOW full; BG/BB on CDNOW full in weekly opportunities and on lifetimes' donations data).

Prints, for each dataset, the wall time of each fit (crmml and lifetimes 0.11.3 on the same summary),
the speed-up, the parameters of both and the peak RSS. On CDNOW each fit is timed as the best of 3
runs for both libraries; on the synthetic million, once each.
"""

from __future__ import annotations

import resource
import sys
import time
import warnings

import numpy as np

from crmml.clv import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    calibration_holdout,
    summarize,
)
from crmml.datasets import load_cdnow, make_synthetic_crm


def _peak_gb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def _best_of(fn, repeat):
    """Fastest of ``repeat`` runs (the machine is shared: the minimum is the least disturbed)."""
    best = None
    for _ in range(repeat):
        out, t = _timed(fn)
        best = t if best is None else min(best, t)
    return out, best


def _side_by_side(label, summary, models, repeat=1):
    from lifetimes import (
        BetaGeoBetaBinomFitter,
        BetaGeoFitter,
        GammaGammaFitter,
        ModifiedBetaGeoFitter,
        ParetoNBDFitter,
    )

    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    rep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    theirs = {
        "BG/NBD": (BetaGeoModel(), lambda: BetaGeoFitter().fit(x, tx, T)),
        "MBG/NBD": (ModifiedBetaGeoModel(), lambda: ModifiedBetaGeoFitter().fit(x, tx, T)),
        "Pareto/NBD": (ParetoNBDModel(), lambda: ParetoNBDFitter().fit(x, tx, T)),
        "Gamma-Gamma": (GammaGammaModel(), lambda: GammaGammaFitter().fit(
            summary.loc[rep, "frequency"].to_numpy(), summary.loc[rep, "monetary_value"].to_numpy())),
    }
    if "T" in summary and (summary["T"] == summary["T"].round()).all():      # weekly opportunities for BG/BB
        opp = summary.assign(n_periods=summary["T"])
        rows = opp.groupby(["frequency", "recency", "n_periods"]).size().reset_index(name="w")   # lifetimes' usage
        theirs["BG/BB"] = (BetaGeoBetaBinomModel(), lambda: BetaGeoBetaBinomFitter().fit(
            rows["frequency"], rows["recency"], rows["n_periods"], rows["w"]))
    for name in models:
        ours, lt_fit = theirs[name]
        data = opp if name == "BG/BB" else summary
        m, t_ours = _best_of(lambda: ours.fit(data), repeat)
        try:
            lt, t_lt = _best_of(lt_fit, repeat)
        except Exception as exc:  # noqa: BLE001 - report the peer's failure, keep benchmarking
            print(f"  {label:<28} {name:<12} crmml {t_ours:7.2f} s   lifetimes failed ({type(exc).__name__})   "
                  f"params crmml {np.round(m.params_.to_numpy(), 4).tolist()} converged {m.converged_}")
            continue
        print(f"  {label:<28} {name:<12} crmml {t_ours:7.2f} s   lifetimes {t_lt:7.2f} s   "
              f"speed-up {t_lt / t_ours:5.1f}x   params crmml {np.round(m.params_.to_numpy(), 4).tolist()} "
              f"lifetimes {np.round(np.asarray(lt.params_), 4).tolist()}")


def _donations():
    from lifetimes import BetaGeoBetaBinomFitter
    from lifetimes.datasets import load_donations

    d = load_donations()
    s = d.rename(columns={"periods": "n_periods"})[["frequency", "recency", "n_periods"]]
    w = d["weights"].to_numpy()
    m, t_ours = _best_of(lambda: BetaGeoBetaBinomModel().fit(s, sample_weight=w), 3)
    lt, t_lt = _best_of(lambda: BetaGeoBetaBinomFitter().fit(d["frequency"], d["recency"], d["periods"], w), 3)
    print(f"  {'donations (11,104 donors)':<28} {'BG/BB':<12} crmml {t_ours:7.2f} s   lifetimes {t_lt:7.2f} s   "
          f"speed-up {t_lt / t_ours:5.1f}x   params crmml {np.round(m.params_.to_numpy(), 4).tolist()} "
          f"lifetimes {np.round(np.asarray(lt.params_), 4).tolist()}")


def main(n_customers: int):
    warnings.simplefilter("ignore")
    print("machine: 2 cores (shared with other work while measured); peak RSS is of this process")
    tx = load_cdnow()
    for freq in ("D", "W"):
        s, t = _timed(lambda: calibration_holdout(tx, "1997-10-01", "1998-07-01", freq=freq))
        print(f"CDNOW full ({len(s):,} customers), calibration to 1997-09-30, freq={freq}: "
              f"calibration_holdout {t:.2f} s")
        models = ["BG/NBD", "MBG/NBD", "Pareto/NBD", "Gamma-Gamma"] + (["BG/BB"] if freq == "W" else [])
        _side_by_side(f"CDNOW full freq={freq}", s, models, repeat=3)
    _donations()
    if n_customers <= 0:
        return

    crm, t = _timed(lambda: make_synthetic_crm(n_customers=n_customers, seed=0, with_events=False))
    lines = len(crm.transactions)
    print(f"synthetic: {n_customers:,} customers, {lines:,} transaction lines generated in {t:.1f} s")
    s, t = _timed(lambda: summarize(crm.transactions, crm.end))
    print(f"  summarize(freq='D') on {lines:,} lines: {t:.2f} s ({lines / t / 1e6:.1f} M lines/s); "
          f"peak RSS {_peak_gb():.1f} GB")
    _side_by_side(f"synthetic {n_customers:,} freq=D", s, ["BG/NBD", "Gamma-Gamma"])
    m, t = _timed(lambda: ParetoNBDModel().fit(s))
    print(f"  synthetic Pareto/NBD crmml only: {t:.2f} s (lifetimes skipped: minutes)")
    print(f"peak RSS {_peak_gb():.1f} GB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
