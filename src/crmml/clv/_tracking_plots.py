"""Diagnostic plots of purchase models: tracking, period transactions, frequency-recency, P(alive) path.

Each takes ``ax=`` (a new figure when None) and returns the matplotlib Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.exceptions import DataError, ParameterError

__all__ = ["plot_tracking", "plot_period_transactions", "plot_frequency_recency_matrix", "plot_p_alive_path"]


def plot_tracking(table: pd.DataFrame, *, cumulative: bool = True, ax=None):
    """Actual vs expected repeat purchases over calendar time from :func:`crmml.clv.tracking_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> tab = pd.DataFrame({"actual": [1.0, 2, 3], "expected": [1.2, 2, 2.5], "holdout": [False, False, True]},
    ...                    index=pd.date_range("2024-01-01", periods=3, freq="W-MON", name="period"))
    >>> tab["actual_cumulative"], tab["expected_cumulative"] = tab["actual"].cumsum(), tab["expected"].cumsum()
    >>> plot_tracking(tab).get_ylabel()
    'cumulative repeat purchases'
    """
    missing = {"actual", "expected", "holdout"} - set(table.columns)
    if missing:
        raise DataError(f"plot_tracking expects the output of crmml.clv.tracking_table; it lacks {sorted(missing)}.")
    ax = axes_or_new(ax, (7, 4), pyplot=True)
    a, e = ("actual_cumulative", "expected_cumulative") if cumulative else ("actual", "expected")
    ax.plot(table.index, table[a], "-", color="k", label="actual")
    ax.plot(table.index, table[e], "--", color="tab:red", label="expected")
    if table["holdout"].any():
        ax.axvline(table.index[np.argmax(table["holdout"].to_numpy())], color="grey", ls=":",
                   label="end of calibration")
    ax.set(xlabel="period", ylabel=f"{'cumulative ' if cumulative else ''}repeat purchases",
           title="Tracking " + ("cumulative" if cumulative else "period") + " repeat purchases")
    ax.legend()
    return literal_text(ax)


def plot_period_transactions(purchase_model, summary: pd.DataFrame, *, max_frequency: int = 7, ax=None):
    """Customers by number of repeat purchases in calibration: actual vs expected ``sum_i P(X(T_i) = x)``.

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel
    >>> from crmml.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> ax = plot_period_transactions(BetaGeoModel().fit(s), s)
    >>> ax.get_xlabel()
    'repeat purchases in calibration'
    """
    if not hasattr(purchase_model, "probability_of_purchases"):
        raise ParameterError(f"plot_period_transactions needs a model with probability_of_purchases (BG/NBD family, "
                             f"NBD); {type(purchase_model).__name__} has none.")
    x = np.arange(max_frequency)
    T, counts = np.unique(summary["T"].to_numpy(float), return_counts=True)
    expected = np.zeros(max_frequency + 1)
    for Ti, ni in zip(T, counts):
        p = purchase_model.probability_of_purchases(Ti, x)
        expected += ni * np.r_[p, max(0.0, 1.0 - p.sum())]
    actual = np.bincount(np.minimum(summary["frequency"].to_numpy(int), max_frequency), minlength=max_frequency + 1)
    ax = axes_or_new(ax, (6, 4), pyplot=True)
    pos = np.arange(max_frequency + 1)
    ax.bar(pos - 0.2, actual, 0.4, label="actual")
    ax.bar(pos + 0.2, expected, 0.4, label=f"expected ({type(purchase_model).__name__})")
    ax.set_xticks(pos, [str(v) for v in x] + [f"{max_frequency}+"])
    ax.set(xlabel="repeat purchases in calibration", ylabel="customers", title="Frequency of repeat purchases")
    ax.legend()
    return literal_text(ax)


def plot_frequency_recency_matrix(purchase_model, *, t: float = 1.0, T: float | None = None,
                                  max_frequency: int | None = None, ax=None):
    """Heatmap of expected purchases in the next ``t`` over recency x frequency, for a customer of age ``T``.

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel
    >>> from crmml.datasets import load_cdnow_summary
    >>> ax = plot_frequency_recency_matrix(BetaGeoModel().fit(load_cdnow_summary()), t=4, T=39)
    >>> ax.get_title()
    'Expected purchases in the next 4 for a customer of age T=39'
    """
    T = float(getattr(purchase_model, "max_T_", 52.0)) if T is None else float(T)
    max_frequency = 20 if max_frequency is None else int(max_frequency)
    rec = np.linspace(0, T, 60)
    ff, rr = np.meshgrid(np.arange(max_frequency + 1), rec, indexing="ij")
    rr = np.where(ff == 0, 0.0, rr)
    grid = pd.DataFrame({"frequency": ff.ravel(), "recency": rr.ravel(), "T": T, "litt": 0.0})
    e = purchase_model.conditional_expected_purchases(grid, t).to_numpy().reshape(ff.shape)
    ax = axes_or_new(ax, (6, 4.5), pyplot=True)
    im = ax.imshow(e, origin="lower", aspect="auto", extent=(0, T, -0.5, max_frequency + 0.5), cmap="viridis")
    ax.figure.colorbar(im, ax=ax, label=f"expected purchases in the next {t:g}")
    ax.set(xlabel="recency (time of last purchase since first)", ylabel="frequency (repeat purchases)",
           title=f"Expected purchases in the next {t:g} for a customer of age T={T:g}")
    return literal_text(ax)


def plot_p_alive_path(path: pd.Series, *, ax=None):
    """One customer's P(alive) over time from :func:`crmml.clv.p_alive_path`, purchases marked.

    Examples
    --------
    >>> import pandas as pd
    >>> path = pd.Series([1.0, 0.8, 1.0, 0.7], name="p_alive",
    ...                  index=pd.date_range("2024-01-01", periods=4, name="period"))
    >>> plot_p_alive_path(path).get_ylabel()
    'P(alive)'
    """
    if not isinstance(path, pd.Series):
        raise ParameterError("plot_p_alive_path expects the Series returned by crmml.clv.p_alive_path.")
    ax = axes_or_new(ax, (7, 3), pyplot=True)
    ax.plot(path.index, path.to_numpy(), "-", color="tab:blue")
    jumps = path.index[1:][np.diff(path.to_numpy()) > 1e-12]
    for j in jumps:
        ax.axvline(j, color="grey", ls=":", lw=0.8)
    ax.set(xlabel="period", ylabel="P(alive)", ylim=(0, 1.05), title="P(alive) path (dotted: purchases)")
    return literal_text(ax)
