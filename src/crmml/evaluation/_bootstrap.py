"""Bootstrap intervals on a score's metrics and on its difference from a baseline.

The rows are resampled with replacement; model and baseline are scored on the *same*
resample each time (a paired bootstrap), so the interval of the difference reflects how
much the two scores disagree, not two independent noises added together.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._utils import check_number
from crmml.evaluation._metrics import _paired, _probabilities, _top_mask, expected_calibration_error
from crmml.exceptions import DataError

__all__ = ["bootstrap_metrics", "fast_classification_metrics"]

_COLUMNS = ["value", "lower", "upper"]
#: metrics that describe the sample rather than the score: shown without an interval
_NOT_RESAMPLED = ("n",)
#: binned calibration error grows under resampling (each resample adds noise to every bin), so its
#: percentile interval can lie wholly above the estimate: it gets no interval of its own, only the
#: interval of its difference from the baseline (both sides carry about the same bias)
_BIASED = ("ece",)


def _ranking_metrics(y: np.ndarray, p: np.ndarray) -> tuple[float, float, float]:
    """ROC-AUC, average precision and KS from one sort (ties grouped as scikit-learn does)."""
    order = np.argsort(-p, kind="mergesort")
    ps, ys = p[order], y[order]
    last = np.r_[ps[1:] != ps[:-1], True]                   # the last row of each group of equal scores
    tp = np.cumsum(ys)[last]
    fp = np.cumsum(1.0 - ys)[last]
    n_pos, n_neg = tp[-1], fp[-1]
    if n_pos == 0 or n_neg == 0:
        return np.nan, np.nan, np.nan
    tpr, fpr = tp / n_pos, fp / n_neg
    d_pos, d_neg = np.diff(tp, prepend=0.0), np.diff(fp, prepend=0.0)
    # each positive beats the negatives scored below it and ties with half of those scored the same
    auc = float(np.sum(d_pos * (n_neg - fp + 0.5 * d_neg)) / (n_pos * n_neg))
    ap = float(np.sum(d_pos / n_pos * tp / (tp + fp)))
    ks = float(np.max(np.abs(tpr - fpr)))
    return auc, ap, ks


def fast_classification_metrics(y_true, y_prob, *, frac: float = 0.1) -> dict:
    """:func:`crmml.evaluation.classification_metrics` in plain numpy (same keys, same values).

    The bootstrap calls it hundreds of times; scikit-learn's input checks would dominate.

    >>> fast_classification_metrics([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])["roc_auc"]
    0.75
    """
    y, p = _probabilities(y_true, y_prob, "classification_metrics")
    auc, ap, ks = _ranking_metrics(y, p)
    top = _top_mask(p, frac)
    rate, total = y.mean(), y.sum()
    pct = int(round(frac * 100))
    return {"n": int(len(y)), "event_rate": float(rate), "roc_auc": auc, "pr_auc": ap,
            "gini": 2 * auc - 1, "ks": ks, "brier": float(np.mean((p - y) ** 2)),
            "ece": expected_calibration_error(y, p),
            f"lift_top{pct}": float("nan") if rate == 0 else float(y[top].mean() / rate),
            f"capture_top{pct}": float("nan") if total == 0 else float(y[top].sum() / total)}


def _finite_pair(y, p):
    """Outcomes and predictions of any kind (a custom metric): same length, no NaN."""
    y, p = _paired(y, p, ("y_true", "prediction"))
    for name, v in (("y_true", y), ("prediction", p)):
        if not np.isfinite(v).all():
            raise DataError(f"bootstrap_metrics: {name} has {int((~np.isfinite(v)).sum())} NaN or infinite values.")
    return y, p


def _interval(draws: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column, NaN where more than half the resamples gave no value."""
    tail = (1 - level) / 2
    ok = np.isfinite(draws)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # all-NaN columns
        lo = np.nanquantile(draws, tail, axis=0)
        hi = np.nanquantile(draws, 1 - tail, axis=0)
    enough = ok.mean(axis=0) >= 0.5
    return np.where(enough, lo, np.nan), np.where(enough, hi, np.nan)


