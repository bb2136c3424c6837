"""Shared internal helpers: parameter checks, point-in-time cuts, progress bars."""

from crmml._lazy import lazy_exports
from crmml._utils._numeric import check_weights, numeric_values
from crmml._utils._validation import (
    MAX_HORIZON_DAYS,
    MAX_K,
    MAX_WINDOW_DAYS,
    check_aligned,
    check_as_of,
    check_estimator,
    check_feature_frame,
    check_horizon,
    check_in,
    check_names,
    check_number,
    check_segments,
    check_unique_ids,
    history_before,
)
from crmml._utils._progress import progress, steps

__all__ = ["MAX_HORIZON_DAYS", "MAX_K", "MAX_WINDOW_DAYS", "ProbabilityCalibrator", "check_aligned", "check_as_of",
           "check_estimator", "check_feature_frame", "check_horizon", "check_in", "check_names", "check_number",
           "check_segments", "check_unique_ids", "check_weights", "history_before", "numeric_values", "progress",
           "steps"]

# ProbabilityCalibrator needs scikit-learn: imported on first use, so the feature factory and the
# schema checks do not pay for it.
__getattr__, __dir__ = lazy_exports(globals(), {"crmml._utils._calibration": ("ProbabilityCalibrator",)})
