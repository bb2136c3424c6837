"""Segmentation plots: segment sizes, the R x F grid, cluster profiles. Each returns its Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.exceptions import ParameterError

__all__ = ["plot_segment_sizes", "plot_rf_grid", "plot_cluster_profiles"]


def plot_segment_sizes(segments, *, ax=None):
    """Horizontal bars of each segment's share of customers (and of revenue when known).

    Parameters
    ----------
    segments : DataFrame or Series
        A summary table with ``customers`` (and optionally ``revenue_share``), as from
        :meth:`RFMSegmenter.summary` or :func:`segment_summary`; or per-customer labels (a Series, or a frame with
        a ``segment`` column, such as any segmenter's ``transform`` output).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> ax = plot_segment_sizes(pd.Series(["a", "b", "a"], name="segment"))
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b']
    """
    if isinstance(segments, pd.DataFrame) and "customers" in segments.columns:
        table = segments
    else:
        from crmml.segmentation._rfm import segment_summary

        table = segment_summary(segments)
    ax = axes_or_new(ax, (7, 0.4 * len(table) + 1.5), pyplot=True)
    y = np.arange(len(table))[::-1]
    share = table["customers"] / table["customers"].sum()
    h = 0.4 if "revenue_share" in table.columns else 0.8
    ax.barh(y + (h / 2 if h < 0.8 else 0), share, height=h, label="customers", color="tab:blue")
    for yi, s in zip(y, share):
        ax.text(s, yi + (h / 2 if h < 0.8 else 0), f" {s:.0%}", va="center", fontsize=8)
    if "revenue_share" in table.columns:
        ax.barh(y - h / 2, table["revenue_share"].fillna(0), height=h, label="revenue", color="tab:orange")
        ax.legend(loc="lower right")
    ax.set_yticks(y, [str(i) for i in table.index])
    ax.set(xlabel="share", title="Segment sizes")
    return literal_text(ax)


def plot_rf_grid(segmenter, rfm: pd.DataFrame, *, value: str = "monetary", ax=None):
    """Recency score x frequency score grid, coloured by mean ``value``, annotated with customer counts.

    Colours use a log scale when the cell means are positive and span more than a factor of 20.

    Parameters
    ----------
    segmenter : fitted RFMSegmenter
    rfm : DataFrame
        The RFM table to score (from :func:`rfm_table`).
    value : str, default="monetary"
        Column of ``rfm`` averaged in each cell.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.segmentation import RFMSegmenter
    >>> rfm = pd.DataFrame({"recency": [1.0, 10, 50, 100, 200], "frequency": [9, 5, 3, 2, 1],
    ...                     "monetary": [500.0, 200, 80, 40, 10]})
    >>> ax = plot_rf_grid(RFMSegmenter().fit(rfm), rfm)
    >>> ax.get_xlabel()
    'F score (frequency)'
    """
    check_is_fitted(segmenter, "lookup_")
    if value not in rfm.columns:
        raise ParameterError(f"plot_rf_grid: column {value!r} is not in the RFM table; got {list(rfm.columns)[:10]}.")
    s = segmenter.score_table(rfm)
    k = segmenter.n_scores
    grid = np.full((k, k), np.nan)
    count = np.zeros((k, k), dtype=int)
    g = pd.DataFrame({"r": s["r_score"].to_numpy(), "f": s["f_score"].to_numpy(),
                      "v": rfm[value].to_numpy(dtype="float64")})
    agg = g.groupby(["r", "f"])["v"].agg(["mean", "size"])
    for (r, f), row in agg.iterrows():
        grid[k - r, f - 1] = row["mean"]
        count[k - r, f - 1] = row["size"]
    ax = axes_or_new(ax, (6, 5), pyplot=True)
    finite = grid[np.isfinite(grid)]
    log = len(finite) > 0 and finite.min() > 0 and finite.max() / finite.min() > 20  # skewed spend: log colours
    im = ax.imshow(grid, cmap="viridis", aspect="auto", norm="log" if log else None)
    ax.figure.colorbar(im, ax=ax, label=f"mean {value}" + (" (log scale)" if log else ""))
    mid = (np.sqrt(finite.min() * finite.max()) if log else (finite.min() + finite.max()) / 2) \
        if len(finite) else 0
    for i in range(k):
        for j in range(k):
            if count[i, j]:
                ax.text(j, i, f"{grid[i, j]:,.0f}\nn={count[i, j]}", ha="center", va="center", fontsize=7,
                        color="black" if grid[i, j] > mid else "white")
    ax.set_xticks(range(k), [str(f) for f in range(1, k + 1)])
    ax.set_yticks(range(k), [str(r) for r in range(k, 0, -1)])
    ax.set(xlabel="F score (frequency)", ylabel="R score (recency)", title=f"R x F grid: mean {value}")
    return literal_text(ax)


def plot_cluster_profiles(clusterer, *, ax=None):
    """Heatmap of each cluster's z-scores against the whole base, rows labelled with name and share.

    Parameters
    ----------
    clusterer : fitted CustomerClusterer
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmml.segmentation import CustomerClusterer
    >>> X = pd.DataFrame({"frequency": np.r_[np.ones(20), np.full(20, 9.0)],
    ...                   "monetary": np.r_[np.full(20, 10.0), np.full(20, 900.0)]})
    >>> ax = plot_cluster_profiles(CustomerClusterer(n_clusters=2).fit(X))
    >>> len(ax.get_yticklabels())
    2
    """
    check_is_fitted(clusterer, "zscores_")
    z = clusterer.zscores_
    prof = clusterer.profiles_
    ax = axes_or_new(ax, (1.2 * z.shape[1] + 4, 0.5 * len(z) + 1.5), pyplot=True)
    lim = max(1.0, float(np.nanmax(np.abs(z.to_numpy()))))
    im = ax.imshow(z.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
    ax.figure.colorbar(im, ax=ax, label="z-score vs all customers")
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            ax.text(j, i, f"{z.iat[i, j]:+.1f}", ha="center", va="center", fontsize=8,
                    color="white" if abs(z.iat[i, j]) > 0.6 * lim else "black")
    ax.set_xticks(range(z.shape[1]), list(z.columns), rotation=30, ha="right")
    ax.set_yticks(range(z.shape[0]), [f"{c}: {prof.loc[c, 'name']} ({prof.loc[c, 'share']:.0%})"
                                      for c in z.index])
    ax.set(title="Cluster profiles")
    return literal_text(ax)
