"""Distinct summary rows: compression into weights, per-column codes and the binned rows of the start fit.

A fit runs on the distinct rows of its columns weighted by their counts (:func:`compress`). Every column is
factorized once there; the codes are kept in the data dict (:func:`factorized`) so that likelihood terms that
depend on one column only (``gammaln(r + x)``, ``log(alpha + T)``, ...) are computed once per distinct value
and gathered. On large day-granular data the optimizer starts from a fit on binned rows
(:func:`binned`: rows grouped by frequency and by recency and age in bins of a 64th of the
largest age, at their mean recency and age), which costs little and lands close to
the optimum of the full data; the fit on all rows then only polishes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["compress", "factorized", "binned", "START_ROWS"]

#: distinct rows above which a purchase model starts from a fit on binned rows
START_ROWS = 50_000


def factorized(data: dict, column: str):
    """(unique values, inverse codes) of ``data[column]``, cached in ``data`` across likelihood calls."""
    key = "_fac_" + column
    if key not in data:
        codes, uniq = pd.factorize(data[column])
        data[key] = (np.asarray(uniq, dtype="float64"), codes)
    return data[key]


def compress(data: dict, weights):
    """Distinct rows of the columns in ``data``, sorted lexicographically, and their summed weights (or counts).

    Each column is factorized (sorted) and the codes are combined into one integer key per row, so a single
    ``np.unique`` finds the distinct rows; the column codes of the result are kept for :func:`factorized`.
    """
    keys = list(data)
    codes, uniqs = [], []
    for k in keys:
        u, c = _codes(data[k])
        codes.append(c)
        uniqs.append(u)
    sizes = [len(u) for u in uniqs]
    if float(np.prod(np.array(sizes, dtype="float64"))) >= 2.0 ** 62:     # keys would overflow: rare
        return _compress_groupby(data, weights)
    key = codes[0]
    for c, m in zip(codes[1:], sizes[1:]):
        key = key * m + c
    if weights is None:
        uk, counts = np.unique(key, return_counts=True)
        w = counts.astype("float64")
    else:
        uk, inv = np.unique(key, return_inverse=True)
        w = np.bincount(inv.ravel(), weights=weights, minlength=len(uk))
    out, rem = {}, uk
    for k, m, u in zip(keys[:0:-1], sizes[:0:-1], uniqs[:0:-1]):
        c = rem % m
        out[k] = u[c]
        out["_fac_" + k] = (u, c)
        rem = rem // m
    out[keys[0]] = uniqs[0][rem]
    out["_fac_" + keys[0]] = (uniqs[0], rem)
    return {k: out[k] for k in keys} | {k: v for k, v in out.items() if k.startswith("_fac_")}, w


def _codes(v: np.ndarray):
    """Sorted distinct values of one column and each row's code: directly for integer values in a range
    below 2**20 (counts, days), else by a sorted factorization."""
    if len(v) and float(v.max()) - float(v.min()) < 2 ** 20:
        lo = float(v.min())
        iv = (v - lo).astype(np.int64)
        if np.array_equal(iv + lo, v):
            present = np.bincount(iv) > 0
            return np.flatnonzero(present) + lo, (np.cumsum(present) - 1)[iv]
    c, u = pd.factorize(v, sort=True)
    return np.asarray(u, dtype="float64"), c.astype(np.int64)


def _compress_groupby(data: dict, weights):
    keys = list(data)
    frame = pd.DataFrame(data)
    if weights is not None:
        frame["_w"] = weights
        g = frame.groupby(keys, sort=True)["_w"].sum()
    else:
        g = frame.groupby(keys, sort=True).size()   # sorted: the fit does not depend on the row order
    idx = g.index.to_frame(index=False)
    return {k: idx[k].to_numpy(dtype="float64") for k in keys}, g.to_numpy(dtype="float64")


def binned(data: dict, weights: np.ndarray, n_bins: int = 64, min_rows: int | None = None):
    """(frequency, recency, T) rows grouped by frequency and by recency and T in bins of 1/n_bins of the largest
    T, each group as one row at its weighted mean recency and T, with the group's weight; or None.

    The means keep the rows valid (recency <= T, recency 0 when frequency is 0) and make the binned
    likelihood close to the full one (the error is of second order in the spread within a bin). None when
    the data are not such a summary, are small (< ``min_rows``, default :data:`START_ROWS`, distinct rows) or
    do not shrink by binning.
    """
    cols = ("frequency", "recency", "T")
    if len(weights) < (START_ROWS if min_rows is None else min_rows) or any(c not in data for c in cols) \
            or any(not k.startswith("_") and k not in cols for k in data):
        return None
    step = float(np.max(data["T"])) / n_bins
    if not step > 0:
        return None
    x, tx, T = (data[c] for c in cols)
    key = _codes(x)[1]
    for v in (tx, T):
        b = np.round(v / step).astype(np.int64)
        key = key * (int(b.max()) + 1) + b
    uk, inv = np.unique(key, return_inverse=True)
    inv = inv.ravel()
    if len(uk) >= len(weights) // 2:
        return None
    w = np.bincount(inv, weights=weights, minlength=len(uk))
    out = {c: np.bincount(inv, weights=weights * v, minlength=len(uk)) / w for c, v in zip(cols, (x, tx, T))}
    out["frequency"] = np.round(out["frequency"])            # the same in a group; exact again
    return out, w
