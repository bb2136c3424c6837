"""Validation of untrusted model content before any library sees it.

Every function here takes bytes or decoded values from a model file and either returns something a library can
safely be given, or raises :class:`ModelLoadError` naming the member and the problem: JSON within size and depth
limits, ``.npy`` arrays of allowed dtypes whose header matches their bytes, sparse matrices whose index arrays are
in range, scikit-learn tree node arrays that form a real tree over the estimator's features, parquet frames.
"""

from __future__ import annotations

import ast
import io
import json

import numpy as np

from crmml.persistence._errors import LoadLimits, ModelLoadError

#: dtype kinds an ``.npy`` member may hold (no object arrays, no void except scikit-learn's node records)
_ARRAY_KINDS = set("biufcUSMm")
_SPARSE_FORMATS = ("csr", "csc", "coo", "bsr", "dia", "dok", "lil")


def json_depth(doc) -> int:
    """Deepest list/dict nesting of a parsed JSON document (iterative: no recursion however deep).

    >>> json_depth({"a": [1, {"b": "]]]"}]})
    3
    """
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (node.values() if isinstance(node, dict) else node))
    return deepest


def load_json(data: bytes, member: str, limits: LoadLimits):
    """Parse a JSON member after checking its size, then refuse it if it nests deeper than the limit.

    Python's parser raises ``RecursionError`` (caught here) rather than crash on absurd nesting; the depth
    limit keeps what reaches the decoder shallow.

    >>> load_json(b'{"a": [1, 2]}', "metadata.json", LoadLimits())
    {'a': [1, 2]}
    >>> load_json(b"[" * 100 + b"]" * 100, "metadata.json", LoadLimits())
    Traceback (most recent call last):
    ...
    crmml.persistence._errors.ModelLoadError: The member 'metadata.json' nests 100 levels deep; the limit is 64 ...
    """
    if len(data) > limits.max_json_bytes:
        raise ModelLoadError(f"The member {member!r} is {len(data)} bytes; the limit is {limits.max_json_bytes} "
                             "(LoadLimits.max_json_bytes).")
    try:
        doc = json.loads(data)
    except RecursionError as exc:
        raise ModelLoadError(f"The member {member!r} nests too deeply to parse; the limit is "
                             f"{limits.max_json_depth} (LoadLimits.max_json_depth): the file was tampered with "
                             "or is not a crmml model.") from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise ModelLoadError(f"The member {member!r} is not valid JSON ({str(exc)[:200]}).") from exc
    depth = json_depth(doc)
    if depth > limits.max_json_depth:
        raise ModelLoadError(f"The member {member!r} nests {depth} levels deep; the limit is "
                             f"{limits.max_json_depth} (LoadLimits.max_json_depth): the file was tampered with "
                             "or is not a crmml model.")
    return doc


# ----------------------------------------------------------------------------------------------- arrays
def _npy_header(data: bytes, member: str):
    if data[:6] != b"\x93NUMPY" or len(data) < 10:
        raise ModelLoadError(f"The member {member!r} is not a .npy array (bad magic).")
    major = data[6]
    if major == 1:
        hlen, start = int.from_bytes(data[8:10], "little"), 10
    elif major in (2, 3):
        hlen, start = int.from_bytes(data[8:12], "little"), 12
    else:
        raise ModelLoadError(f"The member {member!r} has an unknown .npy version {major}.")
    if hlen > 65_536 or start + hlen > len(data):
        raise ModelLoadError(f"The member {member!r} has a .npy header of {hlen} bytes that does not fit the file.")
    try:
        header = ast.literal_eval(data[start:start + hlen].decode("utf-8" if major == 3 else "latin1"))
    except (ValueError, SyntaxError, UnicodeDecodeError, MemoryError, RecursionError, TypeError) as exc:
        raise ModelLoadError(f"The member {member!r} has an unreadable .npy header.") from exc
    if not (isinstance(header, dict) and set(header) == {"descr", "fortran_order", "shape"}):
        raise ModelLoadError(f"The member {member!r} has a .npy header without exactly descr, fortran_order, shape.")
    return header, start + hlen


def _npy_dtype(descr, member: str, structured_ok: bool) -> np.dtype:
    try:
        dtype = np.lib.format.descr_to_dtype(descr)
    except (TypeError, ValueError, IndexError, KeyError, AttributeError) as exc:
        raise ModelLoadError(f"The member {member!r} has an unreadable .npy dtype {descr!r:.80}.") from exc
    if dtype.hasobject:
        raise ModelLoadError(f"The member {member!r} holds Python objects (dtype {dtype}); refused.")
    if dtype.names is not None:
        if not structured_ok or any(dtype.fields[n][0].kind not in "biuf" or dtype.fields[n][0].shape
                                    for n in dtype.names):
            raise ModelLoadError(f"The member {member!r} has a record dtype {dtype} that crmml does not store.")
    elif dtype.kind not in _ARRAY_KINDS or dtype.subdtype is not None or dtype.itemsize == 0:
        raise ModelLoadError(f"The member {member!r} has dtype {dtype}, which crmml does not store.")
    return dtype


