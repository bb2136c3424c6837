"""Holdout evaluation of purchase models: per-customer and total error, calibration-vs-holdout table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.exceptions import DataError, ParameterError

__all__ = ["evaluate_holdout", "calibration_holdout_table"]

_HOLDOUT_COLS = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")


def _check(summary, owner):
    if not isinstance(summary, pd.DataFrame):
        raise ParameterError(f"{owner} expects the DataFrame returned by calibration_holdout. "
                             f"Got {type(summary).__name__} instead.")
    missing = [c for c in _HOLDOUT_COLS if c not in summary.columns]
    if missing:
        raise DataError(f"The summary passed to {owner} lacks the columns {missing}; "
                        "build it with crmml.clv.calibration_holdout.")


def _predicted(purchase_model, summary):
    durations = summary["duration_holdout"].to_numpy(float)
    pred = np.empty(len(summary))
    for d in np.unique(durations):
        rows = durations == d
        pred[rows] = purchase_model.conditional_expected_purchases(summary[rows], float(d)).to_numpy()
    return pred


def evaluate_holdout(purchase_model, summary: pd.DataFrame):
    """Compare a fitted purchase model's expected holdout purchases with the actual ones.

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel
        Fitted on the calibration columns of ``summary``.
    summary : DataFrame
        Output of :func:`crmml.clv.calibration_holdout`.

    Returns
    -------
    per_customer : DataFrame
        Indexed by ``customer_id``: ``actual``, ``predicted``, ``error`` (predicted - actual).
    totals : Series
        ``n_customers``, ``mae``, ``rmse``, ``correlation`` (Pearson), ``total_predicted``,
        ``total_actual``, ``total_error_pct`` (100 * (predicted - actual) / actual).

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel, calibration_holdout, evaluate_holdout
    >>> from crmml.datasets import load_cdnow
    >>> s = calibration_holdout(load_cdnow(), "1997-10-01", "1998-07-01", freq="W")
    >>> per, tot = evaluate_holdout(BetaGeoModel().fit(s), s)
    >>> int(tot["total_actual"]), bool(tot["mae"] < 1)
    (18440, True)
    """
    _check(summary, "evaluate_holdout")
    actual = summary["frequency_holdout"].to_numpy(float)
    pred = _predicted(purchase_model, summary)
    err = pred - actual
    per = pd.DataFrame({"actual": actual, "predicted": pred, "error": err}, index=summary.index)
    tot = pd.Series({
        "n_customers": float(len(actual)),
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err ** 2))),
        "correlation": float(np.corrcoef(pred, actual)[0, 1]) if len(actual) > 1 else float("nan"),
        "total_predicted": float(pred.sum()),
        "total_actual": float(actual.sum()),
        "total_error_pct": float(100 * (pred.sum() - actual.sum()) / actual.sum()) if actual.sum() else float("nan"),
    }, name="holdout")
    return per, tot


def calibration_holdout_table(purchase_model, summary: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean actual vs expected holdout purchases by calibration frequency (the papers' Figure 3 check).

    Parameters
    ----------
    purchase_model : BetaGeoModel or ParetoNBDModel
    summary : DataFrame
        Output of :func:`crmml.clv.calibration_holdout`.
    max_frequency : int, default=7
        Calibration frequencies >= this value are pooled in the last row.

    Returns
    -------
    DataFrame
        Indexed by ``frequency`` (0..max_frequency, the last meaning ">= max_frequency"):
        ``n_customers``, ``actual``, ``predicted`` (means per customer).

    Examples
    --------
    >>> from crmml.clv import BetaGeoModel, calibration_holdout
    >>> from crmml.datasets import load_cdnow
    >>> s = calibration_holdout(load_cdnow(), "1997-10-01", "1998-07-01", freq="W")
    >>> calibration_holdout_table(BetaGeoModel().fit(s), s).shape
    (8, 3)
    """
    _check(summary, "calibration_holdout_table")
    if not (isinstance(max_frequency, (int, np.integer)) and max_frequency >= 1):
        raise ParameterError("The 'max_frequency' parameter of calibration_holdout_table must be an int >= 1. "
                             f"Got {max_frequency!r} instead.")
    freq = np.minimum(summary["frequency"].to_numpy(), max_frequency)
    df = pd.DataFrame({"frequency": freq, "actual": summary["frequency_holdout"].to_numpy(float),
                       "predicted": _predicted(purchase_model, summary)})
    out = df.groupby("frequency").agg(n_customers=("actual", "size"), actual=("actual", "mean"),
                                      predicted=("predicted", "mean"))
    return out.reindex(range(max_frequency + 1))
