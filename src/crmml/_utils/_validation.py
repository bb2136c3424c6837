"""Parameter checks with scikit-learn-style messages, and the point-in-time cut."""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from crmml._time import as_timestamp, warn_if_outside_data
from crmml.exceptions import DataError, ParameterError
from crmml.schema import COPY_ON_WRITE


#: Shared bounds of size-like parameters (checked before any work, so nothing hangs or exhausts memory):
#: forecast/label horizons up to 10 years, look-back windows up to 100 years (pandas timestamps end in 2262),
#: top-k lists up to 10,000 items.
MAX_HORIZON_DAYS = 3650
MAX_WINDOW_DAYS = 36_500
MAX_K = 10_000


def check_number(value, name: str, owner: str, *, kind: str = "int", low=None, high=None,
                 low_inclusive: bool = True, high_inclusive: bool = True):
    """Check that ``value`` is a finite number of ``kind`` ("int" or "float") within bounds.

    NaN and infinities are refused (a float parameter must be finite), as are booleans.
    Raises :class:`crmml.exceptions.ParameterError` (a ``ValueError``) in scikit-learn's wording.

    >>> check_number(45, "horizon_days", "make_churn_labels", low=1)
    45
    >>> check_number(-3, "horizon_days", "make_churn_labels", low=1)
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'horizon_days' parameter of make_churn_labels must be an int >= 1. Got -3 instead.
    >>> check_number(10**8, "horizon_days", "CLVModel", low=1, high=3650)
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'horizon_days' parameter of CLVModel must be an int in [1, 3650]. Got 100000000 instead.
    """
    ok_type = (isinstance(value, numbers.Integral) if kind == "int" else isinstance(value, numbers.Real))
    ok = ok_type and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value >= low if low_inclusive else value > low
    if ok and high is not None:
        ok = value <= high if high_inclusive else value < high
    if not ok:
        if low is not None and high is not None:
            bounds = f" in {'[' if low_inclusive else '('}{low}, {high}{']' if high_inclusive else ')'}"
        elif low is not None:
            bounds = f" {'>=' if low_inclusive else '>'} {low}"
        elif high is not None:
            bounds = f" {'<=' if high_inclusive else '<'} {high}"
        else:
            bounds = ""
        article = "an" if kind == "int" else "a"
        raise ParameterError(f"The {name!r} parameter of {owner} must be {article} {kind}{bounds}. "
                             f"Got {value!r} instead.")
    return value


def check_in(value, name: str, owner: str, options):
    """Check that ``value`` is one of ``options``.

    >>> check_in("W", "freq", "summarize", ("D", "W"))
    'W'
    """
    if value not in options:
        raise ParameterError(f"The {name!r} parameter of {owner} must be one of {list(options)}. "
                             f"Got {value!r} instead.")
    return value


def check_as_of(as_of, owner: str = "this function", name: str = "as_of") -> pd.Timestamp:
    """Parse ``as_of`` by crmml's one cut-off rule (:func:`crmml._time.as_timestamp`).

    >>> check_as_of("2024-03-01")
    Timestamp('2024-03-01 00:00:00')
    """
    return as_timestamp(as_of, name, owner=owner)


def history_before(df: pd.DataFrame, as_of: pd.Timestamp, column: str = "timestamp") -> pd.DataFrame:
    """Rows strictly before ``as_of``: the only rows point-in-time features may read.

    Warns (:class:`crmml._time.AsOfWarning`) when ``as_of`` lies more than a day after the last row, or on or
    before the first one (nothing is read).
    """
    before = warn_if_outside_data(as_of, df[column], stacklevel=4) < as_of.to_datetime64()
    if before.all():                  # nothing to cut: a new frame object, the data copied only on write
        return df.copy(deep=not COPY_ON_WRITE)
    return df.loc[before]


def check_horizon(t, owner: str, name: str = "t"):
    """A forecast length (a number or an array of them): finite and >= 0, as a float array, else ParameterError.

    >>> check_horizon(39, "BetaGeoModel.expected_purchases")
    array(39.)
    >>> check_horizon(-5, "BetaGeoModel.expected_purchases")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 't' parameter of BetaGeoModel.expected_purchases must be a finite number >= 0 (time units of the summary), or an array of them. Got -5 instead.
    """
    try:
        out = None if isinstance(t, (str, bool)) else np.asarray(t, dtype="float64")
    except (TypeError, ValueError):
        out = None
    if out is None or not np.isfinite(out).all() or (out < 0).any():
        raise ParameterError(f"The {name!r} parameter of {owner} must be a finite number >= 0 (time units of the "
                             f"summary), or an array of them. Got {t!r} instead.")
    return out


def check_paired(owner: str, values: dict) -> None:
    """Refuse Series that are paired by position but indexed by the same labels in another order.

    ``values``: name -> array-like. Metrics take their arrays row by row (``y[i]`` with ``score[i]``); two
    Series that hold the same labels in different orders would pair the wrong rows, so
    :class:`crmml.exceptions.ParameterError` says how to align them. Arrays, lists and Series with the same index
    (or with unrelated labels) pass.

    >>> y = pd.Series([1, 0], index=[10, 11]); s = pd.Series([0.2, 0.9], index=[11, 10])
    >>> check_paired("qini_curve", {"y": y, "score": s})
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: qini_curve: y and score are Series indexed by the same labels in another order; they are paired by position, so the rows would be mismatched. Pass score.reindex(y.index).
    """
    series = [(n, v.index) for n, v in values.items() if isinstance(v, pd.Series)]
    for n, bi in series[1:]:                          # each against the first
        n0, ai = series[0]
        if not ai.equals(bi) and len(ai) == len(bi) and ai.is_unique and bi.is_unique and bi.isin(ai).all():
            raise ParameterError(f"{owner}: {n0} and {n} are Series indexed by the same labels in another order; "
                                 f"they are paired by position, so the rows would be mismatched. Pass "
                                 f"{n}.reindex({n0}.index).")


