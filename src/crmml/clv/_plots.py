"""Plots for CLV models: calibration vs holdout, P(alive) over recency x frequency, CLV distribution."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.clv._evaluate import calibration_holdout_table
from crmml.exceptions import DataError

__all__ = ["plot_calibration_holdout", "plot_p_alive_matrix", "plot_clv_distribution"]


def plot_calibration_holdout(purchase_model, summary: pd.DataFrame, *, max_frequency: int = 7, ax=None):
    """Mean actual vs expected holdout purchases by calibration frequency.

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel, calibration_holdout
    >>> from crmml.datasets import load_cdnow
    >>> s = calibration_holdout(load_cdnow(), "1997-10-01", "1998-07-01", freq="W")
    >>> ax = plot_calibration_holdout(BetaGeoModel().fit(s), s)
    >>> ax.get_xlabel()
    'purchases in calibration period'
    """
    table = calibration_holdout_table(purchase_model, summary, max_frequency=max_frequency)
    ax = axes_or_new(ax, (6, 4), pyplot=True)
    x = table.index.to_numpy()
    ax.plot(x, table["actual"], "o-", label="actual")
    ax.plot(x, table["predicted"], "s--", label=f"expected ({type(purchase_model).__name__})")
    ax.set_xticks(x, [str(v) for v in x[:-1]] + [f"{x[-1]}+"])
    ax.set(xlabel="purchases in calibration period", ylabel="mean purchases in holdout",
           title="Calibration vs holdout")
    ax.legend()
    return literal_text(ax)


def plot_p_alive_matrix(purchase_model, *, max_frequency: int | None = None, T: float | None = None, ax=None):
    """Heatmap of P(alive) over recency x frequency for a customer of age ``T``.

    ``T`` defaults to the largest age seen in fit (a customer observed over the whole window);
    ``max_frequency`` to 20.

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel
    >>> from crmml.datasets import load_cdnow_summary
    >>> ax = plot_p_alive_matrix(BetaGeoModel().fit(load_cdnow_summary()), T=39)
    >>> ax.get_ylabel()
    'frequency (repeat purchases)'
    """
    T = float(getattr(purchase_model, "max_T_", 52.0)) if T is None else float(T)
    max_frequency = 20 if max_frequency is None else int(max_frequency)
    rec = np.linspace(0, T, 60)
    freq = np.arange(0, max_frequency + 1)
    ff, rr = np.meshgrid(freq, rec, indexing="ij")
    rr = np.where(ff == 0, 0.0, rr)
    grid = pd.DataFrame({"frequency": ff.ravel(), "recency": rr.ravel(), "T": T})
    p = purchase_model.conditional_probability_alive(grid).to_numpy().reshape(ff.shape)
    ax = axes_or_new(ax, (6, 4.5), pyplot=True)
    im = ax.imshow(p, origin="lower", aspect="auto", extent=(0, T, -0.5, max_frequency + 0.5),
                   vmin=0, vmax=1, cmap="viridis")
    ax.figure.colorbar(im, ax=ax, label="P(alive)")
    ax.set(xlabel="recency (time of last purchase since first)", ylabel="frequency (repeat purchases)",
           title=f"P(alive) for a customer of age T={T:g}")
    return literal_text(ax)


def plot_clv_distribution(predictions: pd.DataFrame, *, column: str = "clv", bins: int = 50, ax=None):
    """Histogram (log-scaled counts) of predicted CLV, with the mean and the top-decile share.

    Examples
    --------
    >>> import pandas as pd
    >>> ax = plot_clv_distribution(pd.DataFrame({"clv": [0.0, 5.0, 12.0, 40.0]}))
    >>> ax.get_xlabel()
    'clv'
    """
    if column not in predictions.columns:
        raise DataError(f"plot_clv_distribution: predictions has no column {column!r}.")
    v = predictions[column].dropna().to_numpy(float)
    ax = axes_or_new(ax, (6, 4), pyplot=True)
    ax.hist(v, bins=bins, color="tab:blue", alpha=0.8)
    ax.set_yscale("log")
    ax.axvline(v.mean(), color="k", ls="--", label=f"mean {v.mean():,.1f}")
    top = np.sort(v)[::-1][: max(1, len(v) // 10)].sum() / max(v.sum(), 1e-12)
    ax.set(xlabel=column, ylabel="customers (log scale)",
           title=f"{column} distribution: top 10% of customers hold {100 * top:.0f}%")
    ax.legend()
    return literal_text(ax)
