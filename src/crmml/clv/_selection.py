"""Choice of the purchase model on the user's own history (``CLVModel(purchase_model="auto")``).

The history before ``as_of`` is split at ``as_of - holdout``: every candidate is fit on the
calibration part and forecasts each calibration customer's purchases over the holdout; the score
is ``sum |forecast - actual| / sum actual`` (Platzer & Reutterer's measure). BG/NBD is the
baseline: another candidate is chosen only if its score is strictly lower than BG/NBD's, so
"auto" never picks a model that loses to BG/NBD on that split. The chosen model is then refit on
the whole history by :class:`crmml.clv.CLVModel`. Nothing at or after ``as_of`` is read.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml.clv._base import ConvergenceError
from crmml.clv._bgnbd import BetaGeoModel
from crmml.clv._mbgnbd import ModifiedBetaGeoModel
from crmml.clv._paretonbd import ParetoNBDModel
from crmml.clv._summary import _UNIT_DAYS, calibration_holdout
from crmml.exceptions import DroppedCustomersWarning, NoHistoryError

__all__ = ["AUTO_CANDIDATES", "select_purchase_model"]

#: candidates of ``purchase_model="auto"``, the baseline first
AUTO_CANDIDATES = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "paretonbd": ParetoNBDModel}
#: the holdout is the forecast horizon, capped at a third of the history
_MAX_HOLDOUT_SHARE = 1 / 3
_MIN_CUSTOMERS = 30


def select_purchase_model(tx: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, freq: str, occasion: str):
    """(chosen name, comparison frame) on a calibration/holdout split of ``tx`` before ``as_of``.

    ``tx`` is validated standard-schema transactions. The frame has one row per candidate: ``holdout_error``,
    ``total_error`` (signed, relative), ``log_likelihood`` (calibration), ``chosen``, and in ``attrs`` the split.
    """
    purchases = tx.loc[(tx["timestamp"] < as_of) & ~(tx["amount"] < 0), "timestamp"]
    first = purchases.min() if len(purchases) else as_of
    span_days = (as_of - first) / pd.Timedelta(days=1)
    holdout_days = int(min(horizon_days, np.floor(span_days * _MAX_HOLDOUT_SHARE)))
    rows, reason = {}, None
    if holdout_days < max(7, _UNIT_DAYS[freq]):
        reason = f"history before as_of spans {span_days:.0f} days: too short for a holdout"
    else:
        cal_end = (as_of - pd.Timedelta(days=holdout_days)).normalize()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedCustomersWarning)
            try:
                s = calibration_holdout(tx[tx["timestamp"] < as_of], cal_end, as_of, freq=freq, occasion=occasion)
            except NoHistoryError:
                s = pd.DataFrame()
        if len(s) < _MIN_CUSTOMERS:
            reason = f"only {len(s)} customers before the split: too few to compare models"
        else:
            actual = s["frequency_holdout"].to_numpy(dtype="float64")
            t = float(s["duration_holdout"].iloc[0])
            for name, cls in AUTO_CANDIDATES.items():
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        m = cls().fit(s)
                    pred = m.conditional_expected_purchases(s, t).to_numpy()
                except (ConvergenceError, ValueError, FloatingPointError) as exc:
                    rows[name] = {"holdout_error": np.nan, "total_error": np.nan, "log_likelihood": np.nan,
                                  "note": f"fit failed: {str(exc)[:80]}"}
                    continue
                ok = np.all(np.isfinite(pred))
                denom = max(actual.sum(), 1e-12)
                rows[name] = {"holdout_error": float(np.abs(pred - actual).sum() / denom) if ok else np.nan,
                              "total_error": float((pred.sum() - actual.sum()) / denom) if ok else np.nan,
                              "log_likelihood": m.log_likelihood_, "note": "" if ok else "non-finite forecast"}
    cols = ["holdout_error", "total_error", "log_likelihood", "note"]
    table = pd.DataFrame.from_dict(rows, orient="index", columns=cols) if rows else pd.DataFrame(columns=cols)
    table[cols[:3]] = table[cols[:3]].astype("float64")
    table.index.name = "purchase_model"
    chosen = "bgnbd"
    base = table["holdout_error"].get("bgnbd", np.nan) if len(table) else np.nan
    if np.isfinite(base):
        errors = pd.to_numeric(table["holdout_error"])
        best = errors.idxmin()
        if errors[best] < base:
            chosen = best
    elif reason is None:
        reason = "BG/NBD could not be scored on the split"
    table["chosen"] = table.index == chosen
    table.attrs.update({"holdout_days": holdout_days, "reason": reason or "lowest holdout error (BG/NBD unless "
                        "another is strictly lower)"})
    return chosen, table
