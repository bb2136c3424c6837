"""Grades, readable reasons, and evaluation of lead scores (gains by decile, conversion per grade)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.evaluation import brier, decile_table, pr_auc, roc_auc

__all__ = ["evaluate_lead_scores", "plot_gains", "GRADES"]

GRADES = ("A", "B", "C", "D")
OUTPUT_COLUMNS = ["probability", "score", "grade", "fit_score", "engagement_score"]


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
        raise ValueError(f"The {name!r} parameter of {owner} must be 3 strictly decreasing numbers{bound} "
                         f"(cutoffs of grades A, B, C). Got {thr!r} instead.")
    return tuple(vals)


def fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "missing"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def reasons(contrib: pd.DataFrame, raw: pd.DataFrame, top_n: int, index) -> pd.DataFrame:
    """``top_positive`` / ``top_negative`` texts such as ``job = retired (+0.42)`` from per-column contributions."""
    C = contrib.to_numpy()
    cols = list(contrib.columns)
    pos_out, neg_out = [], []
    for i in range(C.shape[0]):
        row = C[i]
        order = np.argsort(-row, kind="mergesort")
        pos = [j for j in order if row[j] > 0][:top_n]
        neg = [j for j in order[::-1] if row[j] < 0][:top_n]

        def txt(j):
            val = raw[cols[j]].iloc[i] if cols[j] in raw.columns else None
            return f"{cols[j]} = {fmt_value(val)} ({row[j]:+.2f})"

        pos_out.append("; ".join(txt(j) for j in pos))
        neg_out.append("; ".join(txt(j) for j in neg))
    return pd.DataFrame({"top_positive": pos_out, "top_negative": neg_out}, index=index)


def evaluate_lead_scores(y_true, probability, grade=None, *, n_bins: int = 10) -> dict:
    """Evaluate lead scores against outcomes.

    Parameters
    ----------
    y_true : array-like of 0/1
        Conversions.
    probability : array-like
        Scores (probabilities or 0-100 scores; only the order matters except for ``brier``).
    grade : array-like of str, optional
        Grades A-D of the same leads.
    n_bins : int, default=10
        Bins of the gains table (10 = deciles).

    Returns
    -------
    dict with ``n``, ``base_rate``, ``roc_auc``, ``pr_auc``, ``brier``, ``gains``
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
           "brier": brier(y, np.clip(p, 0, 1)) if p.max() <= 1 else float("nan"),
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
    """
    import matplotlib.pyplot as plt

    gains = evaluation["gains"] if isinstance(evaluation, dict) else evaluation
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    share = np.concatenate([[0], gains["count"].cumsum().to_numpy() / gains["count"].sum()])
    cap = np.concatenate([[0], gains["cum_capture"].to_numpy()])
    ax.plot(share, cap, marker="o", label="model")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="random")
    ax.set(xlabel="share of leads (highest scores first)", ylabel="share of conversions captured",
           title="Cumulative gains", xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right")
    return ax
