"""Customer summaries for purchase and spend models: frequency, recency, T, monetary value.

Rules (documented once, used by every CLV model):

- A *purchase line* is a line with ``amount >= 0`` or a missing amount (purchase logs
  without values; zero-amount lines such as free items are purchases with zero spend).
  Lines with ``amount < 0`` are returns/refunds and never create a purchase occasion.
- A *purchase occasion* is, with ``occasion="period"`` (default), a period (day for
  ``freq="D"``, Monday-based calendar week for ``freq="W"``) in which the customer has
  at least one purchase line: same-period purchases collapse into one occasion, as
  BG/NBD and Pareto/NBD assume. With ``occasion="transaction"`` it is a distinct
  ``transaction_id`` among purchase lines, timed at its first line, and times are
  continuous (fractions of the unit).
- ``frequency`` is the number of *repeat* occasions (occasions after the first),
  ``recency`` the time from the first to the last occasion and ``T`` the time from the
  first occasion to the end of observation, all in units of ``freq`` (days or weeks).
  In period mode the end of observation is the last period before ``as_of`` (the
  lifetimes / Fader-Hardie convention: a purchase on the last day has recency == T).
- ``monetary_value`` is the mean gross value of the repeat occasions, net of the
  customer's returns pro rata: multiplied by ``1 - returns / gross purchases`` over the
  window (a missing amount adds 0). It is 0 for customers without repeat occasions and may be <= 0 for customers
  who returned everything (CLVModel then applies its documented rule).
- Customers with no purchase occasion before ``as_of`` (only returns) have no row; a
  :class:`crmml.exceptions.DroppedCustomersWarning` gives their count.

Everything is per customer, so a summary of a subset of customers equals those
customers' rows of the summary of all customers.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from crmml._time import warn_if_outside_data
from crmml._utils import check_as_of, check_in
from crmml._utils._warn import warn_counts
from crmml.exceptions import DroppedCustomersWarning, NoHistoryError, ParameterError
from crmml.schema import validate_transactions

__all__ = ["summarize", "calibration_holdout"]

_UNIT_DAYS = {"D": 1.0, "W": 7.0}
_NS_PER_DAY = 86_400 * 10**9


def _period(ts_ns: np.ndarray, freq: str) -> np.ndarray:
    """Integer period index of int64 nanosecond timestamps (days, or Monday-based weeks)."""
    day = np.floor_divide(ts_ns, _NS_PER_DAY)
    return day if freq == "D" else np.floor_divide(day + 3, 7)


def _end_position(as_of: pd.Timestamp, freq: str, occasion: str) -> float:
    ns = np.int64(as_of.value)
    if occasion == "period":
        return float(_period(np.array([ns - 1]), freq)[0])
    return ns / (_NS_PER_DAY * _UNIT_DAYS[freq])


def _prepare(transactions, columns, owner, occasion):
    tx = validate_transactions(transactions, columns, allow_missing_amount=True)
    if occasion == "transaction" and "transaction_id" not in tx.columns:
        raise ParameterError(f"The 'occasion' parameter of {owner} is 'transaction' but transactions has no "
                             "'transaction_id' column. Use occasion='period' or map a transaction id column.")
    return tx


def _unique_inverse(key: np.ndarray):
    """np.unique(key, return_inverse=True), in O(n) when ``key`` is already sorted (the usual
    layout: transactions ordered by customer and time)."""
    if len(key) and np.all(key[1:] >= key[:-1]):
        new = np.empty(len(key), dtype=bool)
        new[0] = True
        np.not_equal(key[1:], key[:-1], out=new[1:])
        return key[new], np.cumsum(new) - 1
    return np.unique(key, return_inverse=True)


def _occasions(tx: pd.DataFrame, start, end, freq: str, occasion: str):
    """Purchase occasions in [start, end): customer ids, positions (units) and values, sorted."""
    ts = tx["timestamp"].to_numpy().astype("datetime64[ns]", copy=False).view("int64")
    amount = tx["amount"].to_numpy(dtype="float64")
    keep = ts < end.value
    if start is not None:
        keep &= ts >= start.value
    is_purchase = keep & ~(amount < 0)  # amount >= 0 or NaN
    is_return = keep & (amount < 0)
    cust = tx["customer_id"].to_numpy()
    # sums by np.bincount (sequential in row order within each customer), not pandas groupby: the latter's
    # rounding depends on the other customers' rows, which breaks partition-exactness
    rcodes, runiq = pd.factorize(cust[is_return])
    returns = pd.Series(np.bincount(rcodes, weights=-amount[is_return], minlength=len(runiq)), index=runiq)
    cust, ts, amount = cust[is_purchase], ts[is_purchase], np.nan_to_num(amount[is_purchase])
    codes, uniques = pd.factorize(cust)
    if occasion == "period":
        per = _period(ts, freq)
        p0 = per.min() if len(per) else 0
        span = int(per.max() - p0 + 1) if len(per) else 1
        key = codes.astype(np.int64, copy=False) * span + (per - p0)
        ukey, inv = _unique_inverse(key)
        value = np.bincount(inv, weights=amount, minlength=len(ukey))
        occ_code = ukey // span
        pos = (ukey % span + p0).astype("float64")
    else:
        tid, tuniq = pd.factorize(tx["transaction_id"].to_numpy()[is_purchase])
        inv, ukey = pd.factorize(codes.astype(np.int64) * max(len(tuniq), 1) + tid)   # occasions, first seen first
        occ_c = ukey // max(len(tuniq), 1)
        occ_ts = np.full(len(ukey), np.iinfo(np.int64).max)
        np.minimum.at(occ_ts, inv, ts)
        occ_v = np.bincount(inv, weights=amount, minlength=len(ukey))
        order = np.lexsort((occ_ts, occ_c))                # stable: ties keep the order of first appearance
        occ_code = occ_c[order]
        pos = occ_ts[order] / (_NS_PER_DAY * _UNIT_DAYS[freq])
        value = occ_v[order]
    return occ_code, pos, value, uniques, returns


def _log_intervals(occ_code, pos, n_cust):
    """Per customer, the sum of the logs of the times between consecutive occasions (``litt``).

    Occasions are sorted by customer and time; sums run in row order within each customer (partition-exact).
    Two occasions at the same instant (``occasion="transaction"``) count as 1e-6 units apart.
    """
    same = np.zeros(len(pos), dtype=bool)
    same[1:] = occ_code[1:] == occ_code[:-1]
    gaps = np.diff(pos, prepend=np.nan)[same]
    return np.bincount(occ_code[same], weights=np.log(np.maximum(gaps, 1e-6)), minlength=n_cust)


def _summary_from_occasions(occ_code, pos, value, uniques, returns, end_pos, litt=False):
    n_cust = len(uniques)
    if n_cust == 0:
        out = pd.DataFrame({"frequency": pd.Series(dtype="int64"), "recency": pd.Series(dtype="float64"),
                            "T": pd.Series(dtype="float64"), "monetary_value": pd.Series(dtype="float64")},
                           index=pd.Index(uniques, name="customer_id"))
        return out.assign(litt=pd.Series(dtype="float64")) if litt else out
    counts = np.bincount(occ_code, minlength=n_cust)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    ends = starts + counts - 1
    first, last = pos[starts], pos[ends]
    total = np.bincount(occ_code, weights=value, minlength=n_cust)
    first_value = value[starts]
    freq_ = counts - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(freq_ > 0, (total - first_value) / np.maximum(freq_, 1), 0.0)
        ret = returns.reindex(uniques).fillna(0.0).to_numpy()
        share = np.where(total > 0, ret / total, 0.0)
    monetary = monetary * (1.0 - share)
    out = pd.DataFrame({
        "frequency": freq_.astype(np.int64),
        "recency": last - first,
        "T": end_pos - first,
        "monetary_value": monetary,
    }, index=pd.Index(uniques, name="customer_id"))
    if litt:
        out["litt"] = _log_intervals(occ_code, pos, n_cust)
    return out.sort_index()


def _warn_return_only(parts, owner, end):
    """DroppedCustomersWarning with the count of customers left out because they only have returns."""
    uniques, returns = parts[3], parts[4]
    n = int(len(pd.Index(returns.index).difference(pd.Index(uniques))))
    if n:
        warn_counts(DroppedCustomersWarning, f"{owner}: {{n}} customers with only returns before {end.isoformat()} "
                    "left out (no purchase occasion to model; CLVModel keeps them under the rule 'no_purchase').",
                    n=n, stacklevel=3)


def _check_window(calibration_end, observation_end, owner: str):
    """``calibration_end`` and ``observation_end`` as timestamps, the second after the first (ValueError)."""
    cal = check_as_of(calibration_end, owner, "calibration_end")
    obs = check_as_of(observation_end, owner, "observation_end")
    if obs <= cal:
        raise ParameterError(f"The 'observation_end' parameter of {owner} must be after calibration_end ({cal}). "
                             f"Got {obs} instead.")
    return cal, obs


def _no_calibration_history(tx, start, cal, owner):
    """NoHistoryError naming the dates that would work."""
    ts = tx.loc[~(tx["amount"] < 0), "timestamp"]
    if start is not None:
        ts = ts[ts >= start]
    if len(ts) == 0:
        raise NoHistoryError(f"{owner}: the transactions hold no purchase{' after start' if start else ''}; "
                             "nothing to calibrate on.")
    first, last = ts.min(), ts.max()
    raise NoHistoryError(f"{owner}: no purchase before calibration_end={cal.isoformat()}; the purchases run from "
                         f"{first.isoformat()} to {last.isoformat()}. Choose a calibration_end after "
                         f"{first.isoformat()} (e.g. {(first + (last - first) * 0.7).floor('D').date()}) and an "
                         "observation_end after it.")


def summarize(transactions: pd.DataFrame, as_of, *, freq: str = "D", occasion: str = "period",
              start=None, columns=None, litt: bool = False) -> pd.DataFrame:
    """Per-customer frequency, recency, T and monetary value from transactions before ``as_of``.

    See the module notes for the exact rules (purchase occasions, returns, time origin).

    Parameters
    ----------
    transactions : DataFrame
        Standard-schema transactions (``customer_id``, ``timestamp``, ``amount``; ``amount``
        may be missing for purchase logs without values).
    as_of : timestamp or str
        End of observation (exclusive): only rows with ``timestamp < as_of`` are read.
    freq : {"D", "W"}, default="D"
        Period of same-period collapse and time unit of ``recency`` and ``T``.
    occasion : {"period", "transaction"}, default="period"
        Purchase occasions as collapsed periods, or as distinct ``transaction_id`` values
        (continuous times).
    start : timestamp or str, optional
        Ignore rows before ``start`` (customers are then born at their first occasion after it).
    columns : dict, optional
        Mapping from your column names to canonical ones.
    litt : bool, default=False
        Add ``litt``, the sum of the logs of the times between consecutive occasions (in units of
        ``freq``), which the regularity-aware models (:class:`crmml.clv.BetaGeoCNBDModel`) read.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id``: ``frequency`` (int), ``recency``, ``T``, ``monetary_value``
        (and ``litt``).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-11", "2024-01-05"]),
    ...                    "amount": [10.0, 5.0, 20.0, 8.0]})
    >>> summarize(tx, "2024-01-21")
                 frequency  recency     T  monetary_value
    customer_id
    1                    1     10.0  19.0            20.0
    2                    0      0.0  15.0             0.0
    """
    owner = "summarize"
    check_in(freq, "freq", owner, ("D", "W"))
    check_in(occasion, "occasion", owner, ("period", "transaction"))
    as_of = check_as_of(as_of, owner)
    start_ts = None if start is None else check_as_of(start, owner, "start")
    if start_ts is not None and start_ts >= as_of:
        raise ParameterError(f"The 'start' parameter of {owner} must be before as_of ({as_of}). Got {start_ts} "
                             "instead (nothing would be read).")
    tx = _prepare(transactions, columns, owner, occasion)
    warn_if_outside_data(as_of, tx["timestamp"])
    parts = _occasions(tx, start_ts, as_of, freq, occasion)
    _warn_return_only(parts, owner, as_of)
    return _summary_from_occasions(*parts, _end_position(as_of, freq, occasion), litt=litt)


def calibration_holdout(transactions: pd.DataFrame, calibration_end, observation_end, *, freq: str = "D",
                        occasion: str = "period", start=None, columns=None, litt: bool = False) -> pd.DataFrame:
    """Calibration summary before ``calibration_end`` plus holdout counts in ``[calibration_end, observation_end)``.

    Parameters
    ----------
    transactions : DataFrame
        Standard-schema transactions.
    calibration_end : timestamp or str
        End of the calibration period (exclusive).
    observation_end : timestamp or str
        End of the holdout period (exclusive); must be after ``calibration_end``.
    freq, occasion, start, columns, litt
        As in :func:`summarize`.

    Returns
    -------
    DataFrame
        The calibration summary (customers with an occasion before ``calibration_end``; none
        at all raises :class:`crmml.exceptions.NoHistoryError` naming the dates to use) with
        ``frequency_holdout`` (occasions in the holdout), ``monetary_value_holdout`` (their
        mean value, 0 without any) and ``duration_holdout`` (holdout length in units).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-02-03", "2024-01-05"]),
    ...                    "amount": [10.0, 20.0, 30.0, 8.0]})
    >>> calibration_holdout(tx, "2024-01-21", "2024-02-20")[["frequency", "frequency_holdout", "duration_holdout"]]
                 frequency  frequency_holdout  duration_holdout
    customer_id
    1                    1                  1              30.0
    2                    0                  0              30.0
    """
    owner = "calibration_holdout"
    check_in(freq, "freq", owner, ("D", "W"))
    check_in(occasion, "occasion", owner, ("period", "transaction"))
    cal, obs = _check_window(calibration_end, observation_end, owner)
    start_ts = None if start is None else check_as_of(start, owner, "start")
    tx = _prepare(transactions, columns, owner, occasion)
    cal_parts = _occasions(tx, start_ts, cal, freq, occasion)
    if len(cal_parts[3]) == 0:
        _no_calibration_history(tx, start_ts, cal, owner)
    _warn_return_only(cal_parts, owner, cal)
    summary = _summary_from_occasions(*cal_parts, _end_position(cal, freq, occasion), litt=litt)
    occ_code, _, value, uniques, _ = _occasions(tx, cal, obs, freq, occasion)
    n_hold = np.bincount(occ_code, minlength=len(uniques))
    v_hold = np.bincount(occ_code, weights=value, minlength=len(uniques))
    hold = pd.DataFrame({"frequency_holdout": n_hold,
                         "monetary_value_holdout": v_hold / np.maximum(n_hold, 1)}, index=uniques)
    hold = hold.reindex(summary.index)
    summary["frequency_holdout"] = hold["frequency_holdout"].fillna(0).astype(np.int64).to_numpy()
    summary["monetary_value_holdout"] = hold["monetary_value_holdout"].fillna(0.0).to_numpy()
    summary["duration_holdout"] = _end_position(obs, freq, occasion) - _end_position(cal, freq, occasion)
    return summary
