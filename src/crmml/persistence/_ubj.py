"""xgboost's UBJSON model format, parsed and checked by crmml before xgboost reads it.

xgboost trusts its model files: a corrupt ``.ubj`` can crash the interpreter when it is loaded or used (measured:
random byte flips of a small model crash it within a few dozen tries). So :func:`check_xgboost_model` parses the
UBJSON itself (bounded depth, counts checked against the bytes left) and checks every tree: node arrays of the
declared length, children with larger ids than their parent (no loops), one parent per node, split features in
range, one leaf value per node; tree groups in range and the iteration index consistent.

Categorical splits and category encodings: a :class:`crmml.churn.ChurnModel` trained on text columns (customer
attributes such as region or channel) has categorical splits (``enable_categorical=True``), and xgboost >= 3.1
also stores each feature's category names (``cats``) to re-code frames at prediction. xgboost reads these arrays
without bounds checks, so each one is checked against the others: every offset and index inside the array it
points into, every categorical node a split node on a categorical feature, every category code below that
feature's number of categories, and the bitsets xgboost allocates for the splits bounded in total.
"""

from __future__ import annotations

import re

import numpy as np

from crmml.persistence._errors import ModelLoadError

_INT = {b"i": ">i1", b"U": ">u1", b"I": ">i2", b"l": ">i4", b"L": ">i8", b"d": ">f4", b"D": ">f8"}
_NODE_ARRAYS = ("left_children", "right_children", "parents", "split_indices", "split_conditions", "default_left",
                "base_weights", "loss_changes", "sum_hessian")


class _Bad(Exception):
    pass


