"""ChurnModel against the recency-frequency baseline, walk-forward on every real log: ROC-AUC and ECE per cutoff.

    python benchmarks/churn_vs_baseline.py [--datasets online_retail,cdnow,grocery] [--quick] [--model logistic]
                                           [--level latest|trend|trend0.5]

Default backtest settings (45-day horizon, 3 training snapshots 45 days apart, all windows). Prints one row per
(dataset, cutoff) and the mean and standard deviation over cutoffs per dataset: never the best cutoff alone.
``level_*`` is the mean probability minus the churn rate of the test period; ``ece_shape_*`` the ECE once that
level error is removed (logits shifted so the mean probability equals the rate): the part of the ECE that
calibration of the scores' shape is responsible for. ``--model logistic`` backtests, in place of ``ChurnModel()``, the
candidate issue 14 names first (:class:`LogisticOnLogFeatures`: L2 logistic regression on every numeric feature,
sign-log scaled, median-imputed and standardised), to compare it with ``ChurnModel()`` cutoff by cutoff. ``--level`` replaces ``ChurnModel``'s calibration level (the
mean probability over all training snapshots = their churn rate) by another forecast of the next period's level
(:class:`LevelRuleChurnModel`), to measure whether one forecasts it better.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from crmml.churn import ChurnModel, backtest
from crmml.datasets import load_cdnow, load_grocery, load_online_retail
from crmml.evaluation import expected_calibration_error, roc_auc

#: test cutoffs: 4 per log, spread over the part of each log with a year of history and 45 days after
CUTOFFS = {"online_retail": ["2011-07-01", "2011-08-15", "2011-09-25", "2011-10-20"],
           "cdnow": ["1997-10-01", "1997-12-01", "1998-02-01", "1998-04-01"],
           "grocery": ["2007-03-01", "2007-06-01", "2007-09-01", "2007-11-01"]}
LOADERS = {"online_retail": load_online_retail, "cdnow": load_cdnow, "grocery": load_grocery}


class LogisticOnLogFeatures(ClassifierMixin, BaseEstimator):
    """L2 logistic regression (``C``) on the numeric columns, ``sign(x) log(1 + |x|)``, median-imputed, standardised."""

    def __init__(self, C=0.1):
        self.C = C

    def _log(self, X):
        Z = X[self.columns_].astype(float)
        return np.sign(Z) * np.log1p(np.abs(Z))

    def _design(self, X):
        return self._log(X).fillna(self.median_).fillna(0.0)

    def fit(self, X, y, *, time=None):
        self.columns_ = list(X.select_dtypes("number").columns)
        self.median_ = self._log(X).median()
        Z = self._design(X)
        self.mean_, self.scale_ = Z.mean(), Z.std().replace(0.0, 1.0).fillna(1.0)
        self.lr_ = LogisticRegression(C=self.C, max_iter=2000).fit(((Z - self.mean_) / self.scale_).to_numpy(), y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        return self.lr_.predict_proba(((self._design(X) - self.mean_) / self.scale_).to_numpy())


class LevelRuleChurnModel(ChurnModel):
    """``ChurnModel`` whose calibration level is set after ``fit`` by another rule, on the latest snapshot's rows.

    ``latest``: its churn rate; ``trend``: that rate's logit plus ``damp`` x the per-snapshot slope of a line
    through every snapshot's logit churn rate (a linear-trend forecast of the next period). Only when the boosted
    model was chosen (the baseline keeps its own level).
    """

    def __init__(self, level_rule="latest", damp=1.0, **params):
        super().__init__(**params)
        self.level_rule = level_rule
        self.damp = damp

    def fit(self, X, y, *, time=None):
        super().fit(X, y, time=time)
        if time is None or self.chosen_ != "churn_model":
            return self
        s = self.model_.predict_proba(self._encode(X.set_axis(self.feature_names_in_, axis=1)))[:, 1]
        y, t = np.asarray(y, float), pd.to_datetime(np.asarray(time))
        cuts = np.unique(t)
        rates = logit(np.clip([y[t == c].mean() for c in cuts], 1e-4, 1 - 1e-4))
        slope = np.polyfit(np.arange(len(cuts), dtype=float), rates, 1)[0] if self.level_rule == "trend" else 0.0
        target = expit(rates[-1] + self.damp * slope)
        cal = self.calibrator_
        z = cal._logit(s[t == cuts[-1]])
        cal.intercept_ = float(brentq(lambda b: expit(cal.coef_ * z + b).mean() - target, -50.0, 50.0))
        return self


def level_free(y, p) -> np.ndarray:
    """``p`` with its logits shifted by one constant so that its mean equals the rate of ``y``."""
    z = logit(np.clip(np.asarray(p, float), 1e-9, 1 - 1e-9))
    return expit(z + brentq(lambda d: expit(z + d).mean() - np.mean(y), -30.0, 30.0))


def run(name: str, model=None, quick: bool = False) -> pd.DataFrame:
    tx = LOADERS[name]()
    cutoffs = CUTOFFS[name][-2:] if quick else CUTOFFS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = backtest(tx, cutoffs, model=model)
    rows = []
    for c, g in res.predictions.groupby("cutoff"):
        y = g["churned"].to_numpy()
        rows.append({"dataset": name, "cutoff": pd.Timestamp(c).date(), "n": len(g), "churn_rate": y.mean(),
                     "auc_model": roc_auc(y, g["p_model"]), "auc_baseline": roc_auc(y, g["p_baseline"]),
                     "ece_model": expected_calibration_error(y, g["p_model"]),
                     "ece_baseline": expected_calibration_error(y, g["p_baseline"]),
                     "level_model": g["p_model"].mean() - y.mean(), "level_baseline": g["p_baseline"].mean() - y.mean(),
                     "ece_shape_model": expected_calibration_error(y, level_free(y, g["p_model"])),
                     "ece_shape_baseline": expected_calibration_error(y, level_free(y, g["p_baseline"]))})
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="online_retail,cdnow,grocery")
    ap.add_argument("--quick", action="store_true", help="the last 2 cutoffs only")
    ap.add_argument("--model", choices=["churn", "logistic"], default="churn",
                    help="ChurnModel() (default) or LogisticOnLogFeatures() in its place")
    ap.add_argument("--level", choices=["latest", "trend", "trend0.5"],
                    help="ChurnModel with this calibration level rule instead of the pooled one")
    args = ap.parse_args(argv)
    model = ChurnModel() if args.model == "churn" else LogisticOnLogFeatures()
    if args.level:
        model = LevelRuleChurnModel(level_rule=args.level.replace("0.5", ""), damp=0.5 if "0.5" in args.level else 1.0)
    out = []
    for name in args.datasets.split(","):
        t0 = time.perf_counter()
        out.append(run(name, model, args.quick))
        print(f"{name}: {time.perf_counter() - t0:.0f} s", flush=True)
    table = pd.concat(out, ignore_index=True)
    table["auc_lead"] = table["auc_model"] - table["auc_baseline"]
    pd.set_option("display.width", 200)
    print(table.round(4).to_string(index=False))
    cols = ["auc_model", "auc_baseline", "auc_lead", "ece_model", "ece_baseline"]
    print(table.groupby("dataset")[cols].agg(["mean", "std"]).round(4).to_string())


if __name__ == "__main__":
    main()
