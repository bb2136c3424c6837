"""Decide, not only predict: whom to save (value at risk), and with which offer (uplift next-best-action).

- :class:`RetentionPlanner` - churn probability x value if retained, net gain of acting, budgeted list, reasons;
- :func:`lost_value`, :func:`capture_table` - realised lost value and capture of a ranking;
- :class:`UpliftModel` - T-/S-/X-/DR-learners on xgboost, or the best by cross-validated Qini, for randomised tests;
- :func:`qini_curve`, :func:`qini_coefficient`, :func:`uplift_by_decile`, :func:`policy_value` - evaluation.
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.decisions._capture": ("capture_table", "lost_value"),
    "crmml.decisions._errors": ("HorizonMismatchError", "NotRandomisedWarning", "TreatmentError"),
    "crmml.decisions._retention": ("RetentionPlanner",),
    "crmml.decisions._uplift": ("UpliftModel",),
    "crmml.decisions._uplift_metrics": ("auuc", "policy_value", "qini_coefficient", "qini_curve", "uplift_by_decile"),
}

__all__ = [
    "HorizonMismatchError",
    "NotRandomisedWarning",
    "RetentionPlanner",
    "TreatmentError",
    "UpliftModel",
    "auuc",
    "capture_table",
    "lost_value",
    "policy_value",
    "qini_coefficient",
    "qini_curve",
    "uplift_by_decile",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
