"""Integer codes for the feature factory: customers as positions in a sorted id universe, categorical columns
as codes with their labels, and row ranges of a block of customers in code-sorted arrays.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._ids import MixedIdWarning


def _sorted_order(codes, t_ns):
    """Order sorting rows by (code, t_ns); no copy when already sorted."""
    if len(codes) < 2:
        return None
    dc = np.diff(codes)
    if (dc >= 0).all() and ((dc > 0) | (np.diff(t_ns) >= 0)).all():
        return None
    return np.lexsort((t_ns, codes))


def _union_ids(tx_ids, cu_ids):
    if cu_ids is None or len(cu_ids) == 0:
        return np.sort(tx_ids)
    mixed = tx_ids.dtype.kind != cu_ids.dtype.kind
    if mixed:
        tx_ids, cu_ids = tx_ids.astype(str), cu_ids.astype(str)
    u = np.concatenate([tx_ids, cu_ids])
    u.sort()                                       # sort + adjacent dedupe: several times faster than np.unique
    keep = np.ones(len(u), bool)
    keep[1:] = u[1:] != u[:-1]
    if mixed and len(tx_ids) and keep.all():       # integer ids on one side, text on the other, none shared
        warnings.warn(f"customer ids are numbers in one frame and text in the other, and none of the {len(cu_ids)} "
                      f"customers matches any of the {len(tx_ids)} customers of the transactions (transactions e.g. "
                      f"{tx_ids[:3].tolist()}, customers e.g. {cu_ids[:3].tolist()}): every customer of the customers "
                      "frame gets empty purchase features. Check that both frames use the same ids.", MixedIdWarning,
                      stacklevel=4)
    return u[keep]


def _codes_in(universe, ids):
    """Positions of ``ids`` in the sorted ``universe`` and a mask of those found."""
    if len(ids) and universe.dtype.kind != np.asarray(ids).dtype.kind:   # integer ids in one frame, text in another:
        pos = pd.Index(universe.astype(str)).get_indexer(np.asarray(ids).astype(str))   # match by text ('c1' by none)
        if len(universe) and (pos < 0).all():
            warnings.warn(f"customer ids are numbers in one frame and text in another, and none of these {len(ids)} "
                          f"rows (ids e.g. {pd.unique(np.asarray(ids))[:3].tolist()}) matches a customer of the "
                          f"transactions or customers (e.g. {universe[:3].tolist()}): they are ignored. Check that "
                          "all frames use the same ids.", MixedIdWarning, stacklevel=4)
        return np.maximum(pos, 0).astype(np.int64), pos >= 0
    pos = np.searchsorted(universe, ids)
    pos = np.clip(pos, 0, max(len(universe) - 1, 0))
    found = universe[pos] == ids if len(universe) else np.zeros(len(ids), bool)
    return pos.astype(np.int64), found


def _codes_labels(s: pd.Series):
    """Integer codes (-1 for missing) and their labels, without object arrays for categoricals."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s.cat.codes.to_numpy().astype(np.int64), [str(c) for c in s.cat.categories]
    codes, uniq = pd.factorize(s, use_na_sentinel=True)
    return codes.astype(np.int64), [str(u) for u in uniq]


def _remap(codes, labels, wanted):
    """Codes into ``wanted`` (a tuple of labels); -1 for labels not wanted or missing."""
    pos = {lab: i for i, lab in enumerate(wanted)}
    table = np.array([pos.get(lab, -1) for lab in labels] + [-1], dtype=np.int64)
    return table[codes]                                # code -1 picks the trailing -1


def _present(codes, labels):
    """Sorted labels that occur in ``codes``."""
    if len(labels) == 0:
        return ()
    hit = np.bincount(codes[codes >= 0], minlength=len(labels)) > 0
    return tuple(sorted({labels[i] for i in np.flatnonzero(hit)}))

def _code_range(code: np.ndarray, c0: int, c1: int) -> tuple[int, int]:
    """Row range ``[lo, hi)`` of the sorted ``code`` array holding codes ``c0 <= code < c1``.

    The needles take ``code``'s dtype: Python ints would make numpy cast the whole (int32) array to int64
    once per block.

    >>> _code_range(np.array([0, 0, 1, 3, 3], dtype=np.int32), 1, 3)
    (2, 3)
    """
    if code.dtype.kind in "iu" and c1 <= np.iinfo(code.dtype).max:
        needles = np.array([c0, c1], dtype=code.dtype)
    else:
        needles = np.array([c0, c1], dtype=np.int64)
    lo, hi = np.searchsorted(code, needles)
    return int(lo), int(hi)