class _Parser:
    def __init__(self, data: bytes, max_depth: int):
        self.b, self.i, self.max_depth = data, 0, max_depth

    def take(self, n: int) -> bytes:
        if n < 0 or self.i + n > len(self.b):
            raise _Bad("truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def number(self, marker: bytes):
        if marker not in _INT:
            raise _Bad(f"bad number marker {marker!r}")
        dt = np.dtype(_INT[marker])
        return np.frombuffer(self.take(dt.itemsize), dt)[0].item()

    def length(self) -> int:
        n = self.number(self.take(1))
        if not isinstance(n, int) or n < 0 or n > len(self.b):
            raise _Bad("bad length")
        return n

    def value(self, marker: bytes, depth: int):
        if depth > self.max_depth:
            raise _Bad("nested too deeply")
        if marker in _INT:
            return self.number(marker)
        if marker == b"S" or marker == b"H":
            return self.take(self.length()).decode("utf-8")
        if marker == b"C":
            return self.take(1).decode("latin1")
        if marker in (b"T", b"F", b"Z"):
            return {b"T": True, b"F": False, b"Z": None}[marker]
        if marker == b"[":
            return self.array(depth + 1)
        if marker == b"{":
            return self.obj(depth + 1)
        raise _Bad(f"unknown marker {marker!r}")

    def container_head(self):
        typ = count = None
        if self.b[self.i:self.i + 1] == b"$":
            self.i += 1
            typ = self.take(1)
            if self.take(1) != b"#":
                raise _Bad("typed container without a count")
            count = self.length()
        elif self.b[self.i:self.i + 1] == b"#":
            self.i += 1
            count = self.length()
        return typ, count

    def array(self, depth: int):
        typ, count = self.container_head()
        if typ is not None and typ in _INT:
            dt = np.dtype(_INT[typ])
            return np.frombuffer(self.take(count * dt.itemsize), dt).astype(dt.newbyteorder("="))
        out = []
        while count is None or len(out) < count:
            m = self.take(1) if typ is None else typ
            if count is None and m == b"]":
                return out
            out.append(self.value(m, depth))
        return out

    def obj(self, depth: int):
        typ, count = self.container_head()
        out = {}
        while count is None or len(out) < count:
            if count is None and self.b[self.i:self.i + 1] == b"}":
                self.i += 1
                return out
            key = self.take(self.length()).decode("utf-8")
            if key in out:
                raise _Bad(f"duplicate key {key!r}")
            out[key] = self.value(self.take(1) if typ is None else typ, depth)
        return out


def parse_ubj(data: bytes, max_depth: int = 64):
    """Parse UBJSON (as xgboost writes it) into dicts, lists and numpy arrays; ``ValueError`` if malformed.

    >>> parse_ubj(b"{L" + (1).to_bytes(8, "big") + b"aU" + bytes([7]) + b"}")
    {'a': 7}
    """
    p = _Parser(data, max_depth)
    try:
        out = p.value(p.take(1), 0)
    except (_Bad, UnicodeDecodeError) as exc:
        raise ValueError(str(exc)) from exc
    if p.i != len(data):
        raise ValueError("trailing bytes")
    return out


def _int(v, what: str, low: int = 0, high: int = 2**31 - 1) -> int:
    """xgboost stores counts as decimal strings."""
    if not (isinstance(v, str) and re.fullmatch(r"\d{1,10}", v)) or not low <= int(v) <= high:
        raise _Bad(f"{what} is {v!r:.40}, not an integer in [{low}, {high}]")
    return int(v)


def _ints(a, n: int | None, what: str) -> np.ndarray:
    """An integer array (a list of ints too) of ``n`` values (any number when None), as int64."""
    if isinstance(a, list) and all(type(x) is int for x in a):
        a = np.array(a, dtype=np.int64)
    if not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype.kind not in "iu" or n not in (None, len(a)):
        raise _Bad(f"{what} is not {'a list of' if n is None else n} integers")
    return a.astype(np.int64)


#: bits of the per-node category bitsets xgboost allocates for one tree (sum over its categorical nodes of the
#: largest category code + 1) when the model stores no encodings to bound the codes: 2**26 bits = 8 MiB
MAX_CATEGORY_BITS = 2**26


def _offsets(a, end: int, what: str) -> np.ndarray:
    """Offsets starting at 0, non-decreasing, ending at ``end``."""
    a = _ints(a, None, what)
    if len(a) == 0 or a[0] != 0 or a[-1] != end or np.any(np.diff(a) < 0):
        raise _Bad(f"{what} are not offsets from 0 to {end}")
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
    enc, seg = cats.get("enc"), _ints(cats.get("feature_segments"), None, "cats feature_segments")
    order = _ints(cats.get("sorted_idx"), None, "cats sorted_idx")
    if not isinstance(enc, list) or len(enc) != num_feature or len(seg) != num_feature + 1:
        raise _Bad("cats do not have one encoding per feature")
    seg = _offsets(seg, len(order), "cats feature_segments")
    n_cats = np.diff(seg)
    for f, e in enumerate(enc):
        if not isinstance(e, dict) or not set(e) <= {"offsets", "values"} or "values" not in e:
            raise _Bad(f"the category encoding of feature {f} is not offsets and values")
        values = e["values"]
        if not isinstance(values, np.ndarray) or values.ndim != 1:
            raise _Bad(f"the category values of feature {f} are not an array")
        if "offsets" not in e:                          # numeric categories: the values themselves
            count = len(values)
        elif len(e["offsets"]) == 0 and len(values) == 0:   # a feature without categories
            count = 0
        else:                                           # text: UTF-8 bytes cut by the offsets
            count = len(_offsets(e["offsets"], len(values), f"the category offsets of feature {f}")) - 1
        if count != n_cats[f]:
            raise _Bad(f"feature {f} has {count} categories but feature_segments gives {n_cats[f]}")
        part = np.sort(order[seg[f]:seg[f + 1]])
        if np.any(part != np.arange(n_cats[f])):
            raise _Bad(f"sorted_idx is not a permutation of feature {f}'s categories")
    return n_cats


def check_categorical_splits(t: dict, n: int, leaf: np.ndarray, feat: np.ndarray, n_cats, categorical) -> None:
    """The categorical splits of one tree (``t``, ``n`` nodes): ``split_type`` 0/1, ``categories_nodes`` exactly
    its categorical split nodes in order, on features typed categorical (``categorical``: bool per feature, or
    None when the model records no types), segments and sizes cutting ``categories`` exactly, codes >= 0 and below
    the feature's count of categories (``n_cats``), or with bounded bitsets when the model records no counts."""
    kind = t.get("split_type")
    kind = np.zeros(n, np.int64) if kind is None else _ints(kind, None, "split_type")
    if len(kind) != n or np.any((kind != 0) & (kind != 1)):
        raise _Bad(f"split_type does not hold {n} values 0 (numerical) or 1 (categorical)")
    nodes = _ints(t.get("categories_nodes", np.zeros(0, np.int64)), None, "categories_nodes")
    if np.any(kind[leaf] != 0) or not np.array_equal(nodes, np.flatnonzero(kind == 1)):
        raise _Bad("categories_nodes are not the tree's categorical split nodes")
    if not len(nodes):
        if any(len(t.get(k, [])) for k in ("categories", "categories_segments", "categories_sizes")):
            raise _Bad("categories are given for a tree without categorical splits")
        return
    if categorical is not None and not np.all(categorical[feat[nodes]]):
        raise _Bad("a categorical split is on a feature whose type is not categorical")
    codes = _ints(t.get("categories"), None, "categories")
    sizes = _ints(t.get("categories_sizes"), None, "categories_sizes")
    starts = _ints(t.get("categories_segments"), None, "categories_segments")
    if len(sizes) != len(nodes) or len(starts) != len(nodes) or np.any(sizes < 0):
        raise _Bad("categories_segments and categories_sizes do not give one segment per node")
    _offsets(np.append(starts, starts[-1] + sizes[-1]), len(codes), "categories_segments")
    if np.any(starts[1:] != starts[:-1] + sizes[:-1]) or np.any(codes < 0):
        raise _Bad("categories_segments and categories_sizes do not cut categories in order")
    if not len(codes):
        return
    node_of = np.repeat(np.arange(len(nodes)), sizes)
    if n_cats is not None:
        if np.any(codes >= n_cats[feat[nodes]][node_of]):
            raise _Bad("a categorical split names a category its feature does not have")
    else:
        top = np.full(len(nodes), -1, np.int64)
        np.maximum.at(top, node_of, codes)
        if int((top + 1).sum()) > MAX_CATEGORY_BITS:
            raise _Bad(f"its category codes need more than {MAX_CATEGORY_BITS} bits of bitsets")


def _check_tree(t, i: int, num_feature: int, n_cats=None, categorical=None) -> None:
    if not isinstance(t, dict) or not isinstance(t.get("tree_param"), dict):
        raise _Bad(f"tree {i} is not an object with tree_param")
    tp = t["tree_param"]
    n = _int(tp.get("num_nodes"), f"tree {i} num_nodes", 1)
    if _int(tp.get("num_feature"), f"tree {i} num_feature") != num_feature:
        raise _Bad(f"tree {i} is over another number of features than the model")
    if _int(tp.get("num_deleted"), f"tree {i} num_deleted") != 0 or _int(tp.get("size_leaf_vector", "1"),
                                                                         "size_leaf_vector") > 1:
        raise _Bad(f"tree {i} has deleted nodes or vector leaves, which crmml does not load")
    for name in _NODE_ARRAYS:
        a = t.get(name)
        if not isinstance(a, np.ndarray) or a.ndim != 1 or len(a) != n:
            raise _Bad(f"tree {i} {name} does not hold {n} values")
    left, right = _ints(t["left_children"], n, "left_children"), _ints(t["right_children"], n, "right_children")
    parents, feat = _ints(t["parents"], n, "parents"), _ints(t["split_indices"], n, "split_indices")
    ids = np.arange(n)
    leaf = left == -1
    if np.any(leaf != (right == -1)) or np.any(~leaf & ((left <= ids) | (right <= ids) | (left >= n) | (right >= n))):
        raise _Bad(f"tree {i} has a child index out of range or not after its parent (a loop)")
    children = np.concatenate([left[~leaf], right[~leaf]])
    if len(np.unique(children)) != n - 1 or len(children) != n - 1:
        raise _Bad(f"tree {i} has a node with two parents or an unreachable node")
    if np.any(parents[children] != np.concatenate([ids[~leaf], ids[~leaf]])) or parents[0] != 2**31 - 1:
        raise _Bad(f"tree {i} parents do not match its children")
    if np.any(~leaf & ((feat < 0) | (feat >= num_feature))) or np.any(feat < 0) or np.any(feat >= max(num_feature, 1)):
        raise _Bad(f"tree {i} splits on a feature outside [0, {num_feature})")
    try:
        check_categorical_splits(t, n, leaf, feat, n_cats, categorical)
    except _Bad as exc:
        raise _Bad(f"tree {i}: {exc}") from None


def check_xgboost_model(data: bytes, member: str, max_depth: int = 64) -> None:
    """Refuse an xgboost UBJSON model whose structure xgboost's own reader would trust blindly."""
    try:
        doc = parse_ubj(data, max_depth)
    except ValueError as exc:
        raise ModelLoadError(f"The xgboost model {member!r} is not valid UBJSON ({exc}).") from exc
    try:
        learner = doc["learner"]
        mp = learner["learner_model_param"]
        num_feature = _int(mp["num_feature"], "num_feature")
        n_groups = max(_int(mp.get("num_class", "0"), "num_class", 0, 2**20),
                       _int(mp.get("num_target", "1"), "num_target", 1, 2**20), 1)
        booster = learner["gradient_booster"]
        if booster.get("name") != "gbtree":
            raise _Bad(f"booster {booster.get('name')!r:.40} is not gbtree, the only one crmml loads")
        model = booster["model"]
        trees, info = model["trees"], model["tree_info"]
        n_trees = _int(model["gbtree_model_param"]["num_trees"], "num_trees")
        _int(model["gbtree_model_param"].get("num_parallel_tree", "1"), "num_parallel_tree", 1)
        if not isinstance(trees, list) or len(trees) != n_trees:
            raise _Bad("the number of trees does not match num_trees")
        info = _ints(info, n_trees, "tree_info")
        if n_trees and (info.min() < 0 or info.max() >= n_groups):
            raise _Bad("a tree belongs to an output group out of range")
        indptr = model.get("iteration_indptr")
        if indptr is not None:
            indptr = _ints(indptr, len(indptr), "iteration_indptr")
            if len(indptr) and (indptr[0] != 0 or indptr[-1] != n_trees or np.any(np.diff(indptr) < 0)):
                raise _Bad("iteration_indptr is not a monotone index of the trees")
        names, types = learner.get("feature_names", []), learner.get("feature_types", [])
        if len(names) not in (0, num_feature) or len(types) not in (0, num_feature):
            raise _Bad("feature_names or feature_types do not have one entry per feature")
        categorical = np.array([x == "c" for x in types], dtype=bool) if len(types) else None
        n_cats = check_category_encodings(model.get("cats", {}), num_feature)
        for i, t in enumerate(trees):
            _check_tree(t, i, num_feature, n_cats, categorical)
    except (_Bad, KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise ModelLoadError(f"The xgboost model {member!r} is invalid: {exc}.") from exc

