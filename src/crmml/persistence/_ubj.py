"""xgboost's UBJSON model format, parsed and checked by crmml before xgboost reads it.

xgboost trusts its model files: a corrupt ``.ubj`` can crash the interpreter when it is loaded or used (measured:
random byte flips of a small model crash it within a few dozen tries). So :func:`check_xgboost_model` parses the
UBJSON itself (bounded depth, counts checked against the bytes left) and checks every tree: node arrays of the
declared length, children with larger ids than their parent (no loops), one parent per node, split features in
range, one leaf value per node; tree groups in range and the iteration index consistent; categorical splits and
category encodings in :mod:`crmml.persistence._ubj_categorical`.
"""

from __future__ import annotations

import re

import numpy as np

from crmml.persistence._errors import ModelLoadError
from crmml.persistence._ubj_categorical import CategoricalError, check_categorical_splits, check_category_encodings

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


def _ints(a, n: int, what: str) -> np.ndarray:
    if isinstance(a, list) and all(type(x) is int for x in a):
        a = np.array(a, dtype=np.int64)
    if not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype.kind not in "iu" or len(a) != n:
        raise _Bad(f"{what} is not {n} integers")
    return a.astype(np.int64)


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
    except CategoricalError as exc:
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
    except (_Bad, CategoricalError, KeyError, TypeError, AttributeError, ValueError, IndexError) as exc:
        raise ModelLoadError(f"The xgboost model {member!r} is invalid: {exc}.") from exc
