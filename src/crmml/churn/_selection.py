"""How ChurnModel chooses what it ships: adaptive boosting rounds, the baseline as a candidate, the calibration.

A churn model is used on customers *after* the snapshots it learned from, so every choice below is made on the
validation split that ``ChurnModel.fit`` holds out (the latest snapshot cutoff when rows carry one):

- **Rounds**: early stopping picks the number of trees; when it has not stopped by ``n_estimators`` (the cap, not
  the data, ended the boosting) the fit is repeated with the learning rate doubled, at most twice.
- **Baseline as a candidate**: when ``X`` has the recency and frequency columns of
  :func:`crmml.features.build_features`, :class:`RecencyFrequencyBaseline` is fitted on the same training rows;
  if it ranks the validation customers better (higher ROC-AUC), the baseline is what ``predict_proba`` and
  ``explain`` use, with a warning. ``selection_`` records both.
- **Calibration slope, pooled over forward folds** (:func:`forward_fold_scores`): with snapshot cutoffs
  ``s1 < s2 < ... < sk``, every snapshot after the first is predicted by a model trained only on the snapshots
  before it (``s1 -> s2``, ``s1, s2 -> s3``, ...; the last fold is the early-stopping fit, the others reuse its
  validated rounds and learning rate). The Platt slope is fitted on these pooled out-of-time scores with one
  intercept per fold (:meth:`ProbabilityCalibrator.fit` with ``periods``), so it measures how well the scores
  rank within a period and is not bent by the churn rate drifting between periods. With two snapshots this is
  the one validation snapshot; without cutoffs, the stratified holdout.
- **Level** (``ProbabilityCalibrator.match_rate``): after the refit on every snapshot, the intercept is set so
  the mean probability over all training snapshots equals their churn rate, which is steadier than one
  snapshot's churn rate (measured in ``benchmarks/churn_vs_baseline.py``).

What calibration cannot do: the level of the *next* period is a forecast. Measured on the real backtests, where
the model's ECE exceeds the baseline's by more than 0.01 the excess is level (mean probability vs the period's
churn rate), not shape: features that move with the age of the log (tenure, 365-day trends) shift the boosted
model's mean, trees extrapolate them flat, and the baseline's logistic extrapolates the growth of purchase
counts downward, which happened to match autumn churn drops there and missed by 0.10 at another cutoff. No
rule fitted on the training snapshots alone (one or pooled folds, level from the folds or from all snapshots,
in-sample Platt, stacking with the baseline) closed that gap; see the README (section churn).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml.evaluation import roc_auc

__all__ = ["MAX_RATE_DOUBLINGS", "boost_until_stopped", "compare_with_baseline", "forward_fold_scores"]

#: how often the learning rate is doubled when early stopping never stopped before the round cap
MAX_RATE_DOUBLINGS = 2
MODEL, BASELINE = "churn_model", "recency_frequency_baseline"


def boost_until_stopped(make, fit, n_estimators: int, learning_rate: float):
    """Fit ``make(learning_rate)`` with ``fit``; while early stopping ran into the cap, double the rate.

    Returns ``(model, learning_rate_used)``.
    """
    rate = float(learning_rate)
    for attempt in range(MAX_RATE_DOUBLINGS + 1):
        model = fit(make(rate))
        # early stopping ended the boosting only if fewer rounds than the cap were built; a best round just
        # below the cap (no patience left to stop) still means the cap was the limit
        stopped = model.get_booster().num_boosted_rounds() < n_estimators
        if stopped or attempt == MAX_RATE_DOUBLINGS or rate >= 1.0:
            return model, rate
        rate = min(2.0 * rate, 1.0)
    return model, rate  # pragma: no cover - the loop always returns


def forward_fold_scores(fit_fixed, Xe: pd.DataFrame, y: np.ndarray, t, raw_latest):
    """Out-of-time scores of every snapshot after the first, each from a model trained only on earlier snapshots.

    ``t`` holds each row's snapshot cutoff (at least two distinct values); ``raw_latest`` the scores of the
    latest snapshot from the early-stopping fit (trained on all earlier snapshots), so only the folds of the
    snapshots in between are fitted here, by ``fit_fixed(X, y)`` (the validated rounds, no early stopping).
    A fold whose training rows have a single class is skipped. Returns ``(scores, y, period)``, ``period``
    numbering the predicted snapshots from 1 (for :meth:`ProbabilityCalibrator.fit`).
    """
    t = np.asarray(t)
    cuts = np.unique(t)
    scores, outcomes, periods = [], [], []
    for k, cut in enumerate(cuts[1:], start=1):
        past, now = t < cut, t == cut
        if k < len(cuts) - 1:
            if len(np.unique(y[past])) < 2:
                continue
            scores.append(fit_fixed(Xe[past], y[past]).predict_proba(Xe[now])[:, 1])
        else:
            scores.append(np.asarray(raw_latest, dtype=float))
        outcomes.append(y[now])
        periods.append(np.full(int(now.sum()), k, dtype=np.int64))
    return np.concatenate(scores), np.concatenate(outcomes), np.concatenate(periods)


def log_loss(y, p) -> float:
    p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
    y = np.asarray(y, float)
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def compare_with_baseline(baseline, X: pd.DataFrame, y: np.ndarray, tr, va, raw_va, calibrated_va, owner: str):
    """Fit ``baseline`` on the training rows and compare it with the model on the validation rows.

    Returns ``(selection, fitted_baseline_or_None)``: ``selection`` has one row per candidate with
    ``validation_roc_auc``, ``validation_log_loss`` and ``chosen``. The baseline is chosen only when its
    ROC-AUC is strictly higher (a warning says so); it is left out when ``X`` lacks its columns.
    """
    rows = {MODEL: {"validation_roc_auc": roc_auc(y[va], raw_va),
                    "validation_log_loss": log_loss(y[va], calibrated_va)}}
    fitted = None
    if all(c in X.columns for c in (baseline.recency, baseline.frequency)):
        fitted = baseline.fit(X.iloc[tr], y[tr])
        pb = fitted.predict_proba(X.iloc[va])[:, 1]
        rows[BASELINE] = {"validation_roc_auc": roc_auc(y[va], pb), "validation_log_loss": log_loss(y[va], pb)}
    table = pd.DataFrame.from_dict(rows, orient="index").rename_axis("candidate")
    chosen = MODEL
    if BASELINE in rows and rows[BASELINE]["validation_roc_auc"] > rows[MODEL]["validation_roc_auc"]:
        chosen = BASELINE
        warnings.warn(f"{owner}: the recency-frequency baseline ranks the validation customers better than the "
                      f"boosted model (ROC-AUC {rows[BASELINE]['validation_roc_auc']:.4f} vs "
                      f"{rows[MODEL]['validation_roc_auc']:.4f}), so the fitted ChurnModel predicts with the "
                      "baseline (selection_, chosen_). More history (snapshots), events or customer attributes "
                      "give the model something the baseline does not have.", UserWarning, stacklevel=4)
    table["chosen"] = table.index == chosen
    return table, (fitted if chosen == BASELINE else None)
