"""RFM: a per-customer recency/frequency/monetary table and a quintile segmenter with named segments.

Definitions used by :func:`rfm_table` (all "as of" a cutoff, reading only rows with ``timestamp < as_of``):

- a *purchase* row has ``amount >= 0``; a *return* row has ``amount < 0``;
- **frequency** = distinct purchase occasions: distinct ``transaction_id`` among purchase rows when the column is
  present, otherwise distinct calendar days with a purchase (several lines of one basket share a day);
- **monetary** = net spend = purchases + returns (returns are netted, so it can be below the gross spend and,
  rarely, negative); **avg_order_value** = monetary / frequency; **returns** = value returned (>= 0);
- **recency** = days (fractional) from the last purchase to ``as_of``; **tenure** = days from the first purchase
  to ``as_of``.

Customers whose history before ``as_of`` holds only returns (their purchases predate the data, as for some
cancellations in the UCI Online Retail file) have no purchase occasion to score. By default
(``returns_only="drop"``) they are left out of the table, with a
:class:`crmml.exceptions.DroppedCustomersWarning` giving their count; ``returns_only="keep"`` keeps them with
``frequency = 0``, recency/tenure measured from their return rows and ``avg_order_value = NaN``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from crmml._utils import (check_as_of, check_in, check_number, check_segments, check_unique_ids, history_before,
                          numeric_values)
from crmml._utils._sklearn import FrameOutputMixin
from crmml._utils._warn import warn_counts
from crmml._utils._state import check_codes, check_str_list
from crmml.segmentation._rfm_segments import DEFAULT_RFM_SEGMENTS, _segment_lookup
from crmml.exceptions import DataError, DroppedCustomersWarning, ParameterError
from crmml.schema import validate_transactions

__all__ = ["rfm_table", "RFMSegmenter", "segment_summary"]

_NS_PER_DAY = 86_400 * 10**9
RFM_COLUMNS = ["recency", "frequency", "monetary", "avg_order_value", "tenure", "returns"]


def rfm_table(transactions: pd.DataFrame, as_of, *, returns_only: str = "drop",
              columns: dict | None = None) -> pd.DataFrame:
    """Per-customer recency, frequency, monetary value, average order value and tenure as of a cutoff.

    Vectorised (factorised codes and ``np.bincount``) and partitionable by customer: a subset of customers gives
    exactly those customers' rows. See the module notes for the exact definitions.

    Parameters
    ----------
    transactions : DataFrame
        Standard transactions (``customer_id``, ``timestamp``, ``amount``; optional ``transaction_id``).
    as_of : timestamp or str
        Cutoff; only rows with ``timestamp < as_of`` are read.
    returns_only : {"drop", "keep"}, default="drop"
        What to do with customers whose history holds only returns (see module notes); ``"drop"``
        warns (:class:`crmml.exceptions.DroppedCustomersWarning`) with how many were left out.
    columns : dict, optional
        Mapping from your column names to the canonical ones.

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted) with columns ``recency``, ``frequency``, ``monetary``,
    ``avg_order_value``, ``tenure`` (days, float) and ``returns``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01", "2024-03-01"]),
    ...                    "amount": [10.0, 5.0, 20.0, -3.0]})
    >>> rfm_table(tx, "2024-03-02", returns_only="keep")[["recency", "frequency", "monetary", "tenure"]]
                 recency  frequency  monetary  tenure
    customer_id
    1               30.0          2      35.0    61.0
    2                1.0          0      -3.0     1.0
    """
    owner = "rfm_table"
    check_in(returns_only, "returns_only", owner, ("drop", "keep"))
    ts = check_as_of(as_of, owner)
    if isinstance(transactions, pd.DataFrame) and (columns is None or isinstance(columns, dict)):
        cmap = dict(columns or {})  # other columns= values: validate_transactions names the mistake
        wanted = [c for c in transactions.columns
                  if cmap.get(c, c) in ("customer_id", "timestamp", "amount", "transaction_id")]
        cmap = {k: v for k, v in cmap.items() if k in wanted}
        columns = cmap or None
        transactions = transactions[wanted]
    tx = validate_transactions(transactions, columns)
    tx = history_before(tx, ts)
    return _compute_rfm(tx, ts, returns_only)


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, int, np.ndarray | None]:
    """Integer codes for ``values``: an offset when they are integers in a compact range (no hashing),
    else :func:`pandas.factorize`. Returns (codes, size of code space, uniques or None if offset)."""
    if values.dtype.kind in "iu" and len(values):
        lo, hi = int(values.min()), int(values.max())
        if hi - lo < 4 * len(values) + 1024:
            return np.subtract(values, lo, dtype="int64"), hi - lo + 1, None     # one pass, no astype copy
    codes, uniq = pd.factorize(values, sort=False)
    return codes.astype("int64"), len(uniq), uniq


def _count_distinct_pairs(groups: np.ndarray, items: np.ndarray, n_groups: int,
                          skip: np.ndarray | None = None) -> np.ndarray:
    """Number of distinct ``items`` per group (``groups`` are non-negative int codes).

    Rows where ``skip`` is true count as one extra item of their group: give them a group of their own (the
    caller drops its count), so no row has to be filtered out (copied) first.
    """
    if len(items) == 0:
        return np.zeros(n_groups, dtype="int64")
    codes, n_items, _ = _dense_codes(items)
    if skip is not None:
        codes[skip] = n_items
        n_items += 1
    big = np.iinfo("int64").max
    gmin = np.full(n_items, big, dtype="int64")
    gmax = np.full(n_items, -1, dtype="int64")
    np.minimum.at(gmin, codes, groups)
    np.maximum.at(gmax, codes, groups)
    seen = gmax >= 0
    if np.array_equal(gmin[seen], gmax[seen]):  # each item (e.g. transaction id) belongs to one group: no hashing
        return np.bincount(gmin[seen], minlength=n_groups).astype("int64")
    key = groups * np.int64(n_items) + codes
    return np.bincount(pd.unique(key) // n_items, minlength=n_groups).astype("int64")


def _compute_rfm(tx: pd.DataFrame, as_of: pd.Timestamp, returns_only: str) -> pd.DataFrame:
    if len(tx) == 0:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "frequency" else "float64") for c in RFM_COLUMNS},
                            index=pd.Index(tx["customer_id"].iloc[:0], name="customer_id"))
    cust = tx["customer_id"].to_numpy()
    codes, n, uniq = _dense_codes(cust)
    amount = tx["amount"].to_numpy(dtype="float64")
    t = tx["timestamp"].to_numpy().view("int64")
    ret = amount < 0
    rows = np.bincount(codes, minlength=n)
    net = np.bincount(codes, weights=amount, minlength=n)
    rc = codes[ret]                          # returns are few: their codes copied, purchase rows never are
    returned = -np.bincount(rc, weights=amount[ret], minlength=n)
    # purchase aggregates read every row: return rows go to an extra group n, dropped below
    codes[ret] = n
    # occasions: distinct transaction_id (or calendar day) among each customer's purchase rows
    occ = tx["transaction_id"].to_numpy() if "transaction_id" in tx.columns else t // _NS_PER_DAY
    freq = _count_distinct_pairs(codes, occ, n + 1, skip=ret)[:n]
    big, small = np.iinfo("int64").max, np.iinfo("int64").min
    last = np.full(n + 1, small, dtype="int64")
    first = np.full(n + 1, big, dtype="int64")
    np.maximum.at(last, codes, t)
    np.minimum.at(first, codes, t)
    last, first = last[:n], first[:n]
    no_buy = (freq == 0) & (rows > 0)
    if no_buy.any() and returns_only == "keep":
        rt = t[ret]
        only = no_buy[rc]
        np.maximum.at(last, rc[only], rt[only])
        np.minimum.at(first, rc[only], rt[only])
    keep = rows > 0
    if returns_only == "drop":
        keep &= ~no_buy
        if no_buy.any():
            warn_counts(DroppedCustomersWarning, f"rfm_table: {{n}} customers with only returns before as_of="
                        f"{as_of.isoformat()} left out (returns_only='drop'); pass returns_only='keep' to keep "
                        "them with frequency 0.", n=int(no_buy.sum()), stacklevel=3)
    idx = np.flatnonzero(keep)
    ids = uniq[idx] if uniq is not None else idx + int(cust.min())
    a = as_of.value
    f = freq[idx]
    out = pd.DataFrame({
        "recency": (a - last[idx]) / _NS_PER_DAY,
        "frequency": f,
        "monetary": net[idx],
        "avg_order_value": np.divide(net[idx], f, out=np.full(len(idx), np.nan), where=f > 0),
        "tenure": (a - first[idx]) / _NS_PER_DAY,
        "returns": returned[idx] + 0.0,
    }, index=pd.Index(np.asarray(ids, dtype=cust.dtype) if uniq is None else ids, name="customer_id"))
    return out if uniq is None else out.sort_index()


# ------------------------------------------------------------------------------------------------ tie-aware edges
def _tie_aware_edges(x: np.ndarray, n_bins: int) -> np.ndarray:
    """Cut points that split ``x`` into at most ``n_bins`` near-equal groups without splitting tied values.

    Greedy: for each group in turn the target size is (remaining rows) / (remaining groups); the group takes
    whole distinct values up to the target, keeping the value that crosses the target only if that leaves the
    group closer to the target (and at least one value per group). A heavy tie (say 60% of customers with one
    purchase) becomes one group and the rest is re-split evenly. Cut points are midpoints between the last value
    of a group and the first of the next.
    """
    vals, counts = np.unique(x, return_counts=True)
    u = len(vals)
    k = min(n_bins, u)
    cum = np.cumsum(counts)
    cuts = []
    start, done = 0, 0  # start: index of first distinct value of the current group; done: rows already grouped
    for g in range(k - 1):
        remaining_groups = k - g
        target = done + (cum[-1] - done) / remaining_groups
        j = int(np.searchsorted(cum, target, side="left"))  # first index with cum >= target
        j = min(j, u - 1)
        if j > start and (cum[j] - target) > (target - cum[j - 1]):
            j -= 1
        j = max(j, start)
        j = min(j, u - remaining_groups)  # leave one distinct value per remaining group
        cuts.append(j)
        done = cum[j]
        start = j + 1
    return np.array([(vals[j] + vals[j + 1]) / 2.0 for j in cuts], dtype="float64")


def _spread(n_groups: int, n_bins: int) -> np.ndarray:
    """Scores for groups 0..n_groups-1, spread over 1..n_bins when there are fewer groups than bins."""
    if n_groups <= 1:
        return np.ones(max(n_groups, 1), dtype=np.int64)
    return np.rint(1 + np.arange(n_groups) * (n_bins - 1) / (n_groups - 1)).astype(np.int64)


def segment_summary(segments, values: pd.DataFrame | None = None, *, revenue: str | None = "monetary",
                    order=None) -> pd.DataFrame:
    """Customers, share, mean of each value column and revenue share per segment.

    Parameters
    ----------
    segments : Series or DataFrame with a ``segment`` column, indexed by customer_id
    values : DataFrame, optional
        Numeric columns indexed by customer_id (for example an RFM table) whose means are reported (other
        columns are not summarised), one row per customer (a repeated id is a ``ValueError`` naming it). Rows
        of customers without a segment are not read. A segmented customer without a row in ``values`` is
        left out of the means and of ``revenue_share``, with a
        :class:`~crmml.exceptions.DroppedCustomersWarning` giving the count (``customers`` and ``share``
        still count them); a missing value (NaN) in a column is left out of that column's mean and adds
        nothing to the revenue (for example ``avg_order_value`` of the customers ``rfm_table`` keeps with
        ``returns_only="keep"``).
    revenue : str or None, default="monetary"
        Numeric column of ``values`` whose share per segment is reported as ``revenue_share`` (no
        ``revenue_share`` when ``values`` has no such column).
    order : list, optional
        Row order (default: categorical order, else by size); it must list every segment present.

    Every customer needs a segment, once: a missing one (NaN), a segment missing from ``order`` or a
    customer id given twice is a ``ValueError`` with the count.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["a", "b", "a"], index=[1, 2, 3], name="segment")
    >>> v = pd.DataFrame({"monetary": [10.0, 30.0, 20.0]}, index=[1, 2, 3])
    >>> segment_summary(s, v)
             customers  share  monetary  revenue_share
    segment
    a                2  0.667      15.0            0.5
    b                1  0.333      30.0            0.5
    """
    if isinstance(segments, pd.DataFrame) and "segment" not in segments.columns:
        raise DataError(f"segment_summary: the segments frame has no 'segment' column; got "
                        f"{list(segments.columns)[:10]} (pass RFMSegmenter().fit_transform(rfm) or a Series of "
                        "segment names).")
    seg = segments["segment"] if isinstance(segments, pd.DataFrame) else pd.Series(segments)
    seg = check_segments(seg.rename("segment"), "segments", "segment_summary")
    counts = seg.value_counts(sort=False)
    if order is None:
        order = list(seg.cat.categories) if isinstance(seg.dtype, pd.CategoricalDtype) else \
            list(counts.sort_values(ascending=False).index)
    elif len(left := counts[(counts > 0) & ~counts.index.isin(list(order))]):
        raise ParameterError(f"segment_summary: order leaves out the segments {left.index[:5].tolist()} "
                             f"({int(left.sum()):,} customers); list every segment.")
    out = pd.DataFrame({"customers": counts.reindex(order).fillna(0).astype("int64")})
    out["share"] = (out["customers"] / max(len(seg), 1)).round(3)
    if values is not None:
        check_unique_ids(values.index, "values", "segment_summary")     # reindex would raise pandas' error
        absent = ~seg.index.isin(values.index)
        if absent.any():
            warnings.warn(f"segment_summary: {int(absent.sum()):,} of the {len(seg):,} customers have no row in "
                          f"values (e.g. {seg.index[absent][:3].tolist()}); the means and revenue_share of their "
                          "segments are over the customers that have one (customers and share count them all).",
                          DroppedCustomersWarning, stacklevel=2)
        num = values.select_dtypes("number").reindex(seg.index)
        means = num.groupby(seg.to_numpy(), observed=False).mean().reindex(order)
        out = out.join(means)
        if revenue is not None and revenue in num.columns:
            rev = num[revenue].groupby(seg.to_numpy(), observed=False).sum().reindex(order).fillna(0)
            total = num[revenue].sum()
            out["revenue_share"] = (rev / total).round(3) if total else np.nan
    out.index.name = "segment"
    return out


class RFMSegmenter(FrameOutputMixin, TransformerMixin, BaseEstimator):
    """Score customers 1..5 on recency, frequency and monetary value and name their RFM segment.

    ``fit`` learns the score edges of each measure on an RFM table (quintiles by default); ``transform`` applies
    the same edges to any table (for example a later period, or one partition of the customers) and maps the
    scores to named segments through a rule table.

    Ties: edges never split tied values (customers with the same frequency get the same F score). They come
    from a greedy equal-frequency split over distinct values (see ``_tie_aware_edges``): a heavy tie, such as
    the majority of retail customers who bought once, forms one group and the remaining customers are split
    evenly into the remaining scores, so every score 1..``n_scores`` is used when the data has enough distinct
    values. With fewer distinct values than scores the groups are spread over the range (3 groups get 1, 3, 5;
    a single value gets 1). Recency is reversed: the most recent customers get R = ``n_scores``.

    Parameters
    ----------
    n_scores : int, default=5
        Number of score levels (5 = quintiles). The default segment table assumes 5.
    segments : DataFrame, optional
        Segment rule table (see :data:`DEFAULT_RFM_SEGMENTS`); it must map each (R, F, M) cell to exactly one
        segment. Defaults to the 11-segment map.
    monetary : str, default="monetary"
        Column scored as M (for example ``"avg_order_value"``).

    Attributes
    ----------
    r_edges_, f_edges_, m_edges_ : ndarray
        Ascending cut points of recency, frequency and monetary value (``len`` <= ``n_scores - 1``).
    r_scores_, f_scores_, m_scores_ : ndarray
        Score of each group between consecutive cut points (ascending value; reversed for recency).
    segment_names_ : list of str
        Segment names in table order.
    lookup_ : ndarray of shape (n_scores, n_scores, n_scores)
        Segment code of each (R, F, M) cell.
    feature_names_in_ : ndarray of str
        The columns read: ``recency``, ``frequency`` and ``monetary`` (other columns are ignored).
    n_features_in_ : int
        3.

    Notes
    -----
    scikit-learn conventions: ``set_output(transform="pandas")`` and ``get_feature_names_out`` work; ``score``
    returns a float (how evenly the fitted edges spread ``X`` over the scores), so ``GridSearchCV`` can use it;
    the per-customer R, F and M scores are :meth:`score_table`.

    Examples
    --------
    >>> import pandas as pd
    >>> rfm = pd.DataFrame({"recency": [5.0, 40, 200, 300, 10, 90],
    ...                     "frequency": [8, 3, 1, 1, 1, 2],
    ...                     "monetary": [900.0, 300, 40, 15, 30, 120]},
    ...                    index=pd.Index([1, 2, 3, 4, 5, 6], name="customer_id"))
    >>> seg = RFMSegmenter().fit(rfm)
    >>> seg.transform(rfm)[["r_score", "f_score", "m_score", "segment"]]
                 r_score  f_score  m_score             segment
    customer_id
    1                  5        5        5           Champions
    2                  3        4        4     Loyal Customers
    3                  2        1        3         Hibernating
    4                  1        1        1                Lost
    5                  4        1        2  Potential Loyalist
    6                  2        2        4             At Risk
    """

    _output_names = ("r_score", "f_score", "m_score", "fm_score", "rfm_cell", "segment")

    def __init__(self, n_scores: int = 5, segments: pd.DataFrame | None = None, monetary: str = "monetary"):
        self.n_scores = n_scores
        self.segments = segments
        self.monetary = monetary

    def _columns(self):
        return ("recency", "frequency", self.monetary)

    def _check_frame(self, X, where: str) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"RFMSegmenter.{where} expects an RFM table (a DataFrame from rfm_table). "
                                 f"Got {type(X).__name__} instead.")
        missing = [c for c in self._columns() if c not in X.columns]
        if missing:
            raise DataError(f"RFMSegmenter.{where}: the RFM table lacks columns {missing}; "
                            f"got {list(X.columns)[:10]}. Build it with rfm_table().")
        for c in self._columns():
            bad = X[c].isna().to_numpy()
            if bad.any():
                raise DataError(f"RFMSegmenter.{where}: column {c!r} has {int(bad.sum())} missing values; "
                                "RFM scores need complete recency, frequency and monetary values.")
        return X

    def fit(self, X: pd.DataFrame, y=None) -> "RFMSegmenter":
        """Learn the score edges of recency, frequency and monetary value on an RFM table."""
        check_number(self.n_scores, "n_scores", "RFMSegmenter", low=2, high=10)
        X = self._check_frame(X, "fit")
        if len(X) == 0:
            raise DataError("RFMSegmenter.fit: the RFM table is empty (0 customers).")
        table = DEFAULT_RFM_SEGMENTS if self.segments is None else self.segments
        if self.segments is None and self.n_scores != 5:
            raise ParameterError("The default segment table of RFMSegmenter assumes n_scores=5; pass your own "
                                 f"'segments' table for n_scores={self.n_scores}.")
        self.lookup_, self.segment_names_ = _segment_lookup(table, self.n_scores)
        k = self.n_scores
        for name, col in zip("rfm", self._columns()):
            edges = _tie_aware_edges(numeric_values(X[col], "rfm", col), k)
            scores = _spread(len(edges) + 1, k)
            if name == "r":
                scores = scores[::-1].copy()
            setattr(self, f"{name}_edges_", edges)
            setattr(self, f"{name}_scores_", scores)
        return self._record_input(self._columns())

    def _check_loaded_state(self):
        """Scores in ``1..n_scores``, one more score than edges, segment codes in range (called by ``load``)."""
        check_is_fitted(self, "lookup_")
        k = self.n_scores
        check_number(k, "n_scores", "RFMSegmenter", low=2, high=10)
        if np.shape(self.lookup_) != (k, k, k):
            raise ValueError(f"lookup_ must have shape {(k, k, k)}; it has {np.shape(self.lookup_)}.")
        check_codes(self.lookup_, "lookup_", -1, len(check_str_list(self.segment_names_, "segment_names_")))
        for name in "rfm":
            edges = np.asarray(getattr(self, f"{name}_edges_"), dtype=float)
            check_codes(getattr(self, f"{name}_scores_"), f"{name}_scores_", 1, k + 1, edges.size + 1)
            if edges.ndim != 1 or np.any(np.diff(edges) < 0):
                raise ValueError(f"{name}_edges_ must be a sorted one-dimensional array.")

    def score(self, X: pd.DataFrame, y=None) -> float:
        """Balance of the scores on ``X``: the mean over R, F and M of the normalised entropy of the scores.

        1.0 when each of the ``n_scores`` levels holds an equal share of ``X``'s customers (what quantile edges
        aim at), lower when ties or a shift since ``fit`` crowd customers into few levels; comparable across
        ``n_scores``. ``y`` is ignored. The per-customer scores are :meth:`score_table`.

        >>> import pandas as pd
        >>> rfm = pd.DataFrame({"recency": [1.0, 2, 3, 4, 5], "frequency": [1, 2, 3, 4, 5],
        ...                     "monetary": [1.0, 2, 3, 4, 5]})
        >>> RFMSegmenter().fit(rfm).score(rfm)
        1.0
        """
        table = self.score_table(X)
        k = self.n_scores
        ent = []
        for col in ("r_score", "f_score", "m_score"):
            p = np.bincount(table[col].to_numpy(), minlength=k + 1)[1:] / max(len(table), 1)
            p = p[p > 0]
            ent.append(float(-(p * np.log(p)).sum() / np.log(k)))
        return round(float(np.mean(ent)), 12)

    def score_table(self, X: pd.DataFrame) -> pd.DataFrame:
        """R, F and M scores (1..n_scores) of each customer on the fitted edges (``r_score``, ``f_score``,
        ``m_score``, indexed like ``X``)."""
        check_is_fitted(self, "lookup_")
        X = self._check_frame(X, "score")
        out = {}
        for name, col in zip("rfm", self._columns()):
            edges, scores = getattr(self, f"{name}_edges_"), getattr(self, f"{name}_scores_")
            values = numeric_values(X[col], "rfm", col)
            out[f"{name}_score"] = scores[np.searchsorted(edges, values, side="right")]
        return pd.DataFrame(out, index=X.index)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Scores and named segment of each customer.

        Returns
        -------
        DataFrame indexed like ``X`` with ``r_score``, ``f_score``, ``m_score``, ``fm_score``
        (``ceil((F + M) / 2)``), ``rfm_cell`` (e.g. ``"545"``) and ``segment`` (categorical, table order).
        """
        out = self.score_table(X)
        r, f, m = (out[c].to_numpy() for c in ("r_score", "f_score", "m_score"))
        out["fm_score"] = (f + m + 1) // 2
        out["rfm_cell"] = pd.Series(r * 100 + f * 10 + m, index=out.index).astype(str) if self.n_scores < 10 \
            else [f"{a}-{b}-{c}" for a, b, c in zip(r, f, m)]
        codes = self.lookup_[r - 1, f - 1, m - 1]
        out["segment"] = pd.Categorical.from_codes(codes, categories=self.segment_names_)
        return out

    def summary(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per segment: customers, share, mean recency/frequency/monetary (and other numeric columns of
        ``X``) and revenue share (of ``monetary``), in table order."""
        seg = self.transform(X)["segment"]
        cols = [c for c in ("recency", "frequency", "monetary", "avg_order_value") if c in X.columns]
        if self.monetary not in cols:
            cols.append(self.monetary)
        return segment_summary(seg, X[cols], revenue=self.monetary)