def bootstrap_metrics(y_true, y_prob, baseline_prob=None, *, n_boot: int = 200, level: float = 0.95,
                      random_state=0, metrics=fast_classification_metrics) -> pd.DataFrame:
    """Metrics of a probability score with percentile bootstrap intervals, beside a baseline's.

    Parameters
    ----------
    y_true, y_prob : array-like
        Outcomes (0/1) and the model's scores; with a custom ``metrics``, any finite
        outcomes and predictions (e.g. actual and predicted customer value).
    baseline_prob : array-like, optional
        A baseline's scores on the same rows. Adds the baseline's value and interval and the
        paired interval of ``model - baseline``.
    n_boot : int, default=200
        Resamples (1 to 10,000). The interval ends are quantiles of the resampled values.
    level : float, default=0.95
        Coverage of the intervals, in (0, 1).
    random_state : int, default=0
        Seed of the resampling (the same seed gives the same intervals).
    metrics : callable, default=fast_classification_metrics
        ``metrics(y, p) -> dict`` of metric name to value (the default gives the values of
        :func:`crmml.evaluation.classification_metrics`). Name metrics as :func:`report`
        judges them (``mae_*`` lower is better, ``spearman_*`` higher is better, ...).

    Returns
    -------
    DataFrame
        Indexed by ``metric``: ``value``, ``lower``, ``upper`` and, with a baseline,
        ``baseline``, ``baseline_lower``, ``baseline_upper``, ``difference``,
        ``difference_lower``, ``difference_upper``. The sample size ``n`` has no interval;
        ``ece`` has only the interval of its difference (the binned calibration error grows
        under resampling, so its own percentile interval can exclude the estimate); an
        interval is NaN when more than half of the resamples leave the metric undefined
        (e.g. a single outcome class).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); p = rng.random(400); y = (rng.random(400) < p).astype(int)
    >>> t = bootstrap_metrics(y, p, 0.5 * p + 0.5 * rng.random(400), n_boot=50)
    >>> bool(t.loc["roc_auc", "lower"] < t.loc["roc_auc", "value"] < t.loc["roc_auc", "upper"])
    True
    >>> bool(t.loc["roc_auc", "difference_lower"] > 0)     # the noisier baseline is worse
    True
    """
    owner = "bootstrap_metrics"
    check_number(n_boot, "n_boot", owner, low=1, high=10_000)
    check_number(level, "level", owner, kind="float", low=0, high=1, low_inclusive=False, high_inclusive=False)
    if metrics is fast_classification_metrics:
        def check(y_, p_):
            return _probabilities(y_, p_, owner)
    else:
        check = _finite_pair
    y, p = check(y_true, y_prob)
    b = None
    if baseline_prob is not None:
        _, b = check(y, baseline_prob)
    point = metrics(y, p)
    names = list(point)
    rng = np.random.default_rng(random_state)
    n = len(y)
    draws = np.full((n_boot, len(names)), np.nan)
    bdraws = np.full((n_boot, len(names)), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)      # one-class resamples of a tiny sample
        for i in range(n_boot):
            idx = rng.integers(0, n, n)
            m = metrics(y[idx], p[idx])
            draws[i] = [m[k] for k in names]
            if b is not None:
                m = metrics(y[idx], b[idx])
                bdraws[i] = [m[k] for k in names]
    out = pd.DataFrame(index=pd.Index(names, name="metric"), columns=_COLUMNS, dtype="float64")
    out["value"] = [float(point[k]) for k in names]
    out["lower"], out["upper"] = _interval(draws, level)
    if b is not None:
        base = metrics(y, b)
        out["baseline"] = [float(base[k]) for k in names]
        out["baseline_lower"], out["baseline_upper"] = _interval(bdraws, level)
        out["difference"] = out["value"] - out["baseline"]
        out["difference_lower"], out["difference_upper"] = _interval(draws - bdraws, level)
    fixed = out.index.isin(_NOT_RESAMPLED)
    out.loc[fixed, [c for c in out.columns if c.endswith(("lower", "upper"))]] = np.nan
    out.loc[out.index.isin(_BIASED), [c for c in ("lower", "upper", "baseline_lower", "baseline_upper")
                                      if c in out.columns]] = np.nan
    out.attrs["level"] = level
    return out
