"""The one rule for cut-off dates (``as_of``) and the range of timestamps crmml can represent.

Every public function or method that takes ``as_of`` (or another cut-off such as
``split_date`` or ``calibration_end``) parses it with :func:`as_timestamp`:

- accepted: ``str`` ("2024-07-01"), :class:`datetime.datetime`, :class:`datetime.date`,
  :class:`numpy.datetime64` and :class:`pandas.Timestamp`. Tz-aware values are converted
  to UTC and made naive (the schema's time rule); the result is a naive
  ``pd.Timestamp`` with nanosecond resolution.
- refused with :class:`AsOfError`: numbers (``20240701`` would otherwise be read as
  nanoseconds since 1970) and bools, missing values, text that is not a date, and dates
  outside the range pandas can represent (1677-09-22 to 2262-04-11; e.g. the sentinel
  ``9999-12-31``), which would otherwise silently read no rows.
- :class:`AsOfWarning` when the cut-off lies more than one day after the last row of the
  data at hand: every customer then looks inactive for the gap.

>>> as_timestamp("2024-07-01T02:00+02:00")
Timestamp('2024-07-01 00:00:00')
>>> as_timestamp(20240701)
Traceback (most recent call last):
...
crmml._time.AsOfError: The 'as_of' parameter must be a date, not a number: got 20240701 (int); pass '2024-07-01' (a date string), a datetime or a pd.Timestamp.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import warnings

import numpy as np
import pandas as pd

from crmml.exceptions import CrmmlError, CrmmlWarning

__all__ = ["AsOfError", "AsOfWarning", "as_timestamp", "shift_days", "warn_after_last", "warn_before_first",
           "warn_if_after_data", "warn_if_before_data", "warn_if_outside_data", "TIMESTAMP_MIN", "TIMESTAMP_MAX"]

#: The first and last instants a ``datetime64[ns]`` column can hold.
TIMESTAMP_MIN = pd.Timestamp.min.as_unit("ns")
TIMESTAMP_MAX = pd.Timestamp.max.as_unit("ns")
_GRACE = pd.Timedelta(days=1)


class AsOfError(ValueError, CrmmlError):
    """A cut-off date (``as_of``) that crmml refuses: a number, a non-date, or out of range.

    >>> from crmml.schema import as_timestamp
    >>> as_timestamp(20240701)
    Traceback (most recent call last):
    crmml._time.AsOfError: The 'as_of' parameter must be a date, not a number: got 20240701 (int); pass '2024-07-01' (a date string), a datetime or a pd.Timestamp.
    """


class AsOfWarning(CrmmlWarning):
    """The cut-off lies well after the last row of the data (customers look inactive for the gap).

    >>> import warnings, pandas as pd
    >>> from crmml.segmentation import rfm_table
    >>> tx = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": [5.0]})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = rfm_table(tx, as_of="2025-01-01")
    >>> [w.category.__name__ for w in caught]
    ['AsOfWarning']
    """


#: the SchemaError text for dates pandas cannot hold
OUT_OF_RANGE = ("timestamps outside the range pandas can represent (1677-09-22 .. 2262-04-11); fix or drop these "
                "rows (placeholder dates such as 9999-12-31?)")


def dates_out_of_range(values: pd.Series) -> pd.Series:
    """Of values ``pd.to_datetime`` could not parse, the ISO dates (and datetimes) outside pandas' range, as naive UTC
    text; None for the rest. pandas 2 turns such dates into NaT, pandas 3 parses them at a coarser unit, and both must
    say "outside the range", not "unparseable". At most 10,000 distinct values are examined.

    >>> dates_out_of_range(pd.Series(["9999-12-31", "oops", "1500-01-01T00:00Z"])).tolist()
    ['9999-12-31 00:00:00', None, '1500-01-01 00:00:00']
    """
    from dateutil.parser import isoparse

    # to microseconds inward (datetime has no nanoseconds; pandas warns "Discarding nonzero nanoseconds" otherwise)
    lo, hi = TIMESTAMP_MIN.ceil("us").to_pydatetime(), TIMESTAMP_MAX.floor("us").to_pydatetime()

    def one(v):
        try:
            d = v if isinstance(v, _dt.datetime) else isoparse(v.strip()) if isinstance(v, str) else None
        except (ValueError, OverflowError):
            return None
        if d is not None and d.tzinfo is not None:
            d = d.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return str(d) if d is not None and not lo <= d <= hi else None

    return values.map({v: one(v) for v in pd.unique(values)[:10_000]}).astype(object).where(lambda x: x.notna(), None)


def _where(name: str, owner: str | None) -> str:
    return f"The {name!r} parameter" + (f" of {owner}" if owner else "")


def as_timestamp(as_of, name: str = "as_of", *, owner: str | None = None) -> pd.Timestamp:
    """Parse a cut-off date by crmml's one rule (see the module docstring).

    Parameters
    ----------
    as_of : str, datetime, date, numpy.datetime64 or pandas.Timestamp
        The cut-off.
    name : str, default="as_of"
        Parameter name used in the error message.
    owner : str, optional
        The function or method that received it (for the error message).

    Returns
    -------
    pandas.Timestamp
        Naive (UTC when the input was tz-aware), nanosecond resolution.

    Raises
    ------
    AsOfError
        For numbers and bools, missing values, non-dates, and dates outside 1677-09-22 .. 2262-04-11.

    Examples
    --------
    >>> import datetime
    >>> as_timestamp(datetime.date(2024, 7, 1))
    Timestamp('2024-07-01 00:00:00')
    >>> as_timestamp("9999-12-31")
    Traceback (most recent call last):
    ...
    crmml._time.AsOfError: The 'as_of' parameter is outside the dates pandas can represent (1677-09-22 .. 2262-04-11): got '9999-12-31'; pass a real cut-off date such as '2024-07-01' (no sentinel dates).
    """
    where = _where(name, owner)
    if isinstance(as_of, (bool, np.bool_, numbers.Number)) and not isinstance(as_of, np.datetime64):
        raise AsOfError(f"{where} must be a date, not a number: got {as_of!r} ({type(as_of).__name__}); "
                        "pass '2024-07-01' (a date string), a datetime or a pd.Timestamp.")
    if not isinstance(as_of, (str, _dt.date, np.datetime64, pd.Timestamp)):
        raise AsOfError(f"{where} must be a timestamp or a date string such as '2024-07-01' (str, datetime, date, "
                        f"numpy.datetime64 or pd.Timestamp): got {as_of!r} ({type(as_of).__name__}).")
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError, OverflowError) as exc:
        if "out of bounds" in str(exc).lower():
            ts = None
        else:
            raise AsOfError(f"{where} must be a timestamp or a date string such as '2024-07-01': got "
                            f"{as_of!r}, which is not a date.") from exc
    if ts is not None and pd.isna(ts):
        raise AsOfError(f"{where} must be a timestamp such as '2024-07-01': got a missing value ({as_of!r}).")
    if ts is not None and ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    try:
        if ts is None:
            raise OverflowError
        if ts.tzinfo is None and not (TIMESTAMP_MIN <= ts <= TIMESTAMP_MAX):
            raise OverflowError
        return ts.as_unit("ns")
    except (OverflowError, ValueError) as exc:
        raise AsOfError(f"{where} is outside the dates pandas can represent (1677-09-22 .. 2262-04-11): got "
                        f"{as_of!r}; pass a real cut-off date such as '2024-07-01' (no sentinel dates).") from exc


def shift_days(ts: pd.Timestamp, days) -> pd.Timestamp:
    """``ts`` moved by ``days`` days, held at the first/last instant pandas can represent.

    A window ``[as_of, as_of + horizon)`` or ``[as_of - lookback, as_of)`` that reaches past 2262-04-11 (or before
    1677-09-22) holds exactly the rows of one that ends there, so a cut-off near those edges is not an error.

    >>> shift_days(pd.Timestamp("2262-04-01"), 30)
    Timestamp('2262-04-11 23:47:16.854775807')
    >>> shift_days(pd.Timestamp("2024-01-01"), -1)
    Timestamp('2023-12-31 00:00:00')
    """
    try:
        return (ts.as_unit("ns") + pd.Timedelta(days=days)).as_unit("ns")
    except (OverflowError, ValueError):
        return TIMESTAMP_MAX if days > 0 else TIMESTAMP_MIN


def warn_if_after_data(as_of: pd.Timestamp, timestamps, what: str = "transactions", *, stacklevel: int = 3) -> None:
    """Warn (:class:`AsOfWarning`) when ``as_of`` is more than one day after the last of ``timestamps``.

    ``as_of`` one day after the last row (the CLI's default cut-off) is normal and
    silent; empty data is left to the caller.

    >>> import warnings, pandas as pd
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_after_data(pd.Timestamp("2030-01-01"), pd.Series(pd.to_datetime(["2024-06-30"])))
    >>> print(w[0].message)
    as_of 2030-01-01 is 2011 days after the last row of transactions (2024-06-30): every customer looks inactive for that gap; pass the cut-off that matches the data.
    """
    values = np.asarray(timestamps, dtype="datetime64[ns]")
    if values.size == 0:
        return
    last = values.max()
    if np.isnat(last):
        return
    warn_after_last(as_of, pd.Timestamp(last), what, stacklevel=stacklevel + 1)


def warn_after_last(as_of: pd.Timestamp, last: pd.Timestamp, what: str = "transactions", *,
                    stacklevel: int = 2) -> None:
    """:func:`warn_if_after_data` given the last row's timestamp (``crmml.spark`` merges it over its buckets)."""
    if as_of > last + _GRACE:
        gap = (as_of - last).days
        days = f"{gap} day{'s' if gap != 1 else ''}"
        warnings.warn(f"as_of {_short(as_of)} is {days} after the last row of {what} ({_short(last)}): "
                      "every customer looks inactive for that gap; pass the cut-off that matches the data.",
                      AsOfWarning, stacklevel=stacklevel)


def warn_if_before_data(as_of: pd.Timestamp, timestamps, what: str = "transactions", *,
                        stacklevel: int = 3) -> None:
    """Warn (:class:`AsOfWarning`) when no row of ``timestamps`` lies before ``as_of``: the result is then empty.

    Empty data is left to the caller.

    >>> import warnings, pandas as pd
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_if_before_data(pd.Timestamp("2020-01-01"), pd.Series(pd.to_datetime(["2024-06-30", "2024-07-02"])))
    >>> print(w[0].message)
    as_of 2020-01-01 is on or before the first row of transactions (2024-06-30): none of its 2 rows is read and the result is empty; pass the cut-off that matches the data.
    """
    values = np.asarray(timestamps, dtype="datetime64[ns]")
    if values.size == 0:
        return
    first = values.min()                     # NaT when a value is missing: then the slower NaN-aware minimum
    if np.isnat(first):
        if np.isnat(values).all():
            return
        first = np.nanmin(values)
    warn_before_first(as_of, pd.Timestamp(first), values.size, what, stacklevel=stacklevel + 1)


def warn_before_first(as_of: pd.Timestamp, first: pd.Timestamp, n_rows: int, what: str = "transactions", *,
                      stacklevel: int = 2) -> None:
    """:func:`warn_if_before_data` given the first row's timestamp and the number of rows (merged over buckets)."""
    if as_of <= first:
        warnings.warn(f"as_of {_short(as_of)} is on or before the first row of {what} ({_short(first)}): none of its "
                      f"{n_rows} rows is read and the result is empty; pass the cut-off that matches the data.",
                      AsOfWarning, stacklevel=stacklevel)


def warn_if_outside_data(as_of: pd.Timestamp, timestamps, what: str = "transactions", *,
                         stacklevel: int = 3) -> np.ndarray:
    """:func:`warn_if_after_data` and :func:`warn_if_before_data` on one conversion of ``timestamps``, which is
    returned (``datetime64[ns]``) for the caller's own cut."""
    values = np.asarray(timestamps, dtype="datetime64[ns]")
    warn_if_after_data(as_of, values, what, stacklevel=stacklevel + 1)
    warn_if_before_data(as_of, values, what, stacklevel=stacklevel + 1)
    return values


def _short(ts: pd.Timestamp) -> str:
    return str(ts.date()) if ts == ts.normalize() else str(ts)
