"""Save and load fitted crmml objects without pickle; loading treats the file as hostile.

A saved model is a zip file (or a folder) holding:

- ``metadata.json``: format version (and the oldest reader format that can read it), crmml and library
  versions, the class, feature names, the constructor parameters and a JSON tree of the fitted state whose
  leaves point at the binary members below;
- ``arrays/*.npy`` (numpy, no pickle), ``frames/*.parquet`` (pandas DataFrame/Series/Index, dtypes kept),
  ``xgboost/*.ubj`` (xgboost's own UBJSON model format);
- ``manifest.json``: the SHA-256 of every other member (and an HMAC-SHA256 of the manifest when a ``key``
  is given).

Estimators are walked generically: ``get_params(deep=False)`` plus the fitted attributes (names ending in
``_``), recursively for nested scikit-learn, xgboost and crmml estimators; scikit-learn trees (``tree_``) are
stored as their node arrays. :func:`load` re-creates only classes from an allowlist (every ``crmml.*``
estimator and the scikit-learn/xgboost classes in ``ALLOWED_CLASSES``), never unpickles or evaluates text,
bounds sizes and nesting (:class:`LoadLimits`), validates every array before a library sees it, checks
versions, and raises :class:`ModelLoadError` for anything else.

Modules: ``_writer`` (save), ``_reader`` (load), ``_files`` (container and manifest), ``_validate``
(untrusted arrays, JSON, trees, sparse), ``_ubj`` (xgboost models), ``_versions`` (version policy),
``_allowlist`` (classes), ``_errors``.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from crmml.persistence import load, save
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = np.array([0, 0, 1, 1])
>>> model = LogisticRegression().fit(X, y)
>>> path = save(model, pathlib.Path(tempfile.mkdtemp()) / "model.zip")
>>> bool((load(path).predict_proba(X) == model.predict_proba(X)).all())
True
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.persistence._allowlist": ("ALLOWED_CLASSES",),
    "crmml.persistence._errors": ("LoadLimits", "ModelLoadError", "SavePathError"),
    "crmml.persistence._reader": ("load", "read_metadata"),
    "crmml.persistence._versions": ("FORMAT_VERSION",),
    "crmml.persistence._writer": ("save",),
}

__all__ = ["save", "load", "read_metadata", "ModelLoadError", "SavePathError", "LoadLimits", "ALLOWED_CLASSES", "FORMAT_VERSION"]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
