"""How ChurnModel chooses what it ships: adaptive boosting rounds, the baseline as a candidate, the level.

A churn model is used on customers *after* the snapshots it learned from, so every choice below is made on the
validation split that ``ChurnModel.fit`` holds out (the latest snapshot cutoff when rows carry one):

- **Rounds**: early stopping picks the number of trees; when it has not stopped by ``n_estimators`` (the cap, not
  the data, ended the boosting) the fit is repeated with the learning rate doubled, at most twice.
- **Baseline as a candidate**: when ``X`` has the recency and frequency columns of
  :func:`crmml.features.build_features`, :class:`RecencyFrequencyBaseline` is fitted on the same training rows;
  if it ranks the validation customers better (higher ROC-AUC), the baseline is what ``predict_proba`` and
  ``explain`` use, with a warning. ``selection_`` records both.
- **Level** (``ProbabilityCalibrator.match_rate``): with snapshot cutoffs, the calibrator's slope comes from the
  out-of-time validation snapshot and its level from all snapshots together (the mean probability over the
  training rows equals their churn rate), which is steadier than one snapshot's churn rate (measured in
  ``benchmarks/churn_vs_baseline.py``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml.evaluation import roc_auc

__all__ = ["MAX_RATE_DOUBLINGS", "boost_until_stopped", "compare_with_baseline"]

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
        if int(model.best_iteration) < n_estimators - 1 or attempt == MAX_RATE_DOUBLINGS or rate >= 1.0:
            return model, rate
        rate = min(2.0 * rate, 1.0)
    return model, rate  # pragma: no cover - the loop always returns


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
