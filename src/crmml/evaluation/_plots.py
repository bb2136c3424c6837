"""Plots a model reviewer expects from a binary score, SHAP values and gains tables.

One convention, as in crmml's other plots: every function takes ``ax=None`` (a new figure is made when it is
None) and returns the matplotlib ``Axes`` it drew on (``ax.figure`` is the figure). The two-panel plots
(:func:`plot_gains_lift`, :func:`plot_decile_table`) take two Axes and return an array of two Axes; their former
``fig=`` argument still works with a ``FutureWarning``. matplotlib is imported inside the functions, so
``import crmml.evaluation`` stays light.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation._metrics import _xy, calibration_bins, expected_calibration_error, pr_auc, roc_auc
from crmml.exceptions import DataError, ParameterError

__all__ = [
    "plot_roc",
    "plot_precision_recall",
    "plot_calibration",
    "plot_gains_lift",
    "plot_score_distribution",
    "plot_shap_summary",
    "plot_decile_table",
]


def _panels(ax, fig, owner: str, figsize, **subplots):
    """Two Axes: ``ax`` (two Axes), the deprecated ``fig`` (two subplots added), or a new figure's."""
    if fig is not None:
        warnings.warn(f"{owner}(fig=...) is deprecated and will be removed in crmml 0.3; pass ax=(ax1, ax2) "
                      "(two matplotlib Axes) or nothing, and use the returned Axes' .figure.", FutureWarning,
                      stacklevel=3)
        if ax is None:
            return np.asarray(fig.subplots(**subplots), dtype=object).ravel()
    if ax is not None:
        axes = np.asarray(ax, dtype=object).ravel()
        if axes.shape != (2,) or not all(hasattr(a, "figure") for a in axes):
            raise ParameterError(f"The 'ax' parameter of {owner} must be two matplotlib Axes. Got {ax!r} instead.")
        return axes
    from matplotlib.figure import Figure

    return np.asarray(Figure(figsize=figsize, layout="constrained").subplots(**subplots), dtype=object).ravel()


