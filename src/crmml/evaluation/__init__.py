"""Model evaluation: metrics, plots and HTML reports."""

from crmml.evaluation._metrics import (
    brier,
    capture_rate_at,
    classification_metrics,
    decile_table,
    expected_calibration_error,
    gini,
    ks_statistic,
    lift_at,
    pr_auc,
    psi,
    roc_auc,
)

__all__ = [
    "brier",
    "capture_rate_at",
    "classification_metrics",
    "decile_table",
    "expected_calibration_error",
    "gini",
    "ks_statistic",
    "lift_at",
    "pr_auc",
    "psi",
    "roc_auc",
]
