"""Writing a model file: the fitted state walked into JSON metadata plus binary members (see the package docstring)."""

from __future__ import annotations

import datetime as _dt
import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from crmml.exceptions import ParameterError
from crmml.persistence._allowlist import ALLOWED_TYPES, check_class_savable
from crmml.persistence._errors import LoadLimits
from crmml.persistence._files import META, as_key, check_path, manifest_bytes, write_members
from crmml.persistence._validate import json_depth
from crmml.persistence._versions import FORMAT_VERSION, MIN_READER_FORMAT_VERSION, library_versions


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
            raise ParameterError("Cannot save a DataFrame with MultiIndex columns.")
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
                    raise ParameterError(f"Cannot save a DataFrame column holding {sorted(bad)} objects; only "
                                         "numeric, bool, str, datetime and categorical columns are supported.")
        buf = io.BytesIO()
        flat.to_parquet(buf, index=False, engine="pyarrow")
        node["file"] = self.add("frames", "parquet", buf.getvalue())
        return node

    def estimator(self, obj, what: str):
        cls = type(obj)
        name = check_class_savable(cls)
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
            if v in ALLOWED_TYPES.values():
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
        raise ParameterError(f"Cannot save {what}: it is {kind}, which crmml.persistence does not store "
                             "(see the persistence contract in the crmml design notes).")


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

    check_path(path)                                    # the rule load applies
    path = Path(path)
    if format not in ("auto", "zip", "dir"):
        raise ParameterError(f"The 'format' parameter of save must be one of ['auto', 'zip', 'dir']. "
                             f"Got {format!r} instead.")
    if format == "auto":
        format = "dir" if (path.is_dir() or path.suffix == "") else "zip"
    w = _Writer()
    root = w.encode(obj, f"the {type(obj).__name__} object")
    if not (isinstance(root, dict) and root.get("__type__") in ("estimator", "xgboost")):
        raise ParameterError(f"save expects an estimator; got {type(obj).__name__}.")
    meta = {
        "format": "crmml-model", "format_version": FORMAT_VERSION,
        "min_reader_format_version": MIN_READER_FORMAT_VERSION, "crmml_version": __version__,
        "class": root["class"], "created": pd.Timestamp.now(tz="UTC").isoformat(),
        "library_versions": library_versions(), "feature_names": _feature_names(obj),
        "schema": _schema(obj),
        "params": root.get("params", {}), "root": root,
    }
    try:
        w.members[META] = json.dumps(meta, indent=1, allow_nan=False).encode()
    except ValueError as exc:  # pragma: no cover - every float is encoded explicitly
        raise ParameterError(f"Cannot save: {exc}") from exc
    depth, limit = json_depth(meta), LoadLimits().max_json_depth
    if depth > limit:
        raise ParameterError(f"Cannot save {type(obj).__name__}: its state nests {depth} levels deep and load refuses "
                             f"more than {limit} (LoadLimits.max_json_depth); flatten the nested containers.")
    write_members(path, format, w.members, manifest_bytes(w.members, as_key(key)))
    return path