def plot_roc(y_true, y_score, *, ax=None, label: str | None = None):
    """ROC curve with its AUC in the legend and the chance diagonal.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = plot_roc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> ax.get_xlabel()
    'False positive rate'
    """
    from sklearn.metrics import roc_curve

    y, s = _xy(y_true, y_score)
    ax = axes_or_new(ax, (5.0, 4.0))
    fpr, tpr, _ = roc_curve(y, s)
    ax.plot(fpr, tpr, lw=2, label=f"{label + ' ' if label else ''}AUC = {roc_auc(y, s):.3f}")
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set(xlabel="False positive rate", ylabel="True positive rate", title="ROC curve",
           xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    return literal_text(ax)


def plot_precision_recall(y_true, y_score, *, ax=None, label: str | None = None):
    """Precision-recall curve, with the event rate (a random score's precision) as baseline.

    Examples
    --------
    >>> ax = plot_precision_recall([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> ax.get_ylabel()
    'Precision'
    """
    from sklearn.metrics import precision_recall_curve

    y, s = _xy(y_true, y_score)
    ax = axes_or_new(ax, (5.0, 4.0))
    prec, rec, _ = precision_recall_curve(y, s)
    ax.step(rec, prec, where="post", lw=2,
            label=f"{label + ' ' if label else ''}PR-AUC = {pr_auc(y, s):.3f}")
    ax.axhline(y.mean(), ls="--", color="grey", lw=1, label=f"event rate = {y.mean():.3f}")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall curve", xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="upper right")
    return literal_text(ax)


def plot_calibration(y_true, y_prob, *, n_bins: int = 10, strategy: str = "quantile", ax=None):
    """Reliability curve: observed event rate against mean predicted probability per bin.

    Bins are equal-count (``strategy="quantile"``) or equal-width (``"uniform"``).
    The diagonal is perfect calibration.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0); p = rng.random(500)
    >>> ax = plot_calibration((rng.random(500) < p).astype(int), p)
    >>> ax.get_xlabel()
    'Mean predicted probability'
    """
    bins = calibration_bins(y_true, y_prob, n_bins, strategy, owner="plot_calibration")
    y, p = _xy(y_true, y_prob)
    obs, pred = bins["observed"].to_numpy(), bins["predicted"].to_numpy()
    ax = axes_or_new(ax, (5.0, 4.0))
    hi = float(max(pred.max(), obs.max(), 1e-3)) * 1.05
    ax.plot([0, hi], [0, hi], ls="--", color="grey", lw=1, label="perfectly calibrated")
    ece = expected_calibration_error(y, p, n_bins=n_bins, strategy=strategy)
    ax.plot(pred, obs, marker="o", lw=2, label=f"model (ECE = {ece:.3f})")
    ax.set(xlabel="Mean predicted probability", ylabel="Observed event rate",
           title="Calibration (reliability) curve", xlim=(0, hi), ylim=(0, hi))
    ax.legend(loc="upper left")
    return literal_text(ax)


def plot_gains_lift(y_true, y_score, *, n_points: int = 100, ax=None, fig=None):
    """Two panels: cumulative gains (share of events captured) and cumulative lift by depth.

    Parameters
    ----------
    ax : two matplotlib Axes, optional
        Gains and lift panels; a new figure when None.
    fig : matplotlib Figure, optional
        Deprecated (``FutureWarning``): two axes are added to it. Use ``ax``.

    Returns
    -------
    ndarray of two Axes
        Gains (left) and lift (right).

    Examples
    --------
    >>> axes = plot_gains_lift([1, 0, 1, 0, 0, 0], [.9, .8, .7, .3, .2, .1])
    >>> [a.get_title() for a in axes]
    ['Cumulative gains', 'Cumulative lift']
    """
    y, s = _xy(y_true, y_score)
    ax1, ax2 = _panels(ax, fig, "plot_gains_lift", (9.0, 4.0), nrows=1, ncols=2)
    order = np.argsort(-s, kind="mergesort")
    cum = np.cumsum(y[order])
    n, total = len(y), y.sum()
    depth = np.arange(1, n + 1) / n
    keep = np.unique(np.clip(np.round(np.linspace(0, 1, n_points + 1)[1:] * n).astype(int) - 1, 0, n - 1))
    gains = cum[keep] / total if total else np.full(len(keep), np.nan)
    ax1.plot(np.r_[0, depth[keep]], np.r_[0, gains], lw=2, label="model")
    ax1.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="random")
    if total:
        ideal = np.minimum(np.arange(0, n + 1) / total, 1.0)
        ax1.plot(np.arange(0, n + 1) / n, ideal, ls=":", color="k", lw=1, label="perfect")
    ax1.set(xlabel="Share of customers targeted (by score)", ylabel="Share of events captured",
            title="Cumulative gains", xlim=(0, 1), ylim=(0, 1.01))
    ax1.legend(loc="lower right")
    rate = y.mean()
    lift = (cum[keep] / (keep + 1)) / rate if rate else np.full(len(keep), np.nan)
    ax2.plot(depth[keep], lift, lw=2, label="model")
    ax2.axhline(1.0, ls="--", color="grey", lw=1, label="random")
    ax2.set(xlabel="Share of customers targeted (by score)", ylabel="Cumulative lift",
            title="Cumulative lift", xlim=(0, 1))
    ax2.legend(loc="upper right")
    return literal_text(np.array([ax1, ax2], dtype=object))


def plot_score_distribution(y_true, y_score, *, bins: int = 40, ax=None,
                            labels: tuple[str, str] = ("non-event", "event")):
    """Histograms (densities) of the score for each class.

    Examples
    --------
    >>> ax = plot_score_distribution([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> len(ax.get_legend().get_texts())
    2
    """
    y, s = _xy(y_true, y_score)
    ax = axes_or_new(ax, (5.0, 4.0))
    edges = np.histogram_bin_edges(s, bins=bins)
    for cls, name in zip((0.0, 1.0), labels):
        part = s[y == cls]
        if len(part):
            ax.hist(part, bins=edges, density=True, alpha=0.55, label=f"{name} (n={len(part):,})")
    ax.set(xlabel="Score", ylabel="Density", title="Score distribution by class")
    ax.legend(loc="upper center")
    return literal_text(ax)


