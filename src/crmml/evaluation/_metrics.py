"""Metrics a model reviewer expects from a binary risk or propensity score.

All functions take ``y_true`` (0/1) and ``y_score`` (higher means more likely
positive) as array-likes, and return plain floats or DataFrames.

Two kinds of metric, two input rules:

- **Ranking metrics** (``roc_auc``, ``pr_auc``, ``gini``, ``ks_statistic``, ``lift_at``,
  ``capture_rate_at``, ``decile_table``) take any finite score. Where the outcome has only one
  class they are undefined and return NaN (``lift_at`` and ``capture_rate_at``: NaN when there is
  no event); the HTML reports say so beside the figures.
- **Probability metrics** (``brier``, ``calibration_bins``, ``expected_calibration_error``,
  ``classification_metrics``) compare the score with observed rates, so the score must be a
  probability: a value outside [0, 1] raises :class:`~crmml.exceptions.ParameterError` (it used to
  be clipped without a word, which made a 0-100 score look like a badly calibrated probability).

Bad input (text, 2-D tables, NaN or infinite scores, labels other than 0/1, lengths that differ)
raises :class:`~crmml.exceptions.ParameterError`, a ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from crmml._utils import check_number
from crmml._utils._numeric import float_vector as _floats
from crmml.exceptions import ParameterError

__all__ = [
    "roc_auc",
    "pr_auc",
    "gini",
    "ks_statistic",
    "brier",
    "calibration_bins",
    "expected_calibration_error",
    "lift_at",
    "capture_rate_at",
    "decile_table",
    "psi",
    "psi_table",
    "clv_decile_table",
    "classification_metrics",
]

#: Upper bound of ``n_bins`` in every binned metric.
MAX_BINS = 10_000


def _paired(a, b, names=("y_true", "y_score")):
    """Two 1-D float arrays of the same, non-zero length (a column vector counts as 1-D)."""
    a, b = (_floats(v, name) for v, name in zip((a, b), names))
    if a.shape != b.shape:
        raise ParameterError(f"{names[0]} and {names[1]} must have the same length; got {len(a)} and {len(b)}.")
    if len(a) == 0:
        raise ParameterError(f"{names[0]} is empty.")
    return a, b


def _xy(y_true, y_score):
    y, s = _paired(y_true, y_score)
    if not np.isin(y, (0.0, 1.0)).all():
        raise ParameterError("y_true must contain only 0 and 1.")
    if np.isnan(s).any():
        raise ParameterError(f"y_score has {int(np.isnan(s).sum())} NaN values.")
    if np.isinf(s).any():
        raise ParameterError(f"y_score has {int(np.isinf(s).sum())} infinite values; scores must be finite.")
    return y, s


def _probabilities(y_true, y_prob, owner):
    """:func:`_xy` for a metric that needs probabilities: every value in [0, 1], else ParameterError."""
    y, p = _xy(y_true, y_prob)
    out = (p < 0) | (p > 1)
    if out.any():
        raise ParameterError(
            f"{owner}: y_prob is not a probability: {int(out.sum()):,} value{'s' if out.sum() != 1 else ''} "
            f"outside [0, 1] (e.g. {p[out][0]:g}). Pass predicted probabilities (a model's predict_proba or "
            "a calibrated score), or use a ranking metric (roc_auc, gini, ks_statistic, lift_at), which "
            "takes any score.")
    return y, p


def _bins(n_bins, owner):
    """``n_bins`` checked once for every binned metric (a huge value would allocate gigabytes)."""
    return check_number(n_bins, "n_bins", owner, low=1, high=MAX_BINS)


def _one_class(y):
    return y.min() == y.max()


def roc_auc(y_true, y_score) -> float:
    """Area under the ROC curve (NaN when only one class is present: the area is undefined).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y, s = _xy(y_true, y_score)
    return float("nan") if _one_class(y) else float(roc_auc_score(y, s))


def pr_auc(y_true, y_score) -> float:
    """Area under the precision-recall curve (average precision; NaN when only one class is present).

    >>> round(pr_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 4)
    0.8333
    """
    y, s = _xy(y_true, y_score)
    return float("nan") if _one_class(y) else float(average_precision_score(y, s))


def gini(y_true, y_score) -> float:
    """Gini coefficient ``2 * AUC - 1`` (NaN when only one class is present).

    >>> gini([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.5
    """
    return 2.0 * roc_auc(y_true, y_score) - 1.0


