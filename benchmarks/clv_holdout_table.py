"""Every CLV purchase model side by side on the same calibration/holdout splits (holdout purchases per customer).

Usage: python benchmarks/clv_holdout_table.py

Splits: CDNOW full, 39 + 39 weeks (weekly occasions); the grocery log, calibration 2006 / holdout 2007
(daily, Platzer & Reutterer's split); Online Retail, 90-day holdouts after four cutoffs (daily). Per model:
``sum |forecast - actual| / sum actual`` (lower is better; BG/NBD is the baseline row) and the signed total
error; for Online Retail the mean over the cutoffs with its standard deviation. Every model is fit on the
calibration part only. (M)BG/CNBD-k appear twice: with the model's exact conditional expectation (the default,
``forecast="exact"``) and with BTYDplus' published forecast (``forecast="btydplus"``), on the same fit.
"""

from __future__ import annotations

import time
import warnings
from functools import partial

import numpy as np
import pandas as pd

from crmml.clv import (
    BetaGeoCNBDModel,
    BetaGeoModel,
    ModifiedBetaGeoCNBDModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ParetoNBDModel,
    calibration_holdout,
)
from crmml.datasets import load_cdnow, load_grocery, load_online_retail

# (M)BG/CNBD-k: the exact conditional expectation (the default) and BTYDplus' published forecast
MODELS = {"NBD": NBDModel, "BG/NBD": BetaGeoModel, "MBG/NBD": ModifiedBetaGeoModel, "Pareto/NBD": ParetoNBDModel,
          "BG/CNBD-k": BetaGeoCNBDModel, "BG/CNBD-k btydplus": partial(BetaGeoCNBDModel, forecast="btydplus"),
          "MBG/CNBD-k": ModifiedBetaGeoCNBDModel,
          "MBG/CNBD-k btydplus": partial(ModifiedBetaGeoCNBDModel, forecast="btydplus")}


def _scores(s):
    actual = s["frequency_holdout"].to_numpy(float)
    t = float(s["duration_holdout"].iloc[0])
    out = {}
    for name, cls in MODELS.items():
        t0 = time.perf_counter()
        m = cls().fit(s)
        pred = m.conditional_expected_purchases(s, t).to_numpy()
        out[name] = {"error": np.abs(pred - actual).sum() / actual.sum(), "total": pred.sum() / actual.sum() - 1,
                     "k": getattr(m, "k_", ""), "fit_s": time.perf_counter() - t0}
    return pd.DataFrame(out).T


def main():
    warnings.simplefilter("ignore")
    pd.set_option("display.width", 160)
    cd = calibration_holdout(load_cdnow(), "1997-10-01", "1998-07-01", freq="W", litt=True)
    print(f"CDNOW full, 39+39 weeks, {len(cd):,} customers, {int(cd['frequency_holdout'].sum()):,} holdout occasions")
    print(_scores(cd).round(3).to_string(), "\n")
    gr = calibration_holdout(load_grocery(), "2007-01-01", "2007-12-31", freq="D", litt=True)
    print(f"grocery log, 2006 / 2007, {len(gr):,} customers (published: BG/NBD 0.710, Pareto/NBD 0.679, "
          "MBG/CNBD-k 0.644)")
    print(_scores(gr).round(3).to_string(), "\n")
    tx = load_online_retail()
    runs = []
    for cut in ("2011-06-01", "2011-07-01", "2011-08-01", "2011-09-01"):
        end = pd.Timestamp(cut) + pd.Timedelta(days=90)
        runs.append(_scores(calibration_holdout(tx, cut, end, freq="D", litt=True)).assign(cutoff=cut))
    allr = pd.concat(runs)
    agg = allr.groupby(level=0, sort=False)[["error", "total"]].agg(["mean", "std"])
    print("Online Retail, 90-day holdouts after 2011-06-01, -07-01, -08-01, -09-01: mean and sd over the 4 cutoffs")
    print(agg.round(3).to_string())


if __name__ == "__main__":
    main()
