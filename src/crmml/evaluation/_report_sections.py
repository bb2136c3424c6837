"""Report sections for segments and drift: what moved between two dates, and how.

- :func:`segment_migration` counts customers moving between segments from one date to another;
- :func:`segment_profile` gives medians beside means per segment (a few big spenders move a mean);
- :func:`cluster_profile` puts each cluster's z-scores on the log scale its name comes from beside
  the raw medians;
- :func:`plot_drift` draws the reference and current distribution of each feature, PSI in the title;
- :func:`segments_report` and :func:`drift_report` write them through :func:`report`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._utils import check_segments
from crmml._utils._plot_text import literal_text
from crmml._utils._plotting import axes_or_new
from crmml.evaluation._metrics import psi_table
from crmml.evaluation._report import report
from crmml.exceptions import ParameterError

__all__ = ["segment_migration", "segment_profile", "cluster_profile", "plot_migration", "plot_drift",
           "segments_report", "drift_report"]

NEW, GONE = "(new)", "(gone)"


def _segment_series(segments, name: str, owner: str) -> pd.Series:
    s = segments["segment"] if isinstance(segments, pd.DataFrame) else segments
    if not isinstance(s, pd.Series):
        raise ParameterError(f"{name} must be a Series (or a DataFrame with a 'segment' column) indexed by "
                             f"customer_id; got {type(segments).__name__}.")
    return check_segments(s, name, owner)


def _order(s: pd.Series) -> list:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return list(s.cat.categories)
    return list(s.value_counts(sort=True).index)


def segment_migration(before, after, *, normalize: bool = False) -> pd.DataFrame:
    """Customers by segment at the first date (rows) and at the second (columns).

    Customers in only one of the two are counted in the ``"(new)"`` row or the ``"(gone)"``
    column, so every customer of either date is counted exactly once (a missing segment is a ``ValueError``).

    Parameters
    ----------
    before, after : Series or DataFrame with a ``segment`` column, indexed by customer_id
        The segments at the two dates (e.g. ``RFMSegmenter.transform`` at two ``as_of``).
    normalize : bool, default=False
        Shares of each row (where the customers of a segment went) instead of counts.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series(["gold", "gold", "silver"], index=[1, 2, 3])
    >>> b = pd.Series(["gold", "silver", "silver"], index=[1, 3, 4])
    >>> segment_migration(a, b)
    after   gold  silver  (gone)
    before
    gold       1       0       1
    silver     0       1       0
    (new)      0       1       0
    """
    a, b = (_segment_series(x, name, "segment_migration") for x, name in ((before, "before"), (after, "after")))
    rows = [*dict.fromkeys(_order(a) + [c for c in _order(b) if c not in set(_order(a))])]
    ids = a.index.union(b.index)
    ra = a.reindex(ids).astype(object).where(ids.isin(a.index), NEW)
    rb = b.reindex(ids).astype(object).where(ids.isin(b.index), GONE)
    out = pd.crosstab(pd.Series(ra.to_numpy(), name="before"), pd.Series(rb.to_numpy(), name="after"))
    out = out.reindex(index=[*rows, NEW], columns=[*rows, GONE], fill_value=0)
    out = out.loc[(out.sum(axis=1) > 0) | out.index.isin(rows), (out.sum(axis=0) > 0) | out.columns.isin(rows)]
    if normalize:
        out = out.div(out.sum(axis=1).replace(0, np.nan), axis=0)
    return out


def plot_migration(matrix: pd.DataFrame, *, ax=None):
    """Heat map of a :func:`segment_migration` table, row shares as colour, counts written in.

    >>> import pandas as pd
    >>> m = segment_migration(pd.Series(["a", "b"], index=[1, 2]), pd.Series(["b", "b"], index=[1, 2]))
    >>> plot_migration(m).get_xlabel()
    'segment at the second date'
    """
    ax = axes_or_new(ax, (max(4.5, 1.5 + 0.8 * matrix.shape[1]), max(3.5, 1.5 + 0.45 * matrix.shape[0])))
    share = matrix.div(matrix.sum(axis=1).replace(0, np.nan), axis=0).fillna(0).to_numpy()
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(matrix.to_numpy()):
        ax.text(j, i, f"{v:,.0f}", ha="center", va="center", fontsize=8,
                color="white" if share[i, j] > 0.6 else "black")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns], rotation=45, ha="right")
    ax.set_yticks(range(matrix.shape[0]), [str(r) for r in matrix.index])
    ax.set(xlabel="segment at the second date", ylabel="segment at the first date",
           title="Segment migration\n(colour: share of the row)")
    return literal_text(ax)


def segment_profile(segments, values: pd.DataFrame) -> pd.DataFrame:
    """Customers, share and, for each numeric column of ``values``, its median and mean per segment.

    Every customer needs a segment: a missing one (NaN) is a ``ValueError`` with the count.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["a", "a", "a", "b"], index=[1, 2, 3, 4])
    >>> v = pd.DataFrame({"monetary": [10.0, 20.0, 900.0, 5.0]}, index=[1, 2, 3, 4])
    >>> segment_profile(s, v).loc["a"].tolist()
    [3.0, 0.75, 20.0, 310.0]
    """
    seg = _segment_series(segments, "segments", "segment_profile")
    num = values.select_dtypes("number").reindex(seg.index)
    order = _order(seg)
    g = num.groupby(seg.to_numpy(), observed=False)
    med, mean = g.median().reindex(order), g.mean().reindex(order)
    counts = seg.value_counts().reindex(order).fillna(0)
    cols = {("customers", ""): counts.astype(float), ("share", ""): counts / max(len(seg), 1)}
    for c in num.columns:
        cols[(c, "median")] = med[c]
        cols[(c, "mean")] = mean[c]
    out = pd.DataFrame(cols)
    out.index.name = "segment"
    return out


def cluster_profile(clusterer, X: pd.DataFrame) -> pd.DataFrame:
    """Per cluster of a fitted :class:`crmml.segmentation.CustomerClusterer`: its name, size, and per
    feature the z-score on the (log) scale the names come from beside the raw median.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmml.segmentation import CustomerClusterer
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"recency": rng.exponential(50, 200), "monetary": rng.lognormal(4, 1, 200)},
    ...                  index=pd.RangeIndex(200, name="customer_id"))
    >>> t = cluster_profile(CustomerClusterer(n_clusters=3, random_state=0).fit(X), X)
    >>> [c for c in t.columns if c[0] == "monetary"]
    [('monetary', 'z (log scale)'), ('monetary', 'median')]
    """
    labels = clusterer.predict(X)
    z = clusterer.zscores_
    feats = list(z.columns)
    med = X[feats].groupby(labels.to_numpy()).median().reindex(z.index)
    cols = {("name", ""): pd.Series(clusterer.names_, index=z.index),
            ("size", ""): labels.value_counts().reindex(z.index).fillna(0).astype(float)}
    scale = "z (log scale)" if clusterer.log_transform else "z"
    for f in feats:
        cols[(f, scale)] = z[f]
        cols[(f, "median")] = med[f]
    return pd.DataFrame(cols)


def plot_drift(reference: pd.DataFrame, current: pd.DataFrame, columns=None, *, psi: pd.DataFrame | None = None,
               n_cols: int = 3, bins: int = 30):
    """One panel per feature: reference and current distributions (shares), PSI in the title.

    Numeric columns are histograms on shared bins (1st to 99th percentile of both); others are
    bars of category shares (the 10 most common). Returns the Figure.

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> fig = plot_drift(pd.DataFrame({"x": rng.normal(size=500)}), pd.DataFrame({"x": rng.normal(1, size=500)}))
    >>> [line.get_gid() for line in fig.axes[0].get_lines()]
    ['reference', 'current']
    """
    from matplotlib.figure import Figure

    columns = list(psi.index if psi is not None else [c for c in reference.columns if c in current.columns]) \
        if columns is None else list(columns)
    psi = psi if psi is not None else psi_table(reference, current, columns)
    n_rows = max(1, -(-len(columns) // n_cols))
    fig = Figure(figsize=(3.6 * n_cols, 2.6 * n_rows), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
    for ax, c in zip(axes, columns):
        e, a = reference[c], current[c]
        if pd.api.types.is_numeric_dtype(e) and pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(e):
            both = pd.concat([e, a]).dropna().to_numpy(dtype=float)
            lo, hi = np.quantile(both, [0.01, 0.99]) if len(both) else (0.0, 1.0)
            edges = np.linspace(lo, hi if hi > lo else lo + 1, bins + 1)
            mid = (edges[1:] + edges[:-1]) / 2
            for name, v, colour in (("reference", e, "#7f7f7f"), ("current", a, "#d62728")):
                v = v.dropna().to_numpy(dtype=float)
                share = np.histogram(np.clip(v, edges[0], edges[-1]), edges)[0] / max(len(v), 1)
                ax.plot(mid, share, drawstyle="steps-mid", color=colour, lw=1.5, gid=name, label=name)
        else:
            top = e.astype(str).value_counts().index[:10]
            pos = np.arange(len(top))
            for k, (name, v, colour) in enumerate((("reference", e, "#7f7f7f"), ("current", a, "#d62728"))):
                share = v.astype(str).value_counts(normalize=True).reindex(top, fill_value=0.0)
                ax.bar(pos + (k - 0.5) * 0.4, share, width=0.4, color=colour, label=name)
                ax.plot(pos, share, ls="none", gid=name)          # the shares, for the report's plot data
            ax.set_xticks(pos, [str(t)[:12] for t in top], rotation=45, ha="right", fontsize=7)
        status = psi.at[c, "status"] if c in psi.index else ""
        value = psi.at[c, "psi"] if c in psi.index else np.nan
        ax.set_title(f"{c}\nPSI {value:.3f} ({status})", fontsize=9,
                     color="#b3261e" if status == "major shift" else "black")
        ax.set_ylabel("share", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(columns):]:
        ax.axis("off")
    if columns:
        axes[0].legend(fontsize=7)
    return literal_text(fig)


def drift_report(path, reference: pd.DataFrame, current: pd.DataFrame, columns=None, *,
                 title: str = "Drift", subtitle: str | None = None, n_bins: int = 10, notes=None):
    """A drift report: the PSI table beside the distribution of every compared feature.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = pd.DataFrame({"x": rng.normal(size=300)}), pd.DataFrame({"x": rng.normal(1, size=300)})
    >>> "major shift" in drift_report(pathlib.Path(tempfile.mkdtemp()) / "d.html", ref, cur).read_text()
    True
    """
    table = psi_table(reference, current, columns, n_bins=n_bins)
    fig = plot_drift(reference, current, list(table.index), psi=table)
    summary = {"reference rows": len(reference), "current rows": len(current), "features compared": len(table),
               "major shifts": int((table["status"] == "major shift").sum())}
    return report(path, title=title, subtitle=subtitle, data_summary=summary, notes=notes,
                  sections=[("Population stability", [("PSI by feature", table),
                                                      ("Distributions: reference and current", fig)])])


def segments_report(path, segments, values: pd.DataFrame | None = None, *, previous_segments=None,
                    clusterer=None, X: pd.DataFrame | None = None, title: str = "Customer segments",
                    subtitle: str | None = None, figures=None, notes=None):
    """Segments with medians beside means, the migration from ``previous_segments`` and cluster profiles.

    Parameters
    ----------
    segments : Series or DataFrame with a ``segment`` column, indexed by customer_id
    values : DataFrame, optional
        Numeric columns by customer (e.g. the RFM table) profiled per segment.
    previous_segments : optional
        The segments at an earlier date: adds the migration matrix (counts and heat map).
    clusterer, X : optional
        A fitted :class:`crmml.segmentation.CustomerClusterer` and its features: adds the cluster
        profile (z-scores on the log scale beside raw medians).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> s = pd.Series(["a", "b", "a"], index=[1, 2, 3]); old = pd.Series(["a", "a"], index=[1, 2])
    >>> out = segments_report(pathlib.Path(tempfile.mkdtemp()) / "s.html", s, previous_segments=old)
    >>> "Segment migration" in out.read_text()
    True
    """
    sections = []
    if values is not None:
        sections.append(("Segment profile", [("Medians and means per segment", segment_profile(segments, values))]))
    if previous_segments is not None:
        m = segment_migration(previous_segments, segments)
        sections.append(("Segment migration", [("Customers by segment at the first (rows) and second date", m),
                                               ("Migration heat map", plot_migration(m))]))
    if clusterer is not None:
        if X is None:
            raise ParameterError("segments_report: pass X (the clusterer's features) with clusterer.")
        sections.append(("Behaviour clusters", [("Cluster profile: z-scores on the scale the names come from "
                                                 "beside raw medians", cluster_profile(clusterer, X))]))
    seg = _segment_series(segments, "segments", "segments_report")
    return report(path, title=title, subtitle=subtitle, notes=notes, figures=figures, sections=sections,
                  data_summary={"customers": len(seg), "segments": int(seg.nunique())})
