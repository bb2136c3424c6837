"""Grades, readable reasons, and evaluation of lead scores (gains by decile, conversion per grade)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation import brier, decile_table, pr_auc, roc_auc
from crmml.exceptions import ParameterError

__all__ = ["evaluate_lead_scores", "plot_gains", "GRADES"]

GRADES = ("A", "B", "C", "D")
OUTPUT_COLUMNS = ["probability", "score", "grade", "fit_score", "engagement_score"]
#: cutoffs of grades A, B, C per ``grade_by`` of LeadScorer: odds ratios to the average lead, top shares, scores
DEFAULT_THRESHOLDS = {"odds": (2.0, 1.0, 0.5), "quantile": (0.1, 0.3, 0.6), "score": (75, 50, 25)}


def assign_grades(values, cutoffs) -> np.ndarray:
    """Grade A if ``value >= cutoffs[0]``, B if ``>= cutoffs[1]``, C if ``>= cutoffs[2]``, else D."""
    v = np.asarray(values, float)
    idx = (v < cutoffs[0]).astype(int) + (v < cutoffs[1]) + (v < cutoffs[2])
    return np.asarray(GRADES, dtype=object)[idx]


def to_score(p) -> np.ndarray:
    """0-100 integer score from a probability."""
    return np.clip(np.rint(100.0 * np.asarray(p, float)), 0, 100).astype("int64")


def check_thresholds(thr, name, owner, low=None, high=None):
    ok = isinstance(thr, (tuple, list)) and len(thr) == 3
    if ok:
        try:
            vals = [float(t) for t in thr]
        except (TypeError, ValueError):
            ok = False
        else:
            ok = vals[0] > vals[1] > vals[2] and (low is None or vals[2] >= low) and (high is None or vals[0] <= high)
    if not ok:
        bound = f" within [{low}, {high}]" if low is not None else ""
        raise ParameterError(f"The {name!r} parameter of {owner} must be 3 strictly decreasing numbers{bound} "
                             f"(cutoffs of grades A, B, C). Got {thr!r} instead.")
    return tuple(vals)


def grade_thresholds(grade_by: str, thresholds, owner: str) -> tuple:
    """The cutoffs of grades A, B, C in the unit of ``grade_by`` (``thresholds``, or the defaults), checked.

    >>> grade_thresholds("quantile", None, "LeadScorer")
    (0.1, 0.3, 0.6)
    """
    thr = thresholds if thresholds is not None else DEFAULT_THRESHOLDS[grade_by]
    if grade_by != "quantile":
        bounds = {"odds": (0, None), "score": (0, 100)}[grade_by]
        return check_thresholds(thr, "grade_thresholds", owner, *bounds)
    thr = tuple(-t for t in check_thresholds(tuple(-t for t in thr), "grade_thresholds", owner))
    if not (0 < thr[0] and thr[2] < 1):                 # top shares grow from A to C
        raise ParameterError(f"The 'grade_thresholds' parameter of {owner} must be 3 strictly increasing "
                             f"shares in (0, 1) for grade_by='quantile'. Got {thresholds!r} instead.")
    return thr


def grade_cutoffs(grade_by: str, thr, base_rate: float, oof_p) -> np.ndarray:
    """Probability cutoffs of grades A, B, C from :func:`grade_thresholds` ``thr``.

    ``"odds"``: ``thr`` times the odds of ``base_rate``; ``"score"``: ``thr / 100``; ``"quantile"``: the
    probabilities ``oof_p`` (the cross-validated training scores) that ``thr`` of them reach.

    >>> grade_cutoffs("odds", (2.0, 1.0, 0.5), 0.2, None).round(3).tolist()
    [0.333, 0.2, 0.111]
    """
    if grade_by == "odds":
        base_odds = base_rate / (1.0 - base_rate)
        cut = [t * base_odds / (1.0 + t * base_odds) for t in thr]
    elif grade_by == "score":
        cut = [t / 100.0 for t in thr]
    else:
        cut = [float(np.quantile(oof_p, 1.0 - t)) for t in thr]
    return np.asarray(cut, float)


def _display(s: pd.Series) -> np.ndarray:
    """Readable values of one column: floats with 4 significant digits, missing as ``missing``."""
    miss = s.isna().to_numpy()
    if pd.api.types.is_float_dtype(s.dtype):
        vals = np.array([f"{v:.4g}" for v in s.to_numpy(dtype=float)], dtype=object)
    else:
        vals = s.astype(str).to_numpy(dtype=object)
    vals[miss] = "missing"
    return vals


def reasons(contrib: pd.DataFrame, raw: pd.DataFrame, top_n: int, index) -> pd.DataFrame:
    """``top_positive`` / ``top_negative`` texts such as ``job = retired (+0.42)`` from per-column contributions."""
    C = contrib.to_numpy()
    cols = list(contrib.columns)
    n, k = C.shape
    shown = [_display(raw[c].reset_index(drop=True)) if c in raw.columns else np.full(n, "missing", dtype=object)
             for c in cols]
    m = min(top_n, k)
    order = np.argsort(-C, axis=1, kind="mergesort")
    top, bottom = order[:, :m], order[:, ::-1][:, :m]

    def texts(sel, sign):
        out = []
        for i in range(n):
            parts = [f"{cols[j]} = {shown[j][i]} ({C[i, j]:+.2f})" for j in sel[i] if sign * C[i, j] > 0]
            out.append("; ".join(parts))
        return out

    return pd.DataFrame({"top_positive": texts(top, 1), "top_negative": texts(bottom, -1)}, index=index)


def evaluate_lead_scores(y_true, probability, grade=None, *, n_bins: int = 10) -> dict:
    """Evaluate lead scores against outcomes.

    Parameters
    ----------
    y_true : array-like of 0/1
        Conversions.
    probability : array-like
        Scores (probabilities or 0-100 scores; only the order matters except for ``brier``, which is NaN
        unless every score lies in [0, 1]).
    grade : array-like of str, optional
        Grades A-D of the same leads.
    n_bins : int, default=10
        Bins of the gains table (10 = deciles).

    Returns
    -------
    dict with ``n``, ``base_rate``, ``roc_auc``, ``pr_auc`` (both NaN when all leads share one outcome), ``brier``,
    ``gains``
    (:func:`crmml.evaluation.decile_table`, highest scores first) and ``grades``
    (per grade: ``count``, ``conversions``, ``conversion_rate``, ``mean_probability``, ``lift``).

    Examples
    --------
    >>> ev = evaluate_lead_scores([1, 0, 1, 0, 0, 0], [.9, .2, .7, .4, .1, .3], ["A", "D", "A", "B", "D", "C"],
    ...                           n_bins=3)
    >>> ev["roc_auc"], ev["grades"]["conversion_rate"].tolist()
    (1.0, [1.0, 0.0, 0.0, 0.0])
    """
    y = np.asarray(y_true, float).ravel()
    p = np.asarray(probability, float).ravel()
    out = {"n": int(len(y)), "base_rate": float(y.mean()), "roc_auc": roc_auc(y, p), "pr_auc": pr_auc(y, p),
           "brier": brier(y, p) if 0 <= p.min() and p.max() <= 1 else float("nan"),
           "gains": decile_table(y, p, n_bins=n_bins)}
    if grade is not None:
        g = pd.Series(np.asarray(grade, dtype=object), name="grade")
        df = pd.DataFrame({"grade": g, "y": y, "p": p})
        t = df.groupby("grade").agg(count=("y", "size"), conversions=("y", "sum"), mean_probability=("p", "mean"))
        t = t.reindex(list(GRADES)).fillna({"count": 0, "conversions": 0})
        t["count"] = t["count"].astype("int64")
        t["conversion_rate"] = t["conversions"] / t["count"].where(t["count"] > 0)
        t["lift"] = t["conversion_rate"] / y.mean() if y.mean() > 0 else np.nan
        out["grades"] = t[["count", "conversions", "conversion_rate", "mean_probability", "lift"]]
    return out


def plot_gains(evaluation, *, ax=None):
    """Cumulative gains chart: share of conversions captured against share of leads contacted.

    Parameters
    ----------
    evaluation : dict or DataFrame
        The output of :func:`evaluate_lead_scores` / ``LeadScorer.evaluate`` or its ``gains`` table.
    ax : matplotlib Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> ev = evaluate_lead_scores([1, 0, 1, 0, 0, 0], [.9, .2, .7, .4, .1, .3], ["A", "D", "A", "B", "D", "C"])
    >>> plot_gains(ev).get_xlabel()  # doctest: +ELLIPSIS
    '...leads...'
    """
    gains = evaluation["gains"] if isinstance(evaluation, dict) else evaluation
    ax = axes_or_new(ax, (5, 4), pyplot=True)
    share = np.concatenate([[0], gains["count"].cumsum().to_numpy() / gains["count"].sum()])
    cap = np.concatenate([[0], gains["cum_capture"].to_numpy()])
    ax.plot(share, cap, marker="o", label="model")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="random")
    ax.set(xlabel="share of leads (highest scores first)", ylabel="share of conversions captured",
           title="Cumulative gains", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right")
    return literal_text(ax)
