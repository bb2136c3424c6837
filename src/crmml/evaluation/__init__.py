"""Model evaluation: metrics, plots and self-contained HTML reports."""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.evaluation._metrics": ("brier", "calibration_bins", "capture_rate_at", "classification_metrics", "clv_decile_table", "decile_table", "expected_calibration_error", "gini", "ks_statistic", "lift_at", "pr_auc", "psi", "psi_table", "roc_auc"),
    "crmml.evaluation._plots": ("plot_calibration", "plot_decile_table", "plot_gains_lift", "plot_precision_recall", "plot_roc", "plot_score_distribution", "plot_shap_summary"),
    "crmml.evaluation._report": ("classification_figures", "classification_report", "figure_to_png", "report", "summarize_data", "top_drivers"),
}

__all__ = [
    "brier",
    "calibration_bins",
    "capture_rate_at",
    "classification_figures",
    "classification_metrics",
    "classification_report",
    "clv_decile_table",
    "decile_table",
    "expected_calibration_error",
    "figure_to_png",
    "gini",
    "ks_statistic",
    "lift_at",
    "plot_calibration",
    "plot_decile_table",
    "plot_gains_lift",
    "plot_precision_recall",
    "plot_roc",
    "plot_score_distribution",
    "plot_shap_summary",
    "pr_auc",
    "psi",
    "psi_table",
    "report",
    "roc_auc",
    "summarize_data",
    "top_drivers",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