def ks_statistic(y_true, y_score) -> float:
    """Kolmogorov-Smirnov: the largest gap between the score CDFs of the two classes (NaN with one class).

    >>> ks_statistic([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    1.0
    """
    y, s = _xy(y_true, y_score)
    if _one_class(y):
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    last = np.r_[ss[1:] != ss[:-1], True]          # evaluate only at distinct score values
    tpr = np.cumsum(ys)[last] / ys.sum()
    fpr = np.cumsum(1 - ys)[last] / (1 - ys).sum()
    return float(np.max(np.abs(tpr - fpr)))


def brier(y_true, y_prob) -> float:
    """Brier score: the mean squared error of probabilities (values outside [0, 1] raise ParameterError).

    >>> round(brier([0, 1, 1], [0.2, 0.6, 0.9]), 4)
    0.07
    >>> brier([0, 1], [20, 80])
    Traceback (most recent call last):
    crmml.exceptions.ParameterError: brier: y_prob is not a probability: 2 values outside [0, 1] (e.g. 20). ...
    """
    y, p = _probabilities(y_true, y_prob, "brier")
    return float(brier_score_loss(y, p))


def calibration_bins(y_true, y_prob, n_bins: int = 10, strategy: str = "quantile",
                     owner: str = "calibration_bins") -> pd.DataFrame:
    """Per-bin count, observed event rate and mean predicted probability (empty bins left out).

    ``strategy="quantile"`` uses equal-count bins, ``"uniform"`` equal-width bins on [0, 1].
    ``y_prob`` must hold probabilities (a value outside [0, 1] raises ParameterError).

    >>> calibration_bins([0, 1, 1, 1], [0.2, 0.4, 0.6, 0.8], n_bins=2)[["count", "observed"]].to_numpy().tolist()
    [[2.0, 0.5], [2.0, 1.0]]
    """
    _bins(n_bins, owner)
    y, p = _probabilities(y_true, y_prob, owner)
    if strategy == "quantile":
        edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    elif strategy == "uniform":
        edges = np.linspace(0, 1, n_bins + 1)
    else:
        raise ParameterError(f"The 'strategy' parameter of {owner} must be one of "
                             f"['quantile', 'uniform']. Got {strategy!r} instead.")
    idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    cnt = np.bincount(idx, minlength=len(edges)).astype(float)
    nz = cnt > 0
    obs = np.bincount(idx, weights=y, minlength=len(edges))[nz]
    pred = np.bincount(idx, weights=p, minlength=len(edges))[nz]
    return pd.DataFrame({"count": cnt[nz], "observed": obs / cnt[nz], "predicted": pred / cnt[nz]})


def expected_calibration_error(y_true, y_prob, n_bins: int = 10, strategy: str = "quantile") -> float:
    """Expected calibration error: the size-weighted mean absolute gap between observed rate and mean prediction over bins.

    ``strategy="quantile"`` uses equal-count bins, ``"uniform"`` equal-width bins on [0, 1].

    >>> round(expected_calibration_error([0, 1] * 50, [0.5] * 100), 3)
    0.0
    """
    b = calibration_bins(y_true, y_prob, n_bins, strategy, owner="expected_calibration_error")
    return float(np.sum(b["count"] * np.abs(b["observed"] - b["predicted"])) / b["count"].sum())


def _top_mask(s, frac):
    if not 0 < frac <= 1:
        raise ParameterError(f"The 'frac' parameter must be in (0, 1]. Got {frac!r} instead.")
    n_top = max(1, int(round(frac * len(s))))
    order = np.argsort(-s, kind="mergesort")
    mask = np.zeros(len(s), dtype=bool)
    mask[order[:n_top]] = True
    return mask


def lift_at(y_true, y_score, frac: float = 0.1) -> float:
    """Lift in the top ``frac`` by score: event rate there over the overall event rate (NaN without events).

    >>> lift_at([1, 0, 0, 0, 0, 0, 0, 0, 0, 1], [.9, .1, .2, .1, .3, .2, .1, .2, .1, .05], frac=0.1)
    5.0
    """
    y, s = _xy(y_true, y_score)
    base = y.mean()
    return float("nan") if base == 0 else float(y[_top_mask(s, frac)].mean() / base)


def capture_rate_at(y_true, y_score, frac: float = 0.1) -> float:
    """Share of all events found in the top ``frac`` by score (NaN without events).

    >>> capture_rate_at([1, 0, 0, 1, 0, 0, 0, 0, 0, 1], [.9, .1, .2, .1, .3, .2, .1, .2, .1, .05], frac=0.1)
    0.3333333333333333
    """
    y, s = _xy(y_true, y_score)
    total = y.sum()
    return float("nan") if total == 0 else float(y[_top_mask(s, frac)].sum() / total)


