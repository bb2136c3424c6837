"""crmml: the analytical machine-learning layer of a CRM.

Subpackages: ``schema``, ``datasets``, ``features``, ``segmentation``,
``scoring``, ``churn``, ``clv``, ``recommend``, ``decisions``, ``evaluation``, ``persistence``, ``spark``
(extra ``crmml[spark]``).
"""

from crmml._lazy import lazy_exports

__version__ = "0.1.0"

_SUBMODULES = ("schema", "exceptions", "datasets", "features", "segmentation", "scoring", "churn", "clv",
               "recommend", "decisions", "evaluation", "persistence", "spark")

__all__ = ["CrmmlError", "CrmmlWarning", "RuleError", "SchemaError", "__version__", *_SUBMODULES]

# Subpackages and the errors are imported on first use, so ``import crmml`` imports neither pandas nor
# scikit-learn.
__getattr__, __dir__ = lazy_exports(
    globals(), {"crmml._expression": ("RuleError",), "crmml.schema": ("SchemaError",),
                "crmml.exceptions": ("CrmmlError", "CrmmlWarning"),
                "crmml": _SUBMODULES})
