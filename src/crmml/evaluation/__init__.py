"""Model evaluation: metrics, plots and self-contained HTML reports."""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.evaluation._metrics": ("brier", "calibration_bins", "capture_rate_at", "classification_metrics", "clv_decile_table", "decile_table", "expected_calibration_error", "gini", "ks_statistic", "lift_at", "pr_auc", "psi", "psi_table", "roc_auc"),
    "crmml.evaluation._plots": ("plot_calibration", "plot_decile_table", "plot_gains_lift", "plot_precision_recall", "plot_roc", "plot_score_distribution", "plot_shap_summary"),
    "crmml.evaluation._bootstrap": ("bootstrap_metrics",),
    "crmml.evaluation._report": ("figure_to_png", "report", "summarize_data", "top_drivers"),
    "crmml.evaluation._report_classification": ("classification_figures", "classification_report"),
    "crmml.evaluation._report_models": ("clv_parameters", "clv_report", "clv_tracking", "lead_sections", "lead_table", "leads_report", "plot_clv_tracking"),
    "crmml.evaluation._report_sections": ("cluster_profile", "drift_report", "plot_drift", "plot_migration", "segment_migration", "segment_profile", "segments_report"),
    "crmml.evaluation._thresholds": ("plot_net_value", "threshold_table"),
}

__all__ = [
    "bootstrap_metrics",
    "brier",
    "calibration_bins",
    "capture_rate_at",
    "classification_figures",
    "classification_metrics",
    "classification_report",
    "cluster_profile",
    "clv_decile_table",
    "clv_parameters",
    "clv_report",
    "clv_tracking",
    "decile_table",
    "drift_report",
    "expected_calibration_error",
    "figure_to_png",
    "gini",
    "ks_statistic",
    "lead_sections",
    "lead_table",
    "leads_report",
    "lift_at",
    "plot_calibration",
    "plot_clv_tracking",
    "plot_decile_table",
    "plot_drift",
    "plot_gains_lift",
    "plot_migration",
    "plot_net_value",
    "plot_precision_recall",
    "plot_roc",
    "plot_score_distribution",
    "plot_shap_summary",
    "pr_auc",
    "psi",
    "psi_table",
    "report",
    "roc_auc",
    "segment_migration",
    "segment_profile",
    "segments_report",
    "summarize_data",
    "threshold_table",
    "top_drivers",
]
__all__ += ["concordance_index", "integrated_brier_score", "kaplan_meier"]
_MODULES["crmml.evaluation._survival"] = ("concordance_index", "integrated_brier_score", "kaplan_meier")

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
