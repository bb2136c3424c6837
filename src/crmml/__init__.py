"""crmml: the analytical machine-learning layer of a CRM.

Subpackages: ``schema``, ``datasets``, ``features``, ``segmentation``,
``scoring``, ``churn``, ``clv``, ``recommend``, ``decisions``, ``evaluation``, ``persistence``, ``spark``
(extra ``crmml[spark]``).
"""

from importlib import import_module as _import_module

from crmml._expression import RuleError
from crmml.schema import SchemaError

__version__ = "0.1.0"

_SUBMODULES = ("schema", "exceptions", "datasets", "features", "segmentation", "scoring", "churn", "clv",
               "recommend", "decisions", "evaluation", "persistence", "spark")

__all__ = ["RuleError", "SchemaError", "__version__", *_SUBMODULES]


def __getattr__(name):
    """Import subpackages lazily, so ``import crmml`` stays fast."""
    if name in _SUBMODULES:
        return _import_module(f"crmml.{name}")
    raise AttributeError(f"module 'crmml' has no attribute {name!r}")
