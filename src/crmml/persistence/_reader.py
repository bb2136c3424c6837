"""Reading a model file: checks, then the JSON tree decoded back into objects (only allowlisted classes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crmml.exceptions import ParameterError
from crmml.persistence._allowlist import ALLOWED_TYPES, resolve_class
from crmml.persistence._errors import LoadLimits, ModelLoadError
from crmml.persistence._files import as_key, check_path, read_members, verify
from crmml.persistence._ubj import check_xgboost_model
from crmml.persistence._validate import (check_sklearn_estimator, check_sparse, check_tree, load_array,
                                         read_parquet, safe_dtype)
from crmml.persistence._versions import check_versions


class _Reader:
    def __init__(self, members: dict[str, bytes], limits: LoadLimits):
        self.members, self.limits = members, limits
        self.in_tree = False

    def blob(self, name):
        if not isinstance(name, str) or name not in self.members:
            raise ModelLoadError(f"The saved model is missing its member {name!r:.80}.")
        return self.members[name]

    def frame(self, node) -> pd.DataFrame:
        flat = read_parquet(self.blob(node["file"]), node["file"])
        cols = [self.decode(c) for c in node["columns"]]
        data = flat[[f"c{i}" for i in range(len(cols))]]
        data.columns = cols if cols else pd.Index([])
        if "range_index" in node:
            start, stop, step = (int(x) for x in node["range_index"])
            data.index = pd.RangeIndex(start, stop, step, name=self.decode(node["index_name"]))
        else:
            names = [self.decode(n) for n in node["index_names"]]
            parts = [flat[f"i{j}"] for j in range(int(node["n_index"]))]
            if len(parts) == 1:
                data.index = pd.Index(parts[0], name=names[0])
            else:
                data.index = pd.MultiIndex.from_arrays(parts, names=names)
        data.columns.name = self.decode(node.get("columns_name"))
        return data

    def decode(self, v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, list):
            return [self.decode(x) for x in v]
        if not isinstance(v, dict) or "__type__" not in v:
            raise ModelLoadError("The saved model's metadata has an unexpected structure.")
        t = v["__type__"]
        if t == "float":
            return float(v["value"])
        if t == "npscalar":
            return np.array(self.decode(v["value"])).astype(safe_dtype(v["dtype"], "scalar"))[()]
        if t == "tuple":
            return tuple(self.decode(x) for x in v["items"])
        if t == "set":
            return {self.decode(x) for x in v["items"]}
        if t == "dict":
            return {self.decode(k): self.decode(x) for k, x in v["items"]}
        if t == "ndarray":
            return load_array(self.blob(v["file"]), v["file"], structured_ok=self.in_tree)
        if t == "object_array":
            items = [self.decode(x) for x in v["items"]]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape([int(n) for n in v["shape"]])
        if t == "dataframe":
            return self.frame(v)
        if t == "series":
            s = self.frame(v).iloc[:, 0]
            s.name = self.decode(v["name"])
            return s
        if t == "index":
            return pd.Index(self.frame(v).iloc[:, 0].to_numpy(), name=self.decode(v["name"]))
        if t == "timestamp":
            return pd.Timestamp(str(v["value"]))
        if t == "timedelta":
            return pd.Timedelta(int(v["value"]), unit="ns")
        if t == "dtype":
            return safe_dtype(v["value"], "dtype")
        if t == "nptype":
            return safe_dtype(v["value"], "dtype").type
        if t == "pytype":
            return ALLOWED_TYPES[v["value"]]
        if t == "sparse":
            return check_sparse(v["shape"], self.decode(v["data"]), self.decode(v["indices"]),
                                self.decode(v["indptr"]), v["format"],
                                f"stored in {v['indices'].get('file')!r:.80}")
        if t == "sklearn_tree":
            return self.sklearn_tree(v)
        if t == "xgboost":
            return self.xgboost(v)
        if t == "estimator":
            return self.estimator(v)
        raise ModelLoadError(f"The saved model holds an unknown value type {t!r:.40}.")

    def sklearn_tree(self, v):
        from sklearn.tree._tree import Tree

        n_classes = self.decode(v["n_classes"])
        self.in_tree = True
        try:
            state = self.decode(v["state"])
        finally:
            self.in_tree = False
        check_tree(v["n_features"], n_classes, v["n_outputs"], state, "in the saved model")
        tree = Tree(v["n_features"], n_classes.astype(np.intp), v["n_outputs"])
        tree.__setstate__(state)
        return tree

    def xgboost(self, v):
        cls = resolve_class(v["class"])
        raw = None
        if "file" in v:
            raw = self.blob(v["file"])
            check_xgboost_model(raw, v["file"], self.limits.max_json_depth)
        try:
            if "params" in v:
                obj = cls(**{k: self.decode(x) for k, x in v["params"].items()})
                if raw is not None:
                    obj.load_model(bytearray(raw))
                return obj
            return cls(model_file=bytearray(raw))
        except ModelLoadError:
            raise
        except Exception as exc:  # xgboost raises XGBoostError (and others) on a model it cannot read
            raise ModelLoadError(f"xgboost could not load {v.get('file')!r} as {v['class']} "
                                 f"({type(exc).__name__}: {str(exc)[:200]}).") from exc

    def estimator(self, v):
        name = v["class"]
        cls = resolve_class(name)
        params = {_name(k, name): self.decode(x) for k, x in v["params"].items()}
        try:
            obj = cls(**params)
        except Exception as exc:
            raise ModelLoadError(f"Cannot re-create {name} with the saved parameters "
                                 f"({type(exc).__name__}: {exc}); the class changed since the model was saved "
                                 "or the file was tampered with.") from exc
        for k, x in v["state"].items():
            k = _name(k, name)
            if k.startswith("__") or callable(getattr(cls, k, None)) or isinstance(getattr(cls, k, None), property):
                raise ModelLoadError(f"The saved state of {name} sets {k!r}, which is not a data attribute.")
            obj.__dict__[k] = self.decode(x)
        if name.startswith("sklearn."):
            check_sklearn_estimator(obj, name)
        hook = getattr(cls, "_check_loaded_state", None)
        if hook is not None:
            try:
                hook(obj)
            except Exception as exc:
                raise ModelLoadError(f"The saved {name} is inconsistent: {type(exc).__name__}: {exc}") from exc
        return obj


def _name(k, cls_name: str) -> str:
    if not (isinstance(k, str) and k.isidentifier()):
        raise ModelLoadError(f"The saved {cls_name} has a parameter or attribute named {k!r:.40}, not an identifier.")
    return k


def _prepare(path, key, limits, *, versions: bool = True):
    path = Path(path)
    limits = LoadLimits() if limits is None else limits
    if not isinstance(limits, LoadLimits):
        raise ParameterError(f"limits must be a crmml.persistence.LoadLimits; got {type(limits).__name__}.")
    members = read_members(path, limits)
    meta = verify(members, as_key(key), path, limits)
    if versions:
        check_versions(meta, repr(str(path)))
    return path, members, meta, limits


def read_metadata(path, *, key=None, limits=None) -> dict:
    """The verified metadata of a saved model (class, versions, feature names, parameters), without loading it.

    The file is bounded and its manifest (and signature, with ``key``) checked as by :func:`load`, but the
    version policy is not applied, so a file this installation cannot load can still be inspected.

    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> from crmml.persistence import save
    >>> path = save(StandardScaler(), pathlib.Path(tempfile.mkdtemp()) / "scaler.zip")
    >>> read_metadata(path)["class"]
    'sklearn.preprocessing._data.StandardScaler'
    """
    meta = _guarded(path, lambda: _prepare(path, key, limits, versions=False)[2])
    return {k: v for k, v in meta.items() if k != "root"}


def load(path, *, key=None, limits=None, on_verified=None):
    """Load a model written by :func:`save`; a hostile or broken file raises :class:`ModelLoadError`, nothing else.

    Before any object is built the loader bounds the file (member count, each member's declared and actual
    size, total size, compression ratio, JSON size and depth), checks the manifest (and signature), the
    format, crmml and library versions, the class allowlist and the schema; while decoding, it validates every
    array (dtype, shape against bytes), sparse matrix (index ranges), scikit-learn tree (node structure, feature
    range) and xgboost model (tree structure) before the library sees it, and after each object is rebuilt it
    calls the class's ``_check_loaded_state()`` when it has one.

    Parameters
    ----------
    path : str or Path
        The zip file or folder.
    key : str or bytes, optional
        The key the model was signed with; when given, an unsigned or differently signed file is refused.
    limits : LoadLimits, optional
        Size limits; the defaults suit models up to 1 GiB per member.
    on_verified : callable, optional
        Called with the verified metadata (``class``, versions, ...) once the file is bounded and checked and
        before any class is imported or object built, e.g. to start other I/O while the libraries import.

    Raises
    ------
    ModelLoadError
        For any file that is not a model this crmml can rebuild faithfully, with the member and the problem.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> from crmml.persistence import save
    >>> path = save(StandardScaler().fit([[1.0], [3.0]]), pathlib.Path(tempfile.mkdtemp()) / "scaler.zip")
    >>> load(path).transform([[2.0]])
    array([[0.]])
    """
    return _guarded(path, lambda: _load(path, key, limits, on_verified))


def _load(path, key, limits, on_verified=None):
    path, members, meta, limits = _prepare(path, key, limits)
    if on_verified is not None:
        on_verified({k: v for k, v in meta.items() if k != "root"})
    resolve_class(meta.get("class"))          # refuse unknown classes before building anything
    _check_schema(meta.get("schema"), path)
    return _Reader(members, limits).decode(meta["root"])


def _guarded(path, fn):
    """Run ``fn``; anything but :class:`ModelLoadError` (or a wrong ``limits`` argument) becomes one."""
    check_path(path)
    try:
        return fn()
    except (ModelLoadError, TypeError) as exc:
        if isinstance(exc, ModelLoadError) or "crmml.persistence.LoadLimits" in str(exc):
            raise
        raise ModelLoadError(f"{str(path)!r} could not be rebuilt: its metadata has an unexpected structure "
                             f"({type(exc).__name__}: {str(exc)[:200]}).") from exc
    except Exception as exc:  # a structure the decoder did not expect: never a raw traceback
        raise ModelLoadError(f"{str(path)!r} could not be rebuilt: its metadata has an unexpected structure "
                             f"({type(exc).__name__}: {str(exc)[:200]}).") from exc


def _check_schema(schema, path: Path) -> None:
    """The canonical columns the model was saved for must still be the canonical columns."""
    if not isinstance(schema, dict) or "frame" not in schema or "required" not in schema:
        return
    from crmml.schema import SPECS

    spec = SPECS.get(schema["frame"]) if isinstance(schema["frame"], str) else None
    if spec is None or dict(spec.required) != schema["required"]:
        now = dict(spec.required) if spec is not None else None
        raise ModelLoadError(f"{str(path)!r} was saved for the {schema['frame']!r:.80} schema "
                             f"{schema['required']!r:.200}; this crmml's schema is {now}.")
