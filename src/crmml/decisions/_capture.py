"""Realised lost value and capture curves: does a ranking find the value that is actually lost?"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._utils import MAX_HORIZON_DAYS, MAX_WINDOW_DAYS, check_as_of, check_number, check_unique_ids
from crmml.churn._labels import churn_labels
from crmml.exceptions import DataError, DroppedCustomersWarning, ParameterError
from crmml.schema import validate_transactions

__all__ = ["capture_table", "lost_value"]


def lost_value(transactions, as_of, *, horizon_days: int = 45, lookback_days: int = 365) -> pd.DataFrame:
    """Value actually lost in the horizon: the prior-period spend of the customers who churned.

    For the customers active at ``as_of`` (:func:`crmml.churn.make_churn_labels`), ``prior_spend`` is
    their net spend in ``[as_of - lookback_days, as_of)`` (returns netted, floored at 0) and
    ``lost_value = churned x prior_spend``: what the business loses, at last year's rate, from the
    customers who did not buy again in ``[as_of, as_of + horizon_days)``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3], "amount": [5.0, 7.0, 9.0, 1.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-10", "2024-03-11", "2024-02-01", "2024-06-01"])})
    >>> lost_value(tx, "2024-03-01")["lost_value"].to_dict()
    {1: 0.0, 2: 9.0}
    """
    owner = "lost_value"
    as_of = check_as_of(as_of, owner)
    check_number(horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
    check_number(lookback_days, "lookback_days", owner, low=1, high=MAX_WINDOW_DAYS)
    tx = validate_transactions(transactions, allow_missing_amount=True)
    lab = churn_labels(tx, as_of, horizon_days, lookback_days, warn=True)
    t = tx["timestamp"]
    past = tx[(t < as_of) & (t >= as_of - pd.Timedelta(days=lookback_days))]
    spend = past.groupby("customer_id")["amount"].sum().reindex(lab.index, fill_value=0.0).clip(lower=0.0)
    return pd.DataFrame({"churned": lab["churned"], "prior_spend": spend.astype(np.float64),
                         "lost_value": lab["churned"] * spend.astype(np.float64)})


def capture_table(rankings: pd.DataFrame, lost: pd.Series, fractions=(0.1, 0.2)) -> pd.DataFrame:
    """Share of the total lost value found in the top ``fractions`` of customers by each ranking column.

    Parameters
    ----------
    rankings : DataFrame
        One column per ranking score (higher = contact first), indexed by ``customer_id`` (each id once). A
        missing score (NaN) ranks the customer last in that column.
    lost : Series
        Realised lost value per customer (e.g. :func:`lost_value`), aligned on the index (each id once). Every
        ranked customer needs a value (``ValueError`` otherwise). Customers of ``lost`` that are not ranked
        are left out of the total, with a :class:`crmml.exceptions.DroppedCustomersWarning` giving their
        count and their lost value: the shares are of the ranked customers' lost value.
    fractions : sequence of float in (0, 1]

    Returns
    -------
    DataFrame
        Index: ranking names; columns ``top_<pct>pct`` (share of total lost value captured) and
        ``random`` expectation is the fraction itself.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"good": [3, 2, 1, 0], "bad": [0, 1, 2, 3]})
    >>> capture_table(r, pd.Series([10.0, 0, 0, 0]), fractions=[0.25]).to_dict()
    {'top_25pct': {'good': 1.0, 'bad': 0.0}}
    """
    if not isinstance(rankings, pd.DataFrame):
        raise ParameterError("capture_table expects rankings as a DataFrame (one column per ranking).")
    lost = pd.Series(lost)
    for name, index in (("rankings", rankings.index), ("lost", lost.index)):
        check_unique_ids(index, name, "capture_table")
    unranked = ~lost.index.isin(rankings.index)
    if unranked.any():
        warnings.warn(f"capture_table: {int(unranked.sum()):,} of the {len(lost):,} customers of lost are not in "
                      f"rankings (lost value {float(np.nansum(lost.to_numpy(np.float64)[unranked])):,.2f}); they "
                      "are left out of the total, so the shares are of the ranked customers' lost value.",
                      DroppedCustomersWarning, stacklevel=2)
    lost = lost.reindex(rankings.index)
    if lost.isna().any():
        raise DataError(f"capture_table: {int(lost.isna().sum())} ranked customers have no lost value.")
    total = float(lost.sum())
    if total <= 0:
        raise DataError("capture_table: the total lost value is 0; nothing to capture.")
    out = {}
    n = len(lost)
    v = lost.to_numpy(np.float64)
    for f in fractions:
        check_number(f, "fractions", "capture_table", kind="float", low=0, high=1, low_inclusive=False)
        k = max(1, int(round(f * n)))
        col = {}
        for name in rankings.columns:
            s = rankings[name].to_numpy(np.float64)
            order = np.lexsort((np.arange(n), -np.nan_to_num(s, nan=-np.inf)))   # stable, NaN last
            col[name] = float(v[order[:k]].sum() / total)
        out[f"top_{int(round(f * 100))}pct"] = col
    return pd.DataFrame(out)