def load_array(data: bytes, member: str, *, structured_ok: bool = False) -> np.ndarray:
    """An ``.npy`` member as an array, after checking its header, dtype and that its shape matches its bytes.

    >>> buf = io.BytesIO(); np.save(buf, np.arange(3))
    >>> load_array(buf.getvalue(), "arrays/0000.npy")
    array([0, 1, 2])
    >>> load_array(buf.getvalue()[:-8], "arrays/0000.npy")
    Traceback (most recent call last):
    ...
    crmml.persistence._errors.ModelLoadError: The member 'arrays/0000.npy' declares shape (3,) of int64 ...
    """
    header, offset = _npy_header(data, member)
    dtype = _npy_dtype(header["descr"], member, structured_ok)
    shape = header["shape"]
    if not (isinstance(shape, tuple) and len(shape) <= 32
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n for n in shape)):
        raise ModelLoadError(f"The member {member!r} has an invalid .npy shape {shape!r:.80}.")
    if not isinstance(header["fortran_order"], bool):
        raise ModelLoadError(f"The member {member!r} has an invalid .npy fortran_order.")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(data) - offset:
        raise ModelLoadError(f"The member {member!r} declares shape {shape} of {dtype} ({count * dtype.itemsize} "
                             f"bytes) but holds {len(data) - offset} bytes.")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    if dtype.kind == "U" and count and arr.view(np.uint32).max(initial=0) > 0x10FFFF:
        raise ModelLoadError(f"The member {member!r} holds text that is not valid Unicode.")
    order = "F" if header["fortran_order"] else "C"
    return arr.reshape(shape, order=order).copy(order=order)


def check_sparse(shape, data, indices, indptr, fmt, where: str):
    """A CSR matrix built only after its index arrays are checked (then converted to ``fmt``).

    >>> check_sparse([2, 3], np.ones(2), np.array([0, 2]), np.array([0, 1, 2]), "csc", "x").format
    'csc'
    >>> check_sparse([2, 3], np.ones(2), np.array([0, 5]), np.array([0, 1, 2]), "csr", "x")
    Traceback (most recent call last):
    ...
    crmml.persistence._errors.ModelLoadError: The sparse matrix x has column indices outside [0, 3).
    """
    import scipy.sparse as sp

    if not (isinstance(shape, list) and len(shape) == 2 and all(type(n) is int and n >= 0 for n in shape)):
        raise ModelLoadError(f"The sparse matrix {where} has an invalid shape {shape!r:.80}.")
    if fmt not in _SPARSE_FORMATS:
        raise ModelLoadError(f"The sparse matrix {where} has an unknown format {fmt!r:.40}.")
    arrays = {"data": data, "indices": indices, "indptr": indptr}
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.ndim != 1 or (name != "data" and a.dtype.kind not in "iu"):
            raise ModelLoadError(f"The sparse matrix {where} has an invalid {name} array.")
    if data.dtype.kind not in "biufc":
        raise ModelLoadError(f"The sparse matrix {where} holds {data.dtype} values.")
    rows, cols = shape
    if len(indptr) != rows + 1 or (len(indptr) and indptr[0] != 0) or np.any(np.diff(indptr) < 0):
        raise ModelLoadError(f"The sparse matrix {where} has an indptr that is not a monotone array of "
                             f"{rows + 1} offsets from 0.")
    if int(indptr[-1]) != len(indices) or len(indices) != len(data):
        raise ModelLoadError(f"The sparse matrix {where} has indptr, indices and data of inconsistent lengths.")
    if len(indices) and (indices.min() < 0 or indices.max() >= cols):
        raise ModelLoadError(f"The sparse matrix {where} has column indices outside [0, {cols}).")
    m = sp.csr_matrix((data, indices.astype(np.int64), indptr.astype(np.int64)), shape=(rows, cols))
    return m.asformat(fmt)


