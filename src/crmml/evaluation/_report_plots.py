"""The report's comparison plots: every curve drawn for the model *and* its baseline on one Axes.

Each function takes ``scores``, a dict of series name to scores on the same rows (the model
first, then the baseline), and ``ax=None``; it returns the Axes. Every line carries its series
name as its matplotlib ``gid``, which :func:`figure_data` writes into the report beside the
image, so a reader (or a test) can check which series a plot shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation._bootstrap import _ranking_metrics
from crmml.evaluation._metrics import _xy, calibration_bins, expected_calibration_error

__all__ = ["compare_roc", "compare_precision_recall", "compare_calibration", "compare_gains", "figure_data"]

#: the model in blue, the baseline in orange, further series after them
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
_MAX_POINTS = 200


def _reference(ax, x, y, label):
    ax.plot(x, y, ls="--", color="grey", lw=1, label=label, gid="reference")


def _curve_points(y, s):
    """Cumulative true and false positives at each distinct score, highest first."""
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    last = np.r_[ss[1:] != ss[:-1], True]
    return np.cumsum(ys)[last], np.cumsum(1.0 - ys)[last]


def compare_roc(y_true, scores: dict, *, ax=None):
    """ROC curves of several scores on the same rows, with the chance diagonal.

    >>> ax = compare_roc([0, 0, 1, 1], {"model": [.1, .4, .35, .8], "baseline": [.5, .2, .6, .4]})
    >>> [line.get_gid() for line in ax.get_lines()]
    ['model', 'baseline', 'reference']
    """
    ax = axes_or_new(ax, (5.0, 4.0))
    for (name, s), colour in zip(scores.items(), _COLOURS):
        y, s = _xy(y_true, s)
        tp, fp = _curve_points(y, s)
        auc = _ranking_metrics(y, s)[0]
        ax.plot(np.r_[0, fp / fp[-1]], np.r_[0, tp / tp[-1]], lw=2, color=colour, gid=name,
                label=f"{name} (AUC {auc:.3f})")
    _reference(ax, [0, 1], [0, 1], "chance")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve", xlim=(0, 1),
           ylim=(0, 1.01))
    ax.legend(loc="lower right")
    return literal_text(ax)


def compare_precision_recall(y_true, scores: dict, *, ax=None):
    """Precision-recall curves of several scores, with the event rate (a random score) as reference.

    >>> ax = compare_precision_recall([0, 0, 1, 1], {"model": [.1, .4, .35, .8], "baseline": [.5, .2, .6, .4]})
    >>> ax.get_lines()[1].get_gid()
    'baseline'
    """
    ax = axes_or_new(ax, (5.0, 4.0))
    rate = 0.0
    for (name, s), colour in zip(scores.items(), _COLOURS):
        y, s = _xy(y_true, s)
        tp, fp = _curve_points(y, s)
        ap = _ranking_metrics(y, s)[1]
        rate = y.mean()
        ax.step(np.r_[0, tp / tp[-1]], np.r_[1, tp / (tp + fp)], where="pre", lw=2, color=colour, gid=name,
                label=f"{name} (PR-AUC {ap:.3f})")
    _reference(ax, [0, 1], [rate, rate], f"event rate {rate:.3f}")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curve", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="upper right")
    return literal_text(ax)


def compare_calibration(y_true, scores: dict, *, n_bins: int = 10, ax=None):
    """Reliability curves with a 95% interval on each bin's observed rate and the bin counts.

    The model's points are labelled with their counts (n); the interval is Wilson's.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0); p = rng.random(300); y = (rng.random(300) < p).astype(int)
    >>> ax = compare_calibration(y, {"model": p, "baseline": np.full(300, y.mean())}, n_bins=5)
    >>> ax.get_lines()[0].get_gid(), ax.get_lines()[1].get_gid()
    ('model', 'baseline')
    """
    ax = axes_or_new(ax, (5.0, 4.0))
    hi = 1e-3
    for i, ((name, s), colour) in enumerate(zip(scores.items(), _COLOURS)):
        y, p = _xy(y_true, s)
        bins = calibration_bins_with_interval(y, p, n_bins)
        ece = expected_calibration_error(y, p, n_bins=n_bins)
        pred, obs = bins["predicted"].to_numpy(), bins["observed"].to_numpy()
        ax.plot(pred, obs, marker="o", lw=2, color=colour, gid=name, label=f"{name} (ECE {ece:.3f})")
        ax.vlines(pred, bins["lower"], bins["upper"], color=colour, lw=1, alpha=0.7)
        if i == 0:
            for x, o, c in zip(pred, obs, bins["count"]):
                ax.annotate(f"n={int(c):,}", (x, o), textcoords="offset points", xytext=(4, -10), fontsize=7,
                            color=colour)
        hi = max(hi, float(np.max(pred)), float(np.nanmax(bins["upper"])))
    hi = min(1.0, hi * 1.05)
    _reference(ax, [0, hi], [0, hi], "perfectly calibrated")
    ax.set(xlabel="Mean predicted probability", ylabel="Observed event rate (95% interval)",
           title="Calibration (reliability) curve", xlim=(0, hi), ylim=(0, hi))
    ax.legend(loc="upper left")
    return literal_text(ax)


def calibration_bins_with_interval(y_true, y_prob, n_bins: int = 10) -> pd.DataFrame:
    """:func:`crmml.evaluation.calibration_bins` (equal-count bins) with a 95% Wilson interval on ``observed``.

    >>> calibration_bins_with_interval([0, 1, 1, 1], [0.2, 0.4, 0.6, 0.8], n_bins=2).columns.tolist()
    ['count', 'observed', 'predicted', 'lower', 'upper']
    """
    bins = calibration_bins(y_true, y_prob, n_bins, "quantile")
    z = 1.959963984540054
    n, k = bins["count"].to_numpy(), bins["observed"].to_numpy()
    centre = (k + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(k * (1 - k) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    bins["lower"], bins["upper"] = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return bins


def compare_gains(y_true, scores: dict, *, ax=None):
    """Cumulative gains (share of events captured against share targeted) of several scores.

    >>> ax = compare_gains([1, 0, 1, 0, 0, 0], {"model": [.9, .8, .7, .3, .2, .1], "baseline": [.1] * 6})
    >>> [line.get_gid() for line in ax.get_lines()]
    ['model', 'baseline', 'reference', 'perfect']
    """
    ax = axes_or_new(ax, (5.0, 4.0))
    y = None
    for (name, s), colour in zip(scores.items(), _COLOURS):
        y, s = _xy(y_true, s)
        n, total = len(y), y.sum()
        cum = np.cumsum(y[np.argsort(-s, kind="mergesort")])
        keep = np.unique(np.linspace(0, n - 1, min(n, _MAX_POINTS)).round().astype(int))
        gains = cum[keep] / total if total else np.full(len(keep), np.nan)
        ax.plot(np.r_[0, (keep + 1) / n], np.r_[0, gains], lw=2, color=colour, gid=name, label=name)
    _reference(ax, [0, 1], [0, 1], "random")
    if y is not None and y.sum():
        rate = y.mean()
        ax.plot([0, rate, 1], [0, 1, 1], ls=":", color="k", lw=1, label="perfect", gid="perfect")
    ax.set(xlabel="Share of customers targeted (by score)", ylabel="Share of events captured",
           title="Cumulative gains", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    return literal_text(ax)


def _thin(values) -> list:
    """At most 200 evenly spaced points; numbers rounded, NaN as null, dates as ISO text."""
    values = np.asarray(values).ravel()
    if len(values) > _MAX_POINTS:
        values = values[np.unique(np.linspace(0, len(values) - 1, _MAX_POINTS).round().astype(int))]
    if values.dtype.kind == "M":
        return [str(pd.Timestamp(v)) for v in values]
    try:
        num = values.astype(float)
    except (TypeError, ValueError):
        return [str(pd.Timestamp(v)) if isinstance(v, (pd.Timestamp, np.datetime64)) else str(v) for v in values]
    return [None if not np.isfinite(v) else round(float(v), 6) for v in num]


def figure_data(fig) -> list[dict]:
    """The series drawn on each Axes of a figure: title, then per line (and scatter) its name, label, x and y.

    Lines are thinned to at most 200 points. The name is the line's ``gid`` (set by the
    comparison plots) or else its label; lines without either are left out.

    >>> ax = compare_roc([0, 0, 1, 1], {"model": [.1, .4, .35, .8]})
    >>> [s["name"] for s in figure_data(ax.figure)[0]["series"]]
    ['model', 'reference']
    """
    out = []
    for ax in fig.axes:
        series = []
        for line in ax.get_lines():
            name = line.get_gid() or line.get_label()
            if not name or name.startswith("_"):
                continue
            x, y = line.get_data()
            series.append({"name": str(name), "label": str(line.get_label()), "x": _thin(x), "y": _thin(y)})
        for points in ax.collections:                                   # scatter plots
            name = points.get_gid() or points.get_label()
            if not name or name.startswith("_") or not hasattr(points, "get_offsets"):
                continue
            xy = np.asarray(points.get_offsets(), dtype=float).reshape(-1, 2)
            series.append({"name": str(name), "label": str(points.get_label()), "x": _thin(xy[:, 0]),
                            "y": _thin(xy[:, 1])})
        if series:
            out.append({"title": ax.get_title(), "series": series})
    return out
