"""Churn labels: who is at risk as of a cutoff, and who did not buy again within the horizon."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from crmml._time import _short, shift_days, warn_if_before_data
from crmml._utils import MAX_HORIZON_DAYS, MAX_WINDOW_DAYS, check_as_of, check_number
from crmml.exceptions import DroppedCustomersWarning
from crmml.schema import validate_transactions

__all__ = ["make_churn_labels"]


def make_churn_labels(transactions, as_of, horizon_days: int = 45, *, lookback_days: int = 365,
                      columns=None) -> pd.DataFrame:
    """Churn labels as of a cutoff.

    **At-risk population**: customers with at least one *purchase* in
    ``[as_of - lookback_days, as_of)``. **Churned** (``churned = 1``): no
    purchase in ``[as_of, as_of + horizon_days)``. A purchase is a transaction
    row with ``amount >= 0`` (or a missing amount); returns and refunds
    (``amount < 0``) neither make a customer active nor count as buying again.

    Parameters
    ----------
    transactions : DataFrame
        Standard-schema transactions.
    as_of : timestamp or str
        The cutoff: the population is read before it, the label from it on.
    horizon_days : int, default=45
        Length of the label window.
    lookback_days : int, default=365
        How far back a purchase makes a customer "active" (at risk). Use a
        value that covers a few typical purchase cycles of your business.
    columns : dict, optional
        Your column names -> canonical names (see :func:`crmml.schema.map_columns`).

    Returns
    -------
    DataFrame indexed by ``customer_id`` (sorted) with ``churned`` (0/1),
    ``last_purchase`` (timestamp of the last purchase before ``as_of``) and
    ``purchases_in_horizon`` (purchase rows in the label window).

    Warns
    -----
    UserWarning
        When the data end before ``as_of + horizon_days``: labels are then not
        fully observed (customers look churned because the log stops).
    DroppedCustomersWarning
        When the look-back window holds rows but none is a purchase (only returns), or holds no row while earlier
        rows exist (``as_of`` long after the data): the labels are empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.churn import make_churn_labels
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 3],
    ...                    "timestamp": pd.to_datetime(["2024-01-10", "2024-03-05", "2024-02-01",
    ...                                                 "2023-01-01", "2024-06-01"]),
    ...                    "amount": [10.0, 20.0, 15.0, 5.0, 9.0]})
    >>> make_churn_labels(tx, "2024-03-01", horizon_days=45)["churned"].to_dict()
    {1: 0, 2: 1}
    """
    owner = "make_churn_labels"
    as_of = check_as_of(as_of, owner)
    check_number(horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
    check_number(lookback_days, "lookback_days", owner, low=1, high=MAX_WINDOW_DAYS)
    tx = validate_transactions(transactions, columns, allow_missing_amount=True)
    return churn_labels(tx, as_of, horizon_days, lookback_days)


def warn_labels_end(last: pd.Timestamp, end: pd.Timestamp, *, stacklevel: int = 2) -> None:
    """The transactions end more than a day before ``as_of + horizon`` (``end``): labels not fully observed."""
    warnings.warn(f"The transactions end on {last.date()}, before as_of + horizon ({end.date()}): churn labels are "
                  "not fully observed.", UserWarning, stacklevel=stacklevel)


def warn_no_purchase_in_window(n_window: int, *, stacklevel: int = 2) -> None:
    """Every one of the ``n_window`` rows of the look-back window is a return: nobody is at risk."""
    warnings.warn(f"None of the {n_window} rows in the look-back window before as_of is a purchase (all have amount "
                  "< 0, i.e. returns), so no customer is at risk and the labels are empty; are sales recorded as "
                  "negative amounts?", DroppedCustomersWarning, stacklevel=stacklevel)


def warn_no_row_in_window(as_of: pd.Timestamp, lookback_days: int, *, stacklevel: int = 2) -> None:
    """Rows before ``as_of`` but none in its look-back window (a cut-off years after the data): nobody is at risk."""
    warnings.warn(f"None of the transactions before as_of ({_short(as_of)}) lies in the look-back window (the "
                  f"{lookback_days} days before it), so no customer is at risk and the labels are empty; use a "
                  "cut-off within the data or a longer lookback_days.", DroppedCustomersWarning, stacklevel=stacklevel)


def look_back_window(t: np.ndarray, buy: np.ndarray, as_of: pd.Timestamp, lookback_days: int, *, warn: bool = True,
                     stacklevel: int = 2) -> np.ndarray:
    """Rows (``t``: ``datetime64[ns]``) in ``[as_of - lookback_days, as_of)``, where a purchase (``buy``) makes a
    customer at risk; with ``warn``, why nobody is when rows exist: only returns there, or no row there at all."""
    a = as_of.to_datetime64()
    window = (t < a) & (t >= shift_days(as_of, -lookback_days).to_datetime64())
    if warn and window.any() and not (buy & window).any():
        warn_no_purchase_in_window(int(window.sum()), stacklevel=stacklevel + 1)
    if warn and not window.any() and (t < a).any():
        warn_no_row_in_window(as_of, lookback_days, stacklevel=stacklevel + 1)
    return window


def churn_labels(tx: pd.DataFrame, as_of: pd.Timestamp, horizon_days: int, lookback_days: int,
                 warn: bool = True) -> pd.DataFrame:
    """:func:`make_churn_labels` on validated transactions."""
    t = tx["timestamp"].to_numpy("datetime64[ns]")
    a = as_of.to_datetime64()
    end = shift_days(as_of, horizon_days).to_datetime64()
    buy = ~(tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan) < 0)
    if warn and len(t) and t.max() < end - np.timedelta64(1, "D"):
        warn_labels_end(pd.Timestamp(t.max()), pd.Timestamp(end), stacklevel=4)
    if warn:
        warn_if_before_data(as_of, t, stacklevel=4)
    ids = tx["customer_id"].to_numpy()
    past = buy & look_back_window(t, buy, as_of, lookback_days, warn=warn, stacklevel=4)
    last = pd.Series(t[past], index=ids[past]).groupby(level=0).max()
    fut = buy & (t >= a) & (t < end)
    n_future = pd.Series(1, index=ids[fut]).groupby(level=0).sum().reindex(last.index, fill_value=0)
    out = pd.DataFrame({"churned": (n_future.to_numpy() == 0).astype(np.int64),
                        "last_purchase": last.to_numpy(),
                        "purchases_in_horizon": n_future.to_numpy().astype(np.int64)},
                       index=pd.Index(last.index, name="customer_id"))
    return out.sort_index()