# ----------------------------------------------------------------------------------------------- sklearn trees
def check_tree(n_features, n_classes, n_outputs, state, where: str) -> None:
    """Refuse scikit-learn tree state that is not a real tree over ``n_features`` features.

    Checks what the Cython tree code trusts: the node record dtype is exactly the installed
    scikit-learn's ``NODE_DTYPE``; ``node_count`` matches; every internal node has two children with
    larger ids (so no node is its own ancestor: no cycle, every walk ends) that no other node also
    claims; leaves have both children -1 and feature -2; internal features are in ``[0, n_features)``;
    ``values`` is float64 of shape ``(node_count, n_outputs, max(n_classes))``; the depth is at most
    ``max_depth``.
    """
    from sklearn.tree._tree import NODE_DTYPE, TREE_LEAF, TREE_UNDEFINED

    def bad(problem):
        raise ModelLoadError(f"The scikit-learn tree {where} is invalid: {problem}.")

    if not (type(n_features) is int and 0 < n_features < 2**31 and type(n_outputs) is int and 0 < n_outputs < 2**16):
        bad("n_features or n_outputs out of range")
    if not (isinstance(n_classes, np.ndarray) and n_classes.shape == (n_outputs,) and n_classes.dtype.kind in "iu"
            and n_classes.min() >= 1 and n_classes.max() < 2**24):
        bad("n_classes must be one positive count per output")
    if not isinstance(state, dict) or not {"max_depth", "node_count", "nodes", "values"} <= set(state):
        bad("the state lacks max_depth, node_count, nodes or values")
    nodes, values, count, max_depth = state["nodes"], state["values"], state["node_count"], state["max_depth"]
    if not isinstance(nodes, np.ndarray) or nodes.dtype != NODE_DTYPE or nodes.ndim != 1:
        bad(f"its node records are not the dtype this scikit-learn expects ({NODE_DTYPE})")
    if type(count) is not int or count != len(nodes) or count < 1:
        bad(f"node_count {count!r} does not match the {len(nodes)} node records")
    if type(max_depth) is not int or not 0 <= max_depth < count:
        bad(f"max_depth {max_depth!r} is out of range")
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    ids = np.arange(count)
    leaf = left == TREE_LEAF
    if np.any(leaf != (right == TREE_LEAF)):
        bad("a node has exactly one child")
    if np.any(~leaf & ((left <= ids) | (right <= ids) | (left >= count) | (right >= count))):
        bad(f"a child index is not between its own node id and {count} (a loop or an out-of-range node)")
    children = np.concatenate([left[~leaf], right[~leaf]])
    if len(np.unique(children)) != len(children) or len(children) != count - 1:
        bad("some node has more than one parent or is unreachable")
    if np.any(leaf & (feature != TREE_UNDEFINED)) or np.any(~leaf & ((feature < 0) | (feature >= n_features))):
        bad(f"a feature index is outside [0, {n_features})")
    if np.any(~np.isfinite(nodes["threshold"][~leaf])):
        bad("a split threshold is not finite")
    want = (count, n_outputs, int(n_classes.max()))
    if not isinstance(values, np.ndarray) or values.dtype != np.float64 or values.shape != want:
        bad(f"values must be float64 of shape {want}")
    depth = np.zeros(count, dtype=np.int64)
    for i in np.nonzero(~leaf)[0]:          # parents come before children, so one pass in id order
        depth[left[i]] = depth[right[i]] = depth[i] + 1
    if depth.max() > max_depth:
        bad(f"its depth {depth.max()} exceeds its max_depth {max_depth}")


def check_sklearn_estimator(obj, name: str) -> None:
    """Cross-checks between an allowlisted scikit-learn estimator's fitted arrays that its compiled code trusts."""
    n_in = getattr(obj, "n_features_in_", None)
    tree = getattr(obj, "tree_", None)
    if tree is not None:
        if n_in is None or tree.n_features != n_in or tree.n_outputs != getattr(obj, "n_outputs_", tree.n_outputs):
            raise ModelLoadError(f"The saved {name} has a tree over {tree.n_features} features and "
                                 f"{tree.n_outputs} outputs but n_features_in_={n_in!r}: refused.")
    for sub in getattr(obj, "estimators_", None) or []:
        if hasattr(sub, "tree_") and getattr(sub, "n_features_in_", None) != n_in:
            raise ModelLoadError(f"The saved {name} holds a tree fitted on {getattr(sub, 'n_features_in_', None)} "
                                 f"features, not {n_in}: refused.")
    if "_n_threads" in vars(obj):  # KMeans: a thread count from the saving machine; use this machine's own
        from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

        obj._n_threads = _openmp_effective_n_threads()
    centers = getattr(obj, "cluster_centers_", None)
    if centers is not None and not (isinstance(centers, np.ndarray) and centers.ndim == 2 and centers.shape[1] == n_in
                                    and centers.shape[0] >= 1 and centers.dtype.kind == "f"):
        raise ModelLoadError(f"The saved {name} has cluster_centers_ that are not a float array with "
                             f"n_features_in_={n_in!r} columns: refused.")


def read_parquet(data: bytes, member: str):
    """A parquet member as a DataFrame; any reader failure becomes :class:`ModelLoadError`."""
    import pandas as pd

    try:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow")
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError/... on a corrupt file
        raise ModelLoadError(f"The member {member!r} is not a readable parquet frame ({type(exc).__name__}).") from exc


def safe_dtype(s, where: str) -> np.dtype:
    """A plain (non-object, non-record, at most 1 KiB per item) dtype named in the metadata.

    >>> safe_dtype("<f8", "x")
    dtype('float64')
    """
    try:
        dtype = np.dtype(s) if isinstance(s, str) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in _ARRAY_KINDS or dtype.names is not None or dtype.subdtype is not None \
            or dtype.itemsize > 1024:
        raise ModelLoadError(f"The saved {where} names an invalid or unsupported dtype {s!r:.40}.")
    return dtype