def decile_table(y_true, y_score, n_bins: int = 10) -> pd.DataFrame:
    """Gains table by score bin, highest scores first.

    Columns: ``count``, ``events``, ``event_rate``, ``capture`` (share of all
    events in the bin), ``cum_capture``, ``lift``, ``cum_lift``, ``ks``
    (cumulative event share minus cumulative non-event share), ``score_min``,
    ``score_max``. Bins are equal-count by rank (ties broken by order).

    >>> t = decile_table([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], n_bins=5)
    >>> t[["count", "events", "cum_capture"]].to_numpy().tolist()[:2]
    [[2.0, 2.0, 0.6666666666666666], [2.0, 0.0, 0.6666666666666666]]
    """
    _bins(n_bins, "decile_table")
    y, s = _xy(y_true, y_score)
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    bins = np.minimum((np.arange(len(ys)) * n_bins) // len(ys), n_bins - 1)
    df = pd.DataFrame({"bin": bins + 1, "y": ys, "s": ss})
    g = df.groupby("bin")
    out = pd.DataFrame({"count": g.size().astype(float), "events": g["y"].sum(),
                        "score_min": g["s"].min(), "score_max": g["s"].max()})
    total_events, total = y.sum(), float(len(y))
    rate = y.mean() if total else np.nan
    out["event_rate"] = out["events"] / out["count"]
    out["capture"] = out["events"] / total_events if total_events else np.nan
    out["cum_capture"] = out["events"].cumsum() / total_events if total_events else np.nan
    out["lift"] = out["event_rate"] / rate if rate else np.nan
    out["cum_lift"] = (out["events"].cumsum() / out["count"].cumsum()) / rate if rate else np.nan
    non = out["count"] - out["events"]
    n_non = total - total_events
    out["ks"] = out["cum_capture"] - (non.cumsum() / n_non if n_non else np.nan)
    out.index.name = "bin"
    return out[["count", "events", "event_rate", "capture", "cum_capture", "lift", "cum_lift", "ks",
                "score_min", "score_max"]]


def psi(expected, actual, n_bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``actual`` against ``expected``.

    Bins are deciles of ``expected``; missing values (NaN) form a bin of their own, so a shift in missingness
    counts. Rule of thumb: < 0.1 stable, 0.1-0.25 moderate shift, > 0.25 major shift.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> psi(rng.normal(size=5000), rng.normal(size=5000)) < 0.1
    True
    """
    _bins(n_bins, "psi")
    e, a = _floats(expected, "expected"), _floats(actual, "actual")
    if len(e) == 0 or len(a) == 0:
        raise ParameterError("psi needs non-empty expected and actual samples.")
    for name, v in (("expected", e), ("actual", a)):
        if np.isinf(v).any():
            raise ParameterError(f"psi: {name} has {int(np.isinf(v).sum())} infinite values; they cannot be binned.")
    known = e[~np.isnan(e)]
    edges = np.unique(np.quantile(known, np.linspace(0, 1, n_bins + 1))[1:-1]) if len(known) else np.empty(0)

    def shares(v):          # the deciles' shares, then the share of missing values
        nan = np.isnan(v)
        return np.r_[np.bincount(np.searchsorted(edges, v[~nan], side="right"), minlength=len(edges) + 1),
                     nan.sum()] / len(v)

    pe, pa = shares(e), shares(a)
    pe, pa = np.clip(pe, eps, None), np.clip(pa, eps, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def classification_metrics(y_true, y_prob, *, frac: float = 0.1) -> dict:
    """Every headline metric of a probability score, as a dict.

    Keys: ``n``, ``event_rate``, ``roc_auc``, ``pr_auc``, ``gini``, ``ks``,
    ``brier``, ``ece``, ``lift_top10`` and ``capture_top10`` (for ``frac=0.1``). ``y_prob`` must hold
    probabilities (ParameterError otherwise); the ranking metrics are NaN when only one class is present.

    >>> m = classification_metrics([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.35, 0.8, 0.2, 0.9])
    >>> m["n"], round(m["roc_auc"], 3), round(m["event_rate"], 2)
    (6, 0.889, 0.5)
    """
    y, p = _probabilities(y_true, y_prob, "classification_metrics")
    pct = int(round(frac * 100))
    return {
        "n": int(len(y)), "event_rate": float(y.mean()),
        "roc_auc": roc_auc(y, p), "pr_auc": pr_auc(y, p), "gini": gini(y, p),
        "ks": ks_statistic(y, p), "brier": brier(y, p), "ece": expected_calibration_error(y, p),
        f"lift_top{pct}": lift_at(y, p, frac), f"capture_top{pct}": capture_rate_at(y, p, frac),
    }


def _psi_categorical(e, a, eps):
    pe = pd.Series(e).astype(str).value_counts(normalize=True, dropna=False)   # missing: a category of its own
    pa = pd.Series(a).astype(str).value_counts(normalize=True, dropna=False)
    cats = pe.index.union(pa.index)
    pe = np.clip(pe.reindex(cats, fill_value=0.0).to_numpy(), eps, None)
    pa = np.clip(pa.reindex(cats, fill_value=0.0).to_numpy(), eps, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def psi_table(reference: pd.DataFrame, current: pd.DataFrame, columns=None, *, n_bins: int = 10) -> pd.DataFrame:
    """Population stability of several columns (the score and top features) between two snapshots.

    Numeric columns are binned on the deciles of ``reference`` (see :func:`psi`);
    other columns compare category shares, missing values being a category of their own.

    Parameters
    ----------
    reference, current : DataFrame
        The two snapshots (e.g. training-time and scoring-time features and scores).
    columns : list of str, optional
        Columns to compare, in order (default: every column present in both).
    n_bins : int, default=10

    Returns
    -------
    DataFrame indexed by ``feature`` with ``psi``, ``status`` ("stable" < 0.1 <=
    "moderate shift" < 0.25 <= "major shift"), ``reference_mean`` and
    ``current_mean`` (NaN for categorical columns).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"score": rng.random(4000), "tenure": rng.normal(size=4000)})
    >>> cur = pd.DataFrame({"score": rng.random(4000), "tenure": rng.normal(1, 1, size=4000)})
    >>> psi_table(ref, cur)["status"].tolist()
    ['stable', 'major shift']
    """
    if columns is None:
        columns = [c for c in reference.columns if c in current.columns]
    missing = [c for c in columns if c not in reference.columns or c not in current.columns]
    if missing:
        raise ParameterError(f"psi_table: columns {missing} are not in both snapshots.")
    rows = []
    for c in columns:
        e, a = reference[c], current[c]
        numeric = pd.api.types.is_numeric_dtype(e) and pd.api.types.is_numeric_dtype(a) \
            and not pd.api.types.is_bool_dtype(e)
        value = psi(e, a, n_bins=n_bins) if numeric else _psi_categorical(e, a, 1e-4)
        rows.append({"feature": c, "psi": value,
                     "status": "stable" if value < 0.1 else ("moderate shift" if value < 0.25 else "major shift"),
                     "reference_mean": float(e.mean()) if numeric else np.nan,
                     "current_mean": float(a.mean()) if numeric else np.nan})
    return pd.DataFrame(rows, columns=["feature", "psi", "status", "reference_mean", "current_mean"]
                        ).set_index("feature")


def clv_decile_table(predicted, actual, n_bins: int = 10) -> pd.DataFrame:
    """Predicted against actual value by decile of prediction (1 = highest predicted), for CLV.

    Columns: ``count``, ``predicted_mean``, ``actual_mean``, ``predicted_sum``,
    ``actual_sum``, ``ratio`` (actual / predicted sum), ``actual_share``
    (the bin's share of all actual value) and ``cum_actual_share``.

    Examples
    --------
    >>> t = clv_decile_table([50, 40, 30, 20, 10, 0], [60, 30, 35, 10, 5, 0], n_bins=3)
    >>> t["actual_sum"].tolist(), round(float(t["cum_actual_share"].iloc[0]), 3)
    ([90.0, 45.0, 5.0], 0.643)
    """
    _bins(n_bins, "clv_decile_table")
    p, a = _paired(predicted, actual, ("predicted", "actual"))
    if np.isnan(p).any() or np.isnan(a).any():
        raise ParameterError("predicted and actual must not contain NaN.")
    order = np.argsort(-p, kind="mergesort")
    bins = np.minimum((np.arange(len(p)) * n_bins) // len(p), n_bins - 1) + 1
    df = pd.DataFrame({"bin": bins, "p": p[order], "a": a[order]})
    g = df.groupby("bin")
    out = pd.DataFrame({"count": g.size().astype(float), "predicted_mean": g["p"].mean(),
                        "actual_mean": g["a"].mean(), "predicted_sum": g["p"].sum(), "actual_sum": g["a"].sum()})
    out["ratio"] = out["actual_sum"] / out["predicted_sum"].replace(0.0, np.nan)
    total = a.sum()
    out["actual_share"] = out["actual_sum"] / total if total else np.nan
    out["cum_actual_share"] = out["actual_sum"].cumsum() / total if total else np.nan
    out.index.name = "bin"
    return out