def _shap_inputs(shap_values, X, feature_names):
    values = shap_values
    if not isinstance(shap_values, (np.ndarray, pd.DataFrame, list)) and hasattr(shap_values, "values"):
        values = shap_values.values                   # a shap.Explanation
        if X is None and getattr(shap_values, "data", None) is not None:
            X = shap_values.data
        if feature_names is None:
            feature_names = getattr(shap_values, "feature_names", None)
    if isinstance(values, pd.DataFrame) and feature_names is None:
        feature_names = list(values.columns)
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise DataError(f"shap_values must be 2-D (n_samples, n_features); got shape {values.shape}.")
    if feature_names is None and isinstance(X, pd.DataFrame):
        feature_names = list(X.columns)
    if feature_names is None:
        feature_names = [f"x{i}" for i in range(values.shape[1])]
    if len(feature_names) != values.shape[1]:
        raise DataError(f"feature_names has {len(feature_names)} names but shap_values has "
                        f"{values.shape[1]} columns.")
    Xa = None
    if X is not None:
        Xa = pd.DataFrame(X).apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
        if Xa.shape != values.shape:
            raise DataError(f"X has shape {Xa.shape} but shap_values has shape {values.shape}.")
    return values, Xa, [str(f) for f in feature_names]


def plot_shap_summary(shap_values, X=None, *, feature_names=None, kind: str = "bar", max_display: int = 15,
                      units: str | None = "log-odds", ax=None, random_state: int = 0):
    """SHAP summary: mean absolute SHAP value per feature (``kind="bar"``) or a beeswarm (``kind="beeswarm"``).

    Parameters
    ----------
    shap_values : ndarray of shape (n_samples, n_features) or shap.Explanation
    X : DataFrame or ndarray, optional
        Feature values, used to colour the beeswarm (low = blue, high = red).
    feature_names : list of str, optional
        Defaults to the Explanation's names or ``X``'s columns.
    kind : {"bar", "beeswarm"}, default="bar"
    max_display : int, default=15
        The most important features shown.
    units : str or None, default="log-odds"
        The unit of the SHAP values, written on the axis. Tree models' SHAP values
        (xgboost ``pred_contribs``, ``shap.TreeExplainer``) for a classifier are in
        log-odds, not probability; pass ``"probability"`` or None when they are not.

    Examples
    --------
    >>> import numpy as np
    >>> sv = np.array([[0.5, -0.1], [-0.4, 0.2], [0.3, 0.0]])
    >>> ax = plot_shap_summary(sv, feature_names=["recency", "frequency"])
    >>> "log-odds" in ax.get_xlabel()
    True
    """
    from crmml._utils import check_in

    check_in(kind, "kind", "plot_shap_summary", ("bar", "beeswarm"))
    values, Xa, names = _shap_inputs(shap_values, X, feature_names)
    imp = np.abs(values).mean(axis=0)
    top = np.argsort(-imp, kind="mergesort")[:max_display][::-1]   # most important at the top
    unit = f" ({units})" if units else ""
    ax = axes_or_new(ax, (6.5, 0.35 * len(top) + 1.6))
    if kind == "bar":
        ax.barh(np.arange(len(top)), imp[top], color="#1f77b4")
        ax.set(xlabel=f"mean |SHAP value|{unit}")
    else:
        rng = np.random.default_rng(random_state)
        sc = None
        for row, j in enumerate(top):
            v = values[:, j]
            if len(v) > 2000:
                v_idx = rng.choice(len(v), 2000, replace=False)
            else:
                v_idx = np.arange(len(v))
            jitter = rng.normal(0, 0.12, len(v_idx)).clip(-0.38, 0.38)
            if Xa is not None:
                c = Xa[v_idx, j]
                lo, hi = np.nanpercentile(c, [5, 95]) if np.isfinite(c).any() else (0, 1)
                c = np.clip((c - lo) / (hi - lo) if hi > lo else np.full(len(c), 0.5), 0, 1)
                sc = ax.scatter(v[v_idx], row + jitter, c=c, cmap="coolwarm", s=6, vmin=0, vmax=1,
                                rasterized=True)
            else:
                ax.scatter(v[v_idx], row + jitter, s=6, color="#1f77b4", rasterized=True)
        ax.axvline(0, color="grey", lw=0.8)
        if sc is not None:
            cb = ax.figure.colorbar(sc, ax=ax, ticks=[0, 1], aspect=40)
            cb.ax.set_yticklabels(["low", "high"])
            cb.set_label("feature value")
        ax.set(xlabel=f"SHAP value{unit}: impact on model output")
    ax.set_yticks(np.arange(len(top)), [names[j] for j in top])
    title = "Top drivers (SHAP)"
    if units == "log-odds":
        title += "\nvalues in log-odds, not probability"
    ax.set(title=title)
    return literal_text(ax)


