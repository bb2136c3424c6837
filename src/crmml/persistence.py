"""Save and load fitted crmml objects without pickle.

A saved model is a zip file (or a folder) holding:

- ``metadata.json``: format version, crmml and library versions, the class,
  feature names, the constructor parameters and a JSON tree of the fitted state
  whose leaves point at the binary members below;
- ``arrays/*.npy`` (numpy, written and read with ``allow_pickle=False``),
  ``frames/*.parquet`` (pandas DataFrame/Series/Index, dtypes kept),
  ``xgboost/*.ubj`` (xgboost's own UBJSON model format);
- ``manifest.json``: the SHA-256 of every other member (and an HMAC-SHA256 of
  the manifest when a ``key`` is given).

Estimators are walked generically: ``get_params(deep=False)`` plus the fitted
attributes (names ending in ``_``), recursively for nested scikit-learn, xgboost
and crmml estimators; scikit-learn trees (``tree_``) are stored as their node
arrays. :func:`load` re-creates only classes from an allowlist (every
``crmml.*`` estimator and the scikit-learn/xgboost classes in
``ALLOWED_CLASSES``), and refuses unknown classes, a different crmml major
version, and members that are missing, added or changed.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> model = LogisticRegression().fit(X, y)
>>> path = save(model, pathlib.Path(tempfile.mkdtemp()) / "model.zip")
>>> bool((load(path).predict_proba(X) == model.predict_proba(X)).all())
True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import importlib
import io
import json
import math
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["save", "load", "read_metadata", "ModelLoadError", "ALLOWED_CLASSES", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_META, _MANIFEST = "metadata.json", "manifest.json"

#: scikit-learn and xgboost classes that :func:`load` may re-create (crmml.* estimators are always allowed).
ALLOWED_CLASSES = (
    "sklearn.linear_model.LogisticRegression", "sklearn.linear_model.LinearRegression",
    "sklearn.linear_model.Ridge", "sklearn.linear_model.PoissonRegressor",
    "sklearn.preprocessing.StandardScaler", "sklearn.preprocessing.MinMaxScaler",
    "sklearn.preprocessing.RobustScaler", "sklearn.preprocessing.OneHotEncoder",
    "sklearn.preprocessing.OrdinalEncoder", "sklearn.preprocessing.QuantileTransformer",
    "sklearn.preprocessing.PowerTransformer", "sklearn.impute.SimpleImputer",
    "sklearn.decomposition.PCA", "sklearn.cluster.KMeans", "sklearn.cluster.MiniBatchKMeans",
    "sklearn.mixture.GaussianMixture", "sklearn.tree.DecisionTreeClassifier",
    "sklearn.tree.DecisionTreeRegressor", "sklearn.ensemble.RandomForestClassifier",
    "sklearn.ensemble.RandomForestRegressor", "sklearn.isotonic.IsotonicRegression",
    "sklearn.pipeline.Pipeline", "sklearn.neighbors.NearestNeighbors",
    "xgboost.XGBClassifier", "xgboost.XGBRegressor", "xgboost.Booster",
)
_ALLOWED_TYPES = {"float": float, "int": int, "bool": bool, "str": str}


class ModelLoadError(ValueError):
    """A saved model cannot be loaded: unknown class, version mismatch, tampering or a bad file."""


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _allowed_map() -> dict:
    """Actual ``module.qualname`` -> class, for the allowlisted third-party classes."""
    out = {}
    for name in ALLOWED_CLASSES:
        mod, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):  # pragma: no cover - optional library missing
            continue
        out[_qualname(cls)] = cls
        out[name] = cls
    return out


def _resolve_class(name: str):
    from sklearn.base import BaseEstimator

    if name.startswith("crmml."):
        mod, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise ModelLoadError(f"The saved class {name!r} does not exist in this crmml installation.") from exc
        if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
            raise ModelLoadError(f"Refusing to load {name!r}: it is not a crmml estimator class.")
        return cls
    cls = _allowed_map().get(name)
    if cls is None:
        raise ModelLoadError(f"Refusing to load class {name!r}: it is not in the allowlist "
                             "(crmml.* estimators and crmml.persistence.ALLOWED_CLASSES).")
    return cls


def _check_class_savable(cls) -> str:
    name = _qualname(cls)
    if name.startswith("crmml."):
        return name
    if name in _allowed_map():
        return name
    raise TypeError(f"Cannot save an object of class {name}: only crmml estimators and the classes in "
                    "crmml.persistence.ALLOWED_CLASSES can be saved.")


# ----------------------------------------------------------------------------------------------- encoding
def _is_sklearn_tree(v) -> bool:
    """The Cython ``Tree`` of a fitted scikit-learn decision tree (not the estimator)."""
    return type(v).__module__ == "sklearn.tree._tree" and type(v).__name__ == "Tree"


class _Writer:
    def __init__(self):
        self.members: dict[str, bytes] = {}

    def add(self, folder: str, ext: str, data: bytes) -> str:
        name = f"{folder}/{len(self.members):04d}.{ext}"
        self.members[name] = data
        return name

    # -- leaves --------------------------------------------------------------------------------
    def array(self, a: np.ndarray):
        if a.dtype.hasobject:
            return {"__type__": "object_array", "shape": list(a.shape),
                    "items": [self.encode(v, "array item") for v in a.ravel().tolist()]}
        buf = io.BytesIO()
        np.save(buf, a, allow_pickle=False)
        return {"__type__": "ndarray", "file": self.add("arrays", "npy", buf.getvalue())}

    def frame(self, df: pd.DataFrame, kind: str, extra: dict):
        if isinstance(df.columns, pd.MultiIndex):
            raise TypeError("Cannot save a DataFrame with MultiIndex columns.")
        flat = df.copy()
        cols = [self.encode(c, "column name") for c in df.columns]
        flat.columns = [f"c{i}" for i in range(df.shape[1])]
        node = {"__type__": kind, "columns": cols, "columns_name": self.encode(df.columns.name, "name"), **extra}
        if isinstance(df.index, pd.RangeIndex):
            node["range_index"] = [df.index.start, df.index.stop, df.index.step]
            node["index_name"] = self.encode(df.index.name, "name")
        else:
            idx = df.index.to_frame(index=False)
            node["index_names"] = [self.encode(n, "name") for n in df.index.names]
            for j in range(idx.shape[1]):
                flat[f"i{j}"] = idx.iloc[:, j].to_numpy() if not isinstance(
                    idx.iloc[:, j].dtype, pd.CategoricalDtype) else idx.iloc[:, j].array
            node["n_index"] = idx.shape[1]
        flat = flat.reset_index(drop=True)
        for c in flat.columns:
            if flat[c].dtype == object:
                bad = {type(v).__name__ for v in flat[c].dropna().tolist()} - {"str"}
                if bad:
                    raise TypeError(f"Cannot save a DataFrame column holding {sorted(bad)} objects; only "
                                    "numeric, bool, str, datetime and categorical columns are supported.")
        buf = io.BytesIO()
        flat.to_parquet(buf, index=False, engine="pyarrow")
        node["file"] = self.add("frames", "parquet", buf.getvalue())
        return node

    def estimator(self, obj, what: str):
        cls = type(obj)
        name = _check_class_savable(cls)
        if name.startswith("xgboost."):
            return self.xgboost(obj, name)
        params = obj.get_params(deep=False)
        node = {"__type__": "estimator", "class": name,
                "params": {k: self.encode(v, f"parameter {k!r} of {name}") for k, v in params.items()}}
        strict_all = not name.startswith("crmml.")
        state = {}
        for k, v in vars(obj).items():
            if k in params or k.startswith("__"):
                continue
            if _is_sklearn_tree(v):
                state[k] = self.sklearn_tree(v)
                continue
            if k.endswith("_") or strict_all:
                state[k] = self.encode(v, f"attribute {k!r} of {name}")
            else:  # private helper attribute of a crmml object: kept when it can be stored
                try:
                    state[k] = self.encode(v, k)
                except TypeError:
                    continue
        node["state"] = state
        return node

    def sklearn_tree(self, tree):
        fn, args, st = tree.__reduce__()
        n_features, n_classes, n_outputs = args
        return {"__type__": "sklearn_tree", "n_features": int(n_features),
                "n_classes": self.array(np.asarray(n_classes)), "n_outputs": int(n_outputs),
                "state": self.encode(dict(st), "tree state")}

    def xgboost(self, obj, name: str):
        import xgboost as xgb

        if isinstance(obj, xgb.Booster):
            return {"__type__": "xgboost", "class": name,
                    "file": self.add("xgboost", "ubj", bytes(obj.save_raw("ubj")))}
        params = obj.get_params(deep=False)
        node = {"__type__": "xgboost", "class": name,
                "params": {k: self.encode(v, f"parameter {k!r} of {name}") for k, v in params.items()}}
        try:
            booster = obj.get_booster()
        except Exception:  # xgboost raises NotFittedError (a ValueError/AttributeError) when unfitted
            booster = None
        if booster is not None:
            node["file"] = self.add("xgboost", "ubj", bytes(booster.save_raw("ubj")))
        return node

    # -- dispatcher ----------------------------------------------------------------------------------
    def encode(self, v, what: str = "value"):
        from sklearn.base import BaseEstimator

        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int) and not isinstance(v, np.integer):
            return v
        if isinstance(v, float) and not isinstance(v, np.floating):
            return v if math.isfinite(v) else {"__type__": "float", "value": repr(v)}
        if isinstance(v, np.generic):
            return {"__type__": "npscalar", "dtype": v.dtype.str,
                    "value": self.encode(v.item(), what) if v.dtype.kind in "biufcU" else str(v)}
        if isinstance(v, list):
            return [self.encode(x, what) for x in v]
        if isinstance(v, tuple):
            return {"__type__": "tuple", "items": [self.encode(x, what) for x in v]}
        if isinstance(v, (set, frozenset)):
            return {"__type__": "set", "items": [self.encode(x, what) for x in sorted(v, key=repr)]}
        if isinstance(v, dict):
            items = []
            for k, x in v.items():
                items.append([self.encode(k, f"key of {what}"), self.encode(x, what)])
            return {"__type__": "dict", "items": items}
        if isinstance(v, np.ndarray):
            return self.array(v)
        if isinstance(v, pd.DataFrame):
            return self.frame(v, "dataframe", {})
        if isinstance(v, pd.Series):
            return self.frame(v.to_frame(name="v"), "series", {"name": self.encode(v.name, "name")})
        if isinstance(v, pd.Index):
            s = pd.Series(v, index=pd.RangeIndex(len(v)))
            return self.frame(s.to_frame(name="v"), "index", {"name": self.encode(v.name, "name")})
        if isinstance(v, pd.Timestamp) or isinstance(v, _dt.datetime):
            return {"__type__": "timestamp", "value": pd.Timestamp(v).isoformat()}
        if isinstance(v, (pd.Timedelta, _dt.timedelta)):
            return {"__type__": "timedelta", "value": int(pd.Timedelta(v).value)}
        if isinstance(v, np.dtype):
            return {"__type__": "dtype", "value": v.str}
        if isinstance(v, type):
            if issubclass(v, np.generic):
                return {"__type__": "nptype", "value": np.dtype(v).str}
            if v in _ALLOWED_TYPES.values():
                return {"__type__": "pytype", "value": v.__name__}
        try:
            import scipy.sparse as sp

            if sp.issparse(v):
                csr = sp.csr_matrix(v)
                return {"__type__": "sparse", "format": v.format, "shape": list(v.shape),
                        "data": self.array(csr.data), "indices": self.array(csr.indices),
                        "indptr": self.array(csr.indptr)}
        except ImportError:  # pragma: no cover
            pass
        if type(v).__module__.startswith("xgboost"):
            return self.estimator(v, what)
        if isinstance(v, BaseEstimator):
            return self.estimator(v, what)
        kind = "a callable" if callable(v) else f"a {type(v).__module__}.{type(v).__qualname__}"
        raise TypeError(f"Cannot save {what}: it is {kind}, which crmml.persistence does not store "
                        "(see the persistence contract in the crmml design notes).")


# ----------------------------------------------------------------------------------------------- decoding
class _Reader:
    def __init__(self, members: dict[str, bytes]):
        self.members = members

    def blob(self, name):
        if name not in self.members:
            raise ModelLoadError(f"The saved model is missing its member {name!r}.")
        return self.members[name]

    def frame(self, node) -> pd.DataFrame:
        flat = pd.read_parquet(io.BytesIO(self.blob(node["file"])), engine="pyarrow")
        cols = [self.decode(c) for c in node["columns"]]
        data = flat[[f"c{i}" for i in range(len(cols))]]
        data.columns = cols if cols else pd.Index([])
        if "range_index" in node:
            start, stop, step = node["range_index"]
            data.index = pd.RangeIndex(start, stop, step, name=self.decode(node["index_name"]))
        else:
            names = [self.decode(n) for n in node["index_names"]]
            parts = [flat[f"i{j}"] for j in range(node["n_index"])]
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
            return np.array(self.decode(v["value"])).astype(np.dtype(v["dtype"]))[()]
        if t == "tuple":
            return tuple(self.decode(x) for x in v["items"])
        if t == "set":
            return {self.decode(x) for x in v["items"]}
        if t == "dict":
            return {self.decode(k): self.decode(x) for k, x in v["items"]}
        if t == "ndarray":
            return np.load(io.BytesIO(self.blob(v["file"])), allow_pickle=False)
        if t == "object_array":
            items = [self.decode(x) for x in v["items"]]
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(v["shape"])
        if t == "dataframe":
            return self.frame(v)
        if t == "series":
            s = self.frame(v).iloc[:, 0]
            s.name = self.decode(v["name"])
            return s
        if t == "index":
            return pd.Index(self.frame(v).iloc[:, 0].to_numpy(), name=self.decode(v["name"]))
        if t == "timestamp":
            return pd.Timestamp(v["value"])
        if t == "timedelta":
            return pd.Timedelta(int(v["value"]), unit="ns")
        if t == "dtype":
            return np.dtype(v["value"])
        if t == "nptype":
            return np.dtype(v["value"]).type
        if t == "pytype":
            return _ALLOWED_TYPES[v["value"]]
        if t == "sparse":
            import scipy.sparse as sp

            m = sp.csr_matrix((self.decode(v["data"]), self.decode(v["indices"]), self.decode(v["indptr"])),
                              shape=tuple(v["shape"]))
            return m.asformat(v["format"])
        if t == "sklearn_tree":
            from sklearn.tree._tree import Tree

            tree = Tree(int(v["n_features"]), np.asarray(self.decode(v["n_classes"]), dtype=np.intp),
                        int(v["n_outputs"]))
            tree.__setstate__(self.decode(v["state"]))
            return tree
        if t == "xgboost":
            cls = _resolve_class(v["class"])
            if "params" in v:
                obj = cls(**{k: self.decode(x) for k, x in v["params"].items()})
                if "file" in v:
                    obj.load_model(bytearray(self.blob(v["file"])))
                return obj
            return cls(model_file=bytearray(self.blob(v["file"])))
        if t == "estimator":
            cls = _resolve_class(v["class"])
            params = {k: self.decode(x) for k, x in v["params"].items()}
            try:
                obj = cls(**params)
            except TypeError as exc:
                raise ModelLoadError(f"Cannot re-create {v['class']} with the saved parameters "
                                     f"({exc}); the class changed since the model was saved.") from exc
            for k, x in v["state"].items():
                obj.__dict__[k] = self.decode(x)
            return obj
        raise ModelLoadError(f"The saved model holds an unknown value type {t!r}.")


# ----------------------------------------------------------------------------------------------- files
def _sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _manifest_bytes(members: dict[str, bytes], key: bytes | None) -> bytes:
    files = {name: _sha256(data) for name, data in sorted(members.items())}
    body = {"algorithm": "sha256", "files": files}
    if key is not None:
        payload = json.dumps(files, sort_keys=True).encode()
        body["hmac_sha256"] = hmac.new(key, payload, hashlib.sha256).hexdigest()
    return json.dumps(body, indent=1, sort_keys=True).encode()


def _as_key(key) -> bytes | None:
    if key is None:
        return None
    return key.encode() if isinstance(key, str) else bytes(key)


def _feature_names(obj):
    for attr in ("feature_names_in_", "feature_names_"):
        names = getattr(obj, attr, None)
        if names is not None:
            try:
                return [str(n) for n in list(names)]
            except TypeError:
                return None
    return None


#: the standard-schema frame each crmml model is scored from (recorded in the metadata)
_INPUT_FRAME = {"RFMSegmenter": "transactions", "CustomerClusterer": "transactions", "RuleSegmenter": "transactions",
                "CLVModel": "transactions", "ChurnModel": "transactions", "NextBestOffer": "transactions",
                "LeadScorer": "leads", "RuleLeadScorer": "leads"}


def _schema(obj):
    own = getattr(obj, "schema_", None)
    if isinstance(own, (dict, list, str)):
        return own
    frame = _INPUT_FRAME.get(type(obj).__name__) if type(obj).__module__.startswith("crmml.") else None
    if frame is None:
        return None
    from crmml.schema import SPECS

    return {"frame": frame, "required": dict(SPECS[frame].required), "optional": dict(SPECS[frame].optional)}


def _versions() -> dict:
    import sklearn

    out = {"numpy": np.__version__, "pandas": pd.__version__, "scikit-learn": sklearn.__version__}
    try:
        import xgboost

        out["xgboost"] = xgboost.__version__
    except ImportError:  # pragma: no cover
        pass
    return out


def save(obj, path, *, format: str = "auto", key=None) -> Path:
    """Save a fitted crmml (or allowlisted scikit-learn/xgboost) object without pickle.

    Parameters
    ----------
    obj : estimator
        A crmml estimator (fitted or not), or one of ``ALLOWED_CLASSES``.
    path : str or Path
        A ``.zip``/``.crmml`` file (any name with a suffix), or a folder.
    format : {"auto", "zip", "dir"}, default="auto"
        ``"auto"``: a folder when ``path`` has no suffix or is an existing folder, else a zip file.
    key : str or bytes, optional
        A secret: the manifest then carries an HMAC-SHA256 that :func:`load` checks with the same
        key, so a file changed by someone without the key is refused. Without a key the
        SHA-256 manifest detects corruption and edits, not a forger who rewrites the manifest.

    Returns
    -------
    Path
        Where the model was written.

    Raises
    ------
    TypeError
        When the object (or part of its state) is not storable: lambdas, closures, unknown classes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> path = save(StandardScaler().fit([[1.0], [3.0]]), pathlib.Path(tempfile.mkdtemp()) / "scaler.zip")
    >>> path.suffix
    '.zip'
    """
    from crmml import __version__

    path = Path(path)
    if format not in ("auto", "zip", "dir"):
        raise ValueError(f"The 'format' parameter of save must be one of ['auto', 'zip', 'dir']. "
                         f"Got {format!r} instead.")
    if format == "auto":
        format = "dir" if (path.is_dir() or path.suffix == "") else "zip"
    w = _Writer()
    root = w.encode(obj, f"the {type(obj).__name__} object")
    if not (isinstance(root, dict) and root.get("__type__") in ("estimator", "xgboost")):
        raise TypeError(f"save expects an estimator; got {type(obj).__name__}.")
    meta = {
        "format": "crmml-model", "format_version": FORMAT_VERSION, "crmml_version": __version__,
        "class": root["class"], "created": pd.Timestamp.now(tz="UTC").isoformat(),
        "library_versions": _versions(), "feature_names": _feature_names(obj),
        "schema": _schema(obj),
        "params": root.get("params", {}), "root": root,
    }
    try:
        w.members[_META] = json.dumps(meta, indent=1, allow_nan=False).encode()
    except ValueError as exc:  # pragma: no cover - every float is encoded explicitly
        raise TypeError(f"Cannot save: {exc}") from exc
    manifest = _manifest_bytes(w.members, _as_key(key))
    if format == "zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for name, data in w.members.items():
                zf.writestr(name, data)
            zf.writestr(_MANIFEST, manifest)
        tmp.replace(path)
    else:
        path.mkdir(parents=True, exist_ok=True)
        existing = [p for p in path.rglob("*") if p.is_file()]
        foreign = [p for p in existing if p.relative_to(path).as_posix() != _MANIFEST
                   and p.relative_to(path).as_posix() != _META
                   and p.relative_to(path).parts[0] not in ("arrays", "frames", "xgboost")]
        if foreign:
            raise FileExistsError(f"Cannot save into {str(path)!r}: the folder holds files that are not part of "
                                  f"a crmml model (e.g. {foreign[0].name!r}); use an empty or new folder.")
        for old in existing:
            old.unlink()
        for name, data in [*w.members.items(), (_MANIFEST, manifest)]:
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    return path


def _read_members(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    if not path.exists():
        raise ModelLoadError(f"No saved model at {str(path)!r}.")
    try:
        with zipfile.ZipFile(path) as zf:
            return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelLoadError(f"{str(path)!r} is not a crmml model file (not a zip file or folder).") from exc


def _verify(members: dict[str, bytes], key: bytes | None, path: Path) -> dict:
    if _MANIFEST not in members or _META not in members:
        raise ModelLoadError(f"{str(path)!r} is not a crmml model: {_META} or {_MANIFEST} is missing.")
    try:
        manifest = json.loads(members[_MANIFEST])
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelLoadError(f"The manifest of {str(path)!r} is unreadable: the file was tampered with "
                             "or corrupted.") from exc
    listed, present = set(files), set(members) - {_MANIFEST}
    if listed != present:
        extra, missing = sorted(present - listed), sorted(listed - present)
        raise ModelLoadError(f"{str(path)!r} was tampered with or is incomplete: members "
                             f"{'added ' + str(extra) if extra else ''}{' ' if extra and missing else ''}"
                             f"{'missing ' + str(missing) if missing else ''} compared with its manifest.")
    bad = sorted(name for name in listed if _sha256(members[name]) != files[name])
    if bad:
        raise ModelLoadError(f"{str(path)!r} was tampered with or corrupted: the SHA-256 of {bad} "
                             "does not match its manifest.")
    if key is not None:
        sig = manifest.get("hmac_sha256")
        if sig is None:
            raise ModelLoadError(f"{str(path)!r} is not signed, but a key was given to load.")
        good = hmac.new(key, json.dumps(files, sort_keys=True).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, good):
            raise ModelLoadError(f"{str(path)!r} failed its signature check: it was tampered with or "
                                 "signed with another key.")
    try:
        meta = json.loads(members[_META])
    except ValueError as exc:  # pragma: no cover - hashes matched, so only a bad writer gets here
        raise ModelLoadError(f"The metadata of {str(path)!r} is not valid JSON.") from exc
    if meta.get("format") != "crmml-model" or meta.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{str(path)!r} has format {meta.get('format')!r} version "
                             f"{meta.get('format_version')!r}; this crmml reads crmml-model version "
                             f"{FORMAT_VERSION}.")
    return meta


def _major(version: str) -> str:
    return str(version).split(".")[0]


def read_metadata(path, *, key=None) -> dict:
    """The verified metadata of a saved model (class, versions, feature names, parameters), without loading it.

    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> path = save(StandardScaler(), pathlib.Path(tempfile.mkdtemp()) / "scaler.zip")
    >>> read_metadata(path)["class"]
    'sklearn.preprocessing._data.StandardScaler'
    """
    path = Path(path)
    members = _read_members(path)
    meta = _verify(members, _as_key(key), path)
    return {k: v for k, v in meta.items() if k != "root"}


def load(path, *, key=None):
    """Load a model written by :func:`save`.

    Parameters
    ----------
    path : str or Path
        The zip file or folder.
    key : str or bytes, optional
        The key the model was signed with; when given, an unsigned or differently signed file is refused.

    Raises
    ------
    ModelLoadError
        The file is not a crmml model; a member was added, removed or changed (tampering or
        corruption); the model was saved by another crmml major version; or it names a class
        outside the allowlist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sklearn.preprocessing import StandardScaler
    >>> path = save(StandardScaler().fit([[1.0], [3.0]]), pathlib.Path(tempfile.mkdtemp()) / "scaler.zip")
    >>> load(path).transform([[2.0]])
    array([[0.]])
    """
    from crmml import __version__

    path = Path(path)
    members = _read_members(path)
    meta = _verify(members, _as_key(key), path)
    saved = str(meta.get("crmml_version"))
    if _major(saved) != _major(__version__):
        raise ModelLoadError(f"{str(path)!r} was saved by crmml {saved}; this is crmml {__version__}. "
                             "Models load only within the same major version: re-train or use the "
                             "matching crmml.")
    _resolve_class(meta["class"])          # refuse unknown classes before building anything
    _check_schema(meta.get("schema"), path)
    return _Reader(members).decode(meta["root"])


def _check_schema(schema, path: Path) -> None:
    """The canonical columns the model was saved for must still be the canonical columns."""
    if not isinstance(schema, dict) or "frame" not in schema or "required" not in schema:
        return
    from crmml.schema import SPECS

    spec = SPECS.get(schema["frame"])
    if spec is None or dict(spec.required) != schema["required"]:
        now = dict(spec.required) if spec is not None else None
        raise ModelLoadError(f"{str(path)!r} was saved for the {schema['frame']!r} schema "
                             f"{schema['required']}; this crmml's schema is {now}.")
