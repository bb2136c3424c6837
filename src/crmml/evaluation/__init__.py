"""Model evaluation: metrics, plots and self-contained HTML reports."""

from crmml.evaluation._metrics import (
    brier,
    calibration_bins,
    capture_rate_at,
    classification_metrics,
    clv_decile_table,
    decile_table,
    expected_calibration_error,
    gini,
    ks_statistic,
    lift_at,
    pr_auc,
    psi,
    psi_table,
    roc_auc,
)
from crmml.evaluation._plots import (
    plot_calibration,
    plot_decile_table,
    plot_gains_lift,
    plot_precision_recall,
    plot_roc,
    plot_score_distribution,
    plot_shap_summary,
)
from crmml.evaluation._report import (
    classification_figures,
    classification_report,
    figure_to_png,
    report,
    summarize_data,
    top_drivers,
)

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
from crmml.evaluation._survival import concordance_index, integrated_brier_score, kaplan_meier  # noqa: E402

__all__ += ["concordance_index", "integrated_brier_score", "kaplan_meier"]
