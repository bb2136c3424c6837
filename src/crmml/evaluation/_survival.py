"""Survival metrics: Kaplan-Meier, Harrell's concordance index and the (IPCW) integrated Brier score.

Conventions follow lifelines and scikit-survival: ``time`` is the observed duration, ``event`` is 1 when the
event happened at ``time`` and 0 when the row was censored there.
"""

from __future__ import annotations

import numpy as np

from crmml._utils._numeric import trapezoid
from crmml.exceptions import DataError, ParameterError

__all__ = ["concordance_index", "integrated_brier_score", "kaplan_meier"]


def _check(time, event, owner, *others):
    t = np.asarray(time, dtype=np.float64).ravel()
    e = np.asarray(event).ravel()
    if len(e) != len(t) or any(len(np.asarray(o)) != len(t) for o in others):
        raise DataError(f"{owner}: time, event and predictions must have the same length.")
    if not np.isin(e, (0, 1)).all():
        raise DataError(f"{owner}: event must hold only 0 (censored) and 1 (event).")
    if not np.isfinite(t).all() or (t < 0).any():
        raise DataError(f"{owner}: time must be finite and >= 0.")
    if len(t) == 0:
        raise DataError(f"{owner}: no rows.")
    return t, e.astype(np.int64)


def kaplan_meier(time, event):
    """Kaplan-Meier estimate of the survival function.

    Returns ``(times, survival)``: the distinct event times (sorted) and S just after each.

    Examples
    --------
    >>> t, s = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    >>> t.tolist(), s.round(3).tolist()
    ([1.0, 2.0, 3.0], [0.75, 0.5, 0.0])
    """
    t, e = _check(time, event, "kaplan_meier")
    u, inv = np.unique(t, return_inverse=True)
    d = np.bincount(inv, weights=e, minlength=len(u))
    n_at = np.bincount(inv, minlength=len(u))[::-1].cumsum()[::-1]   # at risk at each distinct time
    keep = d > 0
    s = np.cumprod(1.0 - d[keep] / n_at[keep])
    return u[keep], s


def _step(times, values, at, before=1.0):
    """Right-continuous step function (value ``before`` until the first time) evaluated at ``at``."""
    i = np.searchsorted(times, at, side="right") - 1
    return np.where(i >= 0, values[np.clip(i, 0, None)], before)


def concordance_index(time, predicted_time, event) -> float:
    """Harrell's concordance index: the share of comparable pairs whose predicted order matches the observed one.

    A pair (i, j) is comparable when ``time[i] < time[j]`` and ``event[i] == 1``; it is concordant when
    ``predicted_time[i] < predicted_time[j]``; ties in prediction count one half. 0.5 is random, 1 perfect.
    Pass a risk score as ``-risk`` (lifelines' convention: higher predicted time, later event).

    Examples
    --------
    >>> concordance_index([1, 2, 3, 4], [1.5, 2.5, 2.0, 9], [1, 1, 1, 0])
    0.8333333333333334
    """
    t, e = _check(time, event, "concordance_index", predicted_time)
    p = np.asarray(predicted_time, dtype=np.float64).ravel()
    if not np.isfinite(p).all():
        raise DataError("concordance_index: predicted_time must be finite.")
    order = np.argsort(t, kind="stable")
    t, e, p = t[order], e[order], p[order]
    num = den = 0.0
    # for each event row i: rows j with a strictly later time, in blocks (memory bounded)
    ev = np.flatnonzero(e == 1)
    first_later = np.searchsorted(t, t[ev], side="right")
    # events sharing a time share their comparable set (the suffix after that time): one sort per distinct time
    for start in np.unique(first_later):
        if start >= len(t):
            continue
        tail = np.sort(p[start:])
        rows = ev[first_later == start]
        pi = p[rows]
        greater = len(tail) - np.searchsorted(tail, pi, side="right")
        equal = np.searchsorted(tail, pi, side="right") - np.searchsorted(tail, pi, side="left")
        num += float(greater.sum()) + 0.5 * float(equal.sum())
        den += float(len(tail) * len(rows))
    if den == 0:
        raise DataError("concordance_index: no comparable pair (no event before another row's time).")
    return num / den


def integrated_brier_score(time, event, survival, times) -> float:
    """Integrated Brier score with inverse probability of censoring weights (Graf et al. 1999).

    Parameters
    ----------
    time, event : array-like of shape (n,)
        Observed durations and event flags of the evaluation rows.
    survival : array-like of shape (n, len(times))
        Predicted survival S_i(t) at each of ``times``.
    times : array-like
        Increasing evaluation times, inside the follow-up (censoring weights must be positive there).

    Returns
    -------
    float
        The Brier score averaged over ``times`` with trapezoidal weights; 0 is perfect, 0.25 a constant 0.5.

    Examples
    --------
    >>> import numpy as np
    >>> t, e = np.array([1, 2, 3, 4.0]), np.array([1, 1, 0, 1])
    >>> s = np.array([[0.2, 0.1], [0.9, 0.2], [0.9, 0.8], [0.95, 0.9]])
    >>> round(integrated_brier_score(t, e, s, [1.5, 2.5]), 3)
    0.02
    """
    t, e = _check(time, event, "integrated_brier_score")
    grid = np.asarray(times, dtype=np.float64).ravel()
    s = np.asarray(survival, dtype=np.float64)
    if s.shape != (len(t), len(grid)):
        raise DataError(f"integrated_brier_score: survival must have shape ({len(t)}, {len(grid)}); "
                        f"got {s.shape}.")
    if len(grid) < 2 or np.any(np.diff(grid) <= 0):
        raise ParameterError("integrated_brier_score: times must hold at least two increasing values.")
    ct, cs = kaplan_meier(t, 1 - e)                   # censoring survival G
    g_t = _step(ct, cs, t - 1e-9)                     # G(T_i-)
    g_grid = _step(ct, cs, grid)
    if (g_grid <= 0).any():
        raise ParameterError("integrated_brier_score: times reach beyond the follow-up (no uncensored row left).")
    scores = np.empty(len(grid))
    for k, tk in enumerate(grid):
        died = (t <= tk) & (e == 1)
        alive = t > tk
        w_d = np.where(died, 1.0 / np.where(g_t > 0, g_t, np.inf), 0.0)
        scores[k] = np.mean(w_d * s[:, k] ** 2 + alive * (1.0 - s[:, k]) ** 2 / g_grid[k])
    return float(trapezoid(scores, grid) / (grid[-1] - grid[0]))
