"""Decide, not only predict: whom to save (value at risk), and with which offer (uplift next-best-action).

- :class:`RetentionPlanner` - churn probability x value if retained, net gain of acting, budgeted list, reasons;
- :func:`lost_value`, :func:`capture_table` - realised lost value and capture of a ranking;
- :class:`UpliftModel` - T-/X-/DR-learners on xgboost for randomised tests with one or several treatments;
- :func:`qini_curve`, :func:`qini_coefficient`, :func:`uplift_by_decile`, :func:`policy_value` - evaluation.
"""

from crmml.decisions._capture import capture_table, lost_value
from crmml.decisions._errors import HorizonMismatchError, NotRandomisedWarning, TreatmentError
from crmml.decisions._retention import RetentionPlanner
from crmml.decisions._uplift import UpliftModel
from crmml.decisions._uplift_metrics import auuc, policy_value, qini_coefficient, qini_curve, uplift_by_decile

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
