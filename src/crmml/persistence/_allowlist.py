"""Which classes a model file may name: every crmml estimator plus an explicit list of scikit-learn/xgboost ones."""

from __future__ import annotations

import importlib

from crmml.exceptions import ParameterError
from crmml.persistence._errors import ModelLoadError

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
#: Python types a model may hold as values (e.g. a ``dtype=float`` parameter).
ALLOWED_TYPES = {"float": float, "int": int, "bool": bool, "str": str}


def qualname(cls) -> str:
    """``module.qualname`` of a class.

    >>> qualname(int)
    'builtins.int'
    """
    return f"{cls.__module__}.{cls.__qualname__}"


def _allowed_class(name: str):
    """The allowlisted third-party class recorded as ``name`` (public or actual ``module.qualname``), or None.

    Imports only the module of the one matching allowlist entry (loading a model must not pay for every
    library on the list).
    """
    for entry in ALLOWED_CLASSES:
        mod, _, attr = entry.rpartition(".")
        if name != entry and not (name.startswith(mod + ".") and name.endswith("." + attr)):
            continue
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError):  # pragma: no cover - optional library missing
            continue
        if name in (entry, qualname(cls)):
            return cls
    return None


def resolve_class(name):
    """The class a model file names, if it is allowed; else :class:`ModelLoadError`.

    >>> resolve_class("sklearn.preprocessing.StandardScaler").__name__
    'StandardScaler'
    """
    from sklearn.base import BaseEstimator

    if not isinstance(name, str):
        raise ModelLoadError(f"The saved model names a class that is not a string: {name!r:.80}.")
    if name.startswith("crmml."):
        mod, _, attr = name.rpartition(".")
        try:
            cls = getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ModelLoadError(f"The saved class {name!r} does not exist in this crmml installation.") from exc
        if not (isinstance(cls, type) and issubclass(cls, BaseEstimator)):
            raise ModelLoadError(f"Refusing to load {name!r}: it is not a crmml estimator class.")
        return cls
    cls = _allowed_class(name)
    if cls is None:
        raise ModelLoadError(f"Refusing to load class {name!r}: it is not in the allowlist "
                             "(crmml.* estimators and crmml.persistence.ALLOWED_CLASSES).")
    return cls


def check_class_savable(cls) -> str:
    """The name :func:`save` records for ``cls``; ``TypeError`` for a class :func:`load` would refuse.

    >>> check_class_savable(type(None))
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: Cannot save an object of class builtins.NoneType: only crmml estimators and ...
    """
    name = qualname(cls)
    if name.startswith("crmml.") or _allowed_class(name) is cls:
        return name
    raise ParameterError(f"Cannot save an object of class {name}: only crmml estimators and the classes in "
                         "crmml.persistence.ALLOWED_CLASSES can be saved.")
