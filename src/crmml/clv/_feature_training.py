"""How FeatureCLVModel trains: target window, stacked snapshots, the baseline as offset, rounds, selection.

- **Target window** ``w`` (:func:`training_window`): the horizon, or half the history before ``as_of`` when
  that is shorter, so the training cutoff ``as_of - w`` leaves at least as much history for the features and
  the BG/NBD fit as the window it forecasts. A short log (e.g. CDNOW's 39 + 39 weeks: 273 days of history for
  a 273-day horizon) then still trains, on a 136-day window.
- **Snapshots** (:func:`snapshot_cutoffs`): cutoffs ``as_of - w``, ``as_of - 2w``, ... (non-overlapping target
  windows, every cutoff with at least ``w`` days of history), at most ``n_snapshots``: more rows and less
  dependence on one season than one snapshot.
- **Offset**: the boosted models predict ``exp(offset + f(x))`` with ``offset = log`` of the BG/NBD (+ Gamma-Gamma)
  forecast over the window (:func:`log_offset`); the Poisson / Tweedie objectives have a log link, so the trees
  learn a multiplicative correction of the probabilistic forecast and start from it. The offset is computed
  for ``w`` at training and for the horizon at prediction, which is what lets ``w`` be shorter than the horizon.
- **Rounds**: early stopping on a time split (the latest snapshot held out; with a single snapshot, a seeded
  quarter of its customers), through :func:`crmml.churn._selection.boost_until_stopped`; the final model is
  refitted on every snapshot with the validated rounds.
- **Selection** (:func:`select_correction`): on the same held-out rows the prediction ``offset + a f(x)`` is
  scored for ``a`` in :data:`SHRINKAGE` (``a = 0`` is the BG/NBD + Gamma-Gamma forecast itself, ``a = 1`` the
  boosted model) and the ``a`` with the lowest MAE is kept, ties going to the baseline; ``selection_`` records
  every candidate and a warning says when the baseline was chosen. Intermediate ``a`` (0.25, 0.5, 0.75) were
  measured on Online Retail and CDNOW: chosen in 4 of 10 fits, they did not lower the holdout MAE, so only the
  two ends are tried.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

__all__ = ["EARLY_STOPPING_ROUNDS", "OFFSET_FLOOR", "SHRINKAGE", "VALIDATION_SHARE", "log_offset",
           "select_correction", "snapshot_cutoffs", "training_window", "validation_rows"]

#: smallest forecast (purchases or revenue over the window) whose log is the offset: keeps the log finite for
#: customers BG/NBD gives up on, far below any forecast that matters in purchases or currency units
OFFSET_FLOOR = 1e-6
#: rounds without improvement of the validation loss before boosting stops: 2.5 / learning_rate at the default
#: 0.05, long enough to cross a plateau of the noisy count/revenue losses, short next to the 1000-round cap
EARLY_STOPPING_ROUNDS = 50
#: share of customers held out when there is a single snapshot (no later snapshot to hold out): enough
#: held-out customers to compare MAE with the baseline, three quarters left to learn from
VALIDATION_SHARE = 0.25
#: shrinkage factors of the boosted correction tried on the held-out rows: the baseline (0) or the model (1)
SHRINKAGE = (0.0, 1.0)


def training_window(first: pd.Timestamp, as_of: pd.Timestamp, horizon_days: int) -> int:
    """Target window in days: ``min(horizon_days, half the days of history before as_of)`` (0 when < 1 day)."""
    history = (as_of - first) / pd.Timedelta(days=1)
    return int(min(int(horizon_days), np.floor(history / 2)))


def snapshot_cutoffs(first: pd.Timestamp, as_of: pd.Timestamp, window: int, n_snapshots: int) -> list:
    """Cutoffs ``as_of - k w`` (k = 1, 2, ...), latest first, while at least ``w`` days of history precede them."""
    step = pd.Timedelta(days=window)
    cuts = []
    for k in range(1, int(n_snapshots) + 1):
        cut = as_of - k * step
        if cut - first < step and k > 1:
            break
        cuts.append(cut)
    return cuts


def log_offset(forecast) -> np.ndarray:
    """``log(max(forecast, OFFSET_FLOOR))``: the margin of a log-link objective."""
    return np.log(np.maximum(np.asarray(forecast, dtype="float64"), OFFSET_FLOOR))


def validation_rows(t: np.ndarray, customer: np.ndarray, random_state: int) -> np.ndarray:
    """Boolean mask of the held-out rows: the latest snapshot, or a seeded share of customers if only one.

    >>> validation_rows(np.array([1, 1, 2, 2]), np.array([7, 8, 7, 8]), 0).tolist()
    [False, False, True, True]
    """
    t = np.asarray(t)
    if len(np.unique(t)) > 1:
        return t == t.max()
    ids = np.unique(customer)
    if len(ids) < 2:        # nothing to hold out: the caller validates on the training rows
        return np.zeros(len(customer), dtype=bool)
    rng = np.random.default_rng(random_state)
    held = rng.choice(ids, size=max(1, int(round(VALIDATION_SHARE * len(ids)))), replace=False)
    return np.isin(customer, held)


def _spearman(pred, y) -> float:
    if np.ptp(pred) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(pred, y)[0])


def select_correction(target: str, y, offset, margin, owner: str):
    """Shrink the boosted correction on held-out rows: returns ``(table, a)``.

    ``margin`` is the model's log-scale prediction (offset included) on the held-out rows; candidate ``a``
    predicts ``exp(offset + a (margin - offset))``. ``a`` minimises the MAE (ties: the smaller ``a``);
    the table has one row per ``a`` with the validation MAE, Spearman correlation and total / actual.
    """
    y, offset, margin = (np.asarray(v, dtype="float64") for v in (y, offset, margin))
    rows = []
    for a in SHRINKAGE:
        pred = np.exp(offset + a * (margin - offset))
        rows.append({"target": target, "shrinkage": float(a), "validation_mae": float(np.mean(np.abs(pred - y))),
                     "validation_spearman": _spearman(pred, y),
                     "validation_total_ratio": float(pred.sum() / y.sum()) if y.sum() > 0 else float("nan")})
    table = pd.DataFrame(rows)
    best = float(table.loc[table["validation_mae"].idxmin(), "shrinkage"])
    table["chosen"] = table["shrinkage"] == best
    if best == 0.0:
        base, full = table.iloc[0], table.iloc[-1]
        warnings.warn(f"{owner}: on the held-out snapshot the boosted {target} model does not beat the BG/NBD + "
                      f"Gamma-Gamma forecast (MAE {full['validation_mae']:.4g} vs {base['validation_mae']:.4g}), "
                      f"so the fitted model predicts {target} with that forecast (selection_). More history "
                      "(snapshots), events or customer attributes give the model something the baseline does not "
                      "have.", UserWarning, stacklevel=4)
    return table, best
