"""Categorical splits and category encodings of an xgboost model, checked before xgboost reads them.

A :class:`crmml.churn.ChurnModel` trained on text columns (customer attributes such as region or channel) has
categorical splits (``enable_categorical=True``), and xgboost >= 3.1 also stores each feature's category names
(``cats``) to re-code frames at prediction. xgboost reads these arrays without bounds checks, so each one is
checked against the others: every offset and index inside the array it points into, every categorical node a
split node on a categorical feature, every category code below that feature's number of categories, and the
bitsets xgboost allocates for the splits bounded in total.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_CATEGORY_BITS", "check_categorical_splits", "check_category_encodings"]

#: bits of the per-node category bitsets xgboost allocates for one tree (sum over its categorical nodes of the
#: largest category code + 1) when the model stores no encodings to bound the codes: 2**26 bits = 8 MiB
MAX_CATEGORY_BITS = 2**26


class CategoricalError(ValueError):
    """A categorical array of the model is inconsistent (the caller names the model member)."""


def _ints(a, what: str) -> np.ndarray:
    if isinstance(a, list) and all(type(x) is int for x in a):
        a = np.array(a, dtype=np.int64)
    if not isinstance(a, np.ndarray) or a.ndim != 1 or (len(a) and a.dtype.kind not in "iu"):
        raise CategoricalError(f"{what} is not a list of integers")
    return a.astype(np.int64)


def _offsets(a, end: int, what: str) -> np.ndarray:
    """Offsets starting at 0, non-decreasing, ending at ``end``."""
    a = _ints(a, what)
    if len(a) == 0 or a[0] != 0 or a[-1] != end or np.any(np.diff(a) < 0):
        raise CategoricalError(f"{what} are not offsets from 0 to {end}")
    return a


def check_category_encodings(cats, num_feature: int) -> np.ndarray | None:
    """The number of categories of each feature recorded in the model's ``cats`` (None when it holds none).

    ``enc`` has one entry per feature: text categories as UTF-8 bytes (``values``) cut by ``offsets``, or numeric
    categories (``values`` alone); ``feature_segments`` cuts ``sorted_idx``, which orders each feature's
    categories, so within a feature it must be a permutation.

    >>> enc = [{"offsets": np.array([], np.int32), "values": np.array([], np.int8)},
    ...        {"offsets": np.array([0, 1, 3], np.int32), "values": np.frombuffer(b"abc", np.int8)}]
    >>> check_category_encodings({"enc": enc, "feature_segments": np.array([0, 0, 2]),
    ...                           "sorted_idx": np.array([0, 1])}, 2).tolist()
    [0, 2]
    """
    if not cats or not any(len(v) for v in cats.values()):
        return None
    enc, seg = cats.get("enc"), _ints(cats.get("feature_segments"), "cats feature_segments")
    order = _ints(cats.get("sorted_idx"), "cats sorted_idx")
    if not isinstance(enc, list) or len(enc) != num_feature or len(seg) != num_feature + 1:
        raise CategoricalError("cats do not have one encoding per feature")
    seg = _offsets(seg, len(order), "cats feature_segments")
    n_cats = np.diff(seg)
    for f, e in enumerate(enc):
        if not isinstance(e, dict) or not set(e) <= {"offsets", "values"} or "values" not in e:
            raise CategoricalError(f"the category encoding of feature {f} is not offsets and values")
        values = e["values"]
        if not isinstance(values, np.ndarray) or values.ndim != 1:
            raise CategoricalError(f"the category values of feature {f} are not an array")
        if "offsets" not in e:                          # numeric categories: the values themselves
            count = len(values)
        elif len(e["offsets"]) == 0 and len(values) == 0:   # a feature without categories
            count = 0
        else:                                           # text: UTF-8 bytes cut by the offsets
            count = len(_offsets(e["offsets"], len(values), f"the category offsets of feature {f}")) - 1
        if count != n_cats[f]:
            raise CategoricalError(f"feature {f} has {count} categories but feature_segments gives {n_cats[f]}")
        part = np.sort(order[seg[f]:seg[f + 1]])
        if np.any(part != np.arange(n_cats[f])):
            raise CategoricalError(f"sorted_idx is not a permutation of feature {f}'s categories")
    return n_cats


def check_categorical_splits(t: dict, n: int, leaf: np.ndarray, feat: np.ndarray, n_cats, categorical) -> None:
    """The categorical splits of one tree (``t``, ``n`` nodes): ``split_type`` 0/1, ``categories_nodes`` exactly
    its categorical split nodes in order, on features typed categorical (``categorical``: bool per feature, or
    None when the model records no types), segments and sizes cutting ``categories`` exactly, codes >= 0 and below
    the feature's count of categories (``n_cats``), or with bounded bitsets when the model records no counts."""
    kind = t.get("split_type")
    kind = np.zeros(n, np.int64) if kind is None else _ints(kind, "split_type")
    if len(kind) != n or np.any((kind != 0) & (kind != 1)):
        raise CategoricalError(f"split_type does not hold {n} values 0 (numerical) or 1 (categorical)")
    nodes = _ints(t.get("categories_nodes", np.zeros(0, np.int64)), "categories_nodes")
    if np.any(kind[leaf] != 0) or not np.array_equal(nodes, np.flatnonzero(kind == 1)):
        raise CategoricalError("categories_nodes are not the tree's categorical split nodes")
    if not len(nodes):
        if any(len(t.get(k, [])) for k in ("categories", "categories_segments", "categories_sizes")):
            raise CategoricalError("categories are given for a tree without categorical splits")
        return
    if categorical is not None and not np.all(categorical[feat[nodes]]):
        raise CategoricalError("a categorical split is on a feature whose type is not categorical")
    codes = _ints(t.get("categories"), "categories")
    sizes = _ints(t.get("categories_sizes"), "categories_sizes")
    starts = _ints(t.get("categories_segments"), "categories_segments")
    if len(sizes) != len(nodes) or len(starts) != len(nodes) or np.any(sizes < 0):
        raise CategoricalError("categories_segments and categories_sizes do not give one segment per node")
    _offsets(np.append(starts, starts[-1] + sizes[-1]), len(codes), "categories_segments")
    if np.any(starts[1:] != starts[:-1] + sizes[:-1]) or np.any(codes < 0):
        raise CategoricalError("categories_segments and categories_sizes do not cut categories in order")
    if not len(codes):
        return
    node_of = np.repeat(np.arange(len(nodes)), sizes)
    if n_cats is not None:
        if np.any(codes >= n_cats[feat[nodes]][node_of]):
            raise CategoricalError("a categorical split names a category its feature does not have")
    else:
        top = np.full(len(nodes), -1, np.int64)
        np.maximum.at(top, node_of, codes)
        if int((top + 1).sum()) > MAX_CATEGORY_BITS:
            raise CategoricalError(f"its category codes need more than {MAX_CATEGORY_BITS} bits of bitsets")
