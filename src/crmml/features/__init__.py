"""Point-in-time customer features (the feature factory shared by churn, clustering and scoring).

:func:`build_features` turns transactions (and optionally events and a
customers table) into one row per customer as of a cutoff, reading only rows
before it; :func:`feature_catalog` lists every feature with its family, window
and a one-line description. Families are registered explicitly in
:data:`REGISTRY` (see ``_registry.py``) beside their computation.
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.features._build": ("DEFAULT_WINDOWS", "build_features", "compute_features", "feature_catalog"),
    "crmml.features._registry": ("REGISTRY", "FeatureContext", "FeatureFamily", "FeatureRegistry", "FeatureTemplate"),
}

__all__ = [
    "DEFAULT_WINDOWS",
    "REGISTRY",
    "FeatureContext",
    "FeatureFamily",
    "FeatureRegistry",
    "FeatureTemplate",
    "build_features",
    "compute_features",
    "feature_catalog",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
