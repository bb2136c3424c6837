"""Churn risk: labels at a cutoff, a calibrated xgboost model with per-customer drivers, and backtests.

- :func:`make_churn_labels` - who is at risk as of a cutoff and who did not buy again within the horizon;
- :func:`make_churn_snapshot` - point-in-time features of the at-risk customers joined to their labels;
- :class:`ChurnModel` - calibrated gradient boosting with SHAP risk drivers (``explain``);
- :class:`RecencyFrequencyBaseline` - logistic regression on recency and frequency, the bar to beat;
- :func:`backtest` - walk-forward evaluation over cutoffs, model beside baseline;
- :class:`TimeToChurnModel` - survival curves (risk at any horizon) from a boosted discrete-time hazard model,
  with :class:`CoxBaseline` and :func:`make_time_to_event` for its evaluation.
"""

from crmml._lazy import lazy_exports

_MODULES = {
    "crmml.churn._backtest": ("BacktestResult", "backtest", "make_churn_snapshot"),
    "crmml.churn._labels": ("make_churn_labels",),
    "crmml.churn._cox": ("CoxBaseline",),
    "crmml.churn._baseline": ("RecencyFrequencyBaseline",),
    "crmml.churn._model": ("ChurnModel",),
    "crmml.churn._survival": ("TimeToChurnModel", "make_time_to_event"),
    "crmml.churn._survival_backtest": ("survival_backtest",),
}

__all__ = [
    "BacktestResult",
    "ChurnModel",
    "CoxBaseline",
    "RecencyFrequencyBaseline",
    "TimeToChurnModel",
    "backtest",
    "make_churn_labels",
    "make_churn_snapshot",
    "make_time_to_event",
    "survival_backtest",
]

__getattr__, __dir__ = lazy_exports(globals(), _MODULES)