def check_aligned(values, X, name: str, owner: str) -> None:
    """Refuse a Series whose index says it belongs to other rows of ``X`` than its position does.

    A Series is paired with ``X`` by position (scikit-learn's convention); when its index holds ``X``'s labels in
    another order, or shares ``X``'s index name (``customer_id``) but not its labels, positions would pair the
    wrong rows, so :class:`crmml.exceptions.ParameterError` says how to align it. A default RangeIndex is positional.

    >>> X = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index([7, 8], name="customer_id"))
    >>> check_aligned(pd.Series([0, 1], index=pd.Index([8, 7], name="customer_id")), X, "y", "ChurnModel.fit")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'y' parameter of ChurnModel.fit is indexed by the labels of X's rows in another order; paired by position, it would give rows the wrong values. Pass y.reindex(X.index).
    """
    if not isinstance(values, pd.Series) or not isinstance(X, pd.DataFrame) or values.index.equals(X.index):
        return
    vi, xi = values.index, X.index
    if len(vi) == len(xi) and vi.is_unique and xi.is_unique and vi.isin(xi).all():
        raise ParameterError(f"The {name!r} parameter of {owner} is indexed by the labels of X's rows in another "
                             f"order; paired by position, it would give rows the wrong values. Pass "
                             f"{name}.reindex(X.index).")
    missing = int((~xi.isin(vi)).sum()) if vi.names == xi.names and any(n is not None for n in xi.names) else 0
    if missing:
        raise ParameterError(f"The {name!r} parameter of {owner} is indexed by {'/'.join(map(str, xi.names))} like X, "
                             f"but {missing} of X's {len(xi)} labels are not in its index; pass one value per row of "
                             f"X ({name}.reindex(X.index)).")


def check_unique_ids(index: pd.Index, name: str, owner: str) -> None:
    """ValueError naming the customer ids that ``index`` holds more than once (one row or value per id expected).

    >>> check_unique_ids(pd.Index([1, 2, 1]), "values", "segment_summary")
    Traceback (most recent call last):
    ...
    crmml.exceptions.DataError: segment_summary: values holds 1 customer id(s) more than once, e.g. [1]; give each customer_id once.
    """
    if index.has_duplicates:
        dup = index[index.duplicated()].unique()
        raise DataError(f"{owner}: {name} holds {len(dup):,} customer id(s) more than once, e.g. "
                        f"{dup[:3].tolist()}; give each customer_id once.")


def check_segments(segments: pd.Series, name: str, owner: str) -> pd.Series:
    """``segments`` (a segment per customer id) when each id is given once and has a segment, else a ValueError.

    A missing segment (NaN) is refused with the count: value_counts, groupby and crosstab would leave that customer
    out of every row.

    >>> check_segments(pd.Series(["a", None, None], index=[1, 2, 3]), "segments", "segment_summary")
    Traceback (most recent call last):
    ...
    crmml.exceptions.DataError: segment_summary: segments has no segment for 2 of 3 customers (e.g. [2, 3]); give every customer a segment (for example 'unassigned') or leave them out.
    """
    check_unique_ids(segments.index, name, owner)
    missing = segments.isna()
    if missing.any():
        raise DataError(f"{owner}: {name} has no segment for {int(missing.sum()):,} of {len(segments):,} customers "
                        f"(e.g. {segments.index[missing.to_numpy()][:3].tolist()}); give every customer a segment "
                        "(for example 'unassigned') or leave them out.")
    return segments


def check_names(value, name: str, owner: str):
    """None or a list/tuple of column names; a bare string (iterated letter by letter) is refused.

    >>> check_names(["duration"], "exclude", "LeadScorer")
    ['duration']
    >>> check_names("duration", "exclude", "LeadScorer")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'exclude' parameter of LeadScorer must be None or a list of column names. Got 'duration' instead (write ['duration']).
    """
    if value is None:
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset, pd.Index, np.ndarray)):
        hint = f" (write [{value!r}])" if isinstance(value, str) else ""
        raise ParameterError(f"The {name!r} parameter of {owner} must be None or a list of column names. "
                             f"Got {value!r} instead{hint}.")
    return value


def check_estimator(est, name: str, owner: str, methods=("fit", "predict_proba")):
    """An object with ``get_params`` (so it can be cloned) and ``methods``, else ParameterError naming it.

    >>> check_estimator("xgb", "model", "backtest")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: The 'model' parameter of backtest must be an estimator with fit and predict_proba. Got 'xgb' instead.
    """
    if not all(callable(getattr(est, m, None)) for m in ("get_params", *methods)):
        raise ParameterError(f"The {name!r} parameter of {owner} must be an estimator with {' and '.join(methods)}. "
                             f"Got {est!r} instead.")
    return est


def check_feature_frame(X, owner: str) -> None:
    """``X`` must be a DataFrame whose column names are unique (a repeated name selects a frame, not a column).

    >>> check_feature_frame(pd.DataFrame([[1, 2]], columns=["a", "a"]), "ChurnModel.fit")
    Traceback (most recent call last):
    ...
    crmml.exceptions.ParameterError: ChurnModel.fit: X has repeated column names ['a']; give every column a distinct name.
    """
    if isinstance(X, pd.DataFrame) and X.columns.has_duplicates:
        dup = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise ParameterError(f"{owner}: X has repeated column names {dup[:10]}; give every column a distinct name.")