_DECILE_FMT = {"count": "{:,.0f}", "events": "{:,.0f}", "event_rate": "{:.3f}", "capture": "{:.1%}",
               "cum_capture": "{:.1%}", "lift": "{:.2f}", "cum_lift": "{:.2f}", "ks": "{:.3f}",
               "score_min": "{:.3f}", "score_max": "{:.3f}"}


def plot_decile_table(table: pd.DataFrame, *, ax=None, fig=None):
    """A decile (gains) table as a figure: bars by bin above, the table itself below.

    Parameters
    ----------
    table : DataFrame
        The output of :func:`crmml.evaluation.decile_table` (event rate bars) or of
        :func:`crmml.evaluation.clv_decile_table` (predicted and actual means side by side).
    ax : two matplotlib Axes, optional
        The bars and the table; a new figure when None.
    fig : matplotlib Figure, optional
        Deprecated (``FutureWarning``): two axes are added to it. Use ``ax``.

    Returns
    -------
    ndarray of two Axes

    Examples
    --------
    >>> from crmml.evaluation import decile_table
    >>> t = decile_table([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], [.9, .8, .7, .6, .5, .4, .3, .2, .1, 0], n_bins=5)
    >>> axes = plot_decile_table(t)
    >>> axes[0].get_xlabel()
    'Score bin (1 = highest scores)'
    """
    ax, tax = _panels(ax, fig, "plot_decile_table", (10.0, 3.6 + 0.25 * (len(table) + 1)), nrows=2, ncols=1,
                      height_ratios=[3.0, 0.28 * (len(table) + 1)])
    bins = np.arange(1, len(table) + 1)
    if {"predicted_mean", "actual_mean"} <= set(table.columns):
        ax.bar(bins - 0.2, table["predicted_mean"], width=0.4, label="predicted")
        ax.bar(bins + 0.2, table["actual_mean"], width=0.4, label="actual")
        ax.set(ylabel="Mean value per customer", title="Predicted vs actual by decile of prediction")
    else:
        ax.bar(bins, table["event_rate"], color="#1f77b4", label="event rate")
        overall = table["events"].sum() / table["count"].sum()
        ax.axhline(overall, ls="--", color="grey", lw=1, label=f"overall = {overall:.3f}")
        ax.set(ylabel="Event rate", title="Event rate by score decile")
    ax.legend(loc="upper right")
    ax.set(xlabel="Score bin (1 = highest scores)", xticks=bins)
    cells = [[_fmt_cell(c, v) for c, v in row.items()] for _, row in table.iterrows()]
    tax.axis("off")
    tab = tax.table(cellText=cells, colLabels=[str(c) for c in table.columns],
                    rowLabels=[str(i) for i in table.index], loc="center", cellLoc="right")
    tab.auto_set_font_size(False)
    tab.set_fontsize(8)
    tab.scale(1.0, 1.15)
    return literal_text(np.array([ax, tax], dtype=object))


def _fmt_cell(col, v):
    if not isinstance(v, (int, float, np.number)) or pd.isna(v):
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
    if col in _DECILE_FMT:
        return _DECILE_FMT[col].format(v)
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"
