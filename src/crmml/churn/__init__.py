"""Churn risk: labels at a cutoff, a calibrated xgboost model with per-customer drivers, and backtests.

- :func:`make_churn_labels` - who is at risk as of a cutoff and who did not buy again within the horizon;
- :func:`make_churn_snapshot` - point-in-time features of the at-risk customers joined to their labels;
- :class:`ChurnModel` - calibrated gradient boosting with SHAP risk drivers (``explain``);
- :class:`RecencyFrequencyBaseline` - logistic regression on recency and frequency, the bar to beat;
- :func:`backtest` - walk-forward evaluation over cutoffs, model beside baseline;
- :class:`TimeToChurnModel` - survival curves (risk at any horizon) from a boosted discrete-time hazard model,
  with :class:`CoxBaseline` and :func:`make_time_to_event` for its evaluation.
"""

from crmml.churn._backtest import BacktestResult, backtest, make_churn_snapshot
from crmml.churn._labels import make_churn_labels
from crmml.churn._cox import CoxBaseline
from crmml.churn._model import ChurnModel, RecencyFrequencyBaseline
from crmml.churn._survival import TimeToChurnModel, make_time_to_event
from crmml.churn._survival_backtest import survival_backtest

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
