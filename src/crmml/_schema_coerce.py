"""Dtype coercion of each canonical column kind (ids, datetimes, floats, text, labels) for
:func:`crmml.schema.validate`; the rules are listed in :mod:`crmml.schema`'s docstring.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._ids import MixedIdWarning, canonical_ids
from crmml._schema_errors import _N_EXAMPLES, SchemaError, _examples
from crmml._time import OUT_OF_RANGE, TIMESTAMP_MAX, TIMESTAMP_MIN, dates_out_of_range

MAX_ABS_VALUE = 1e15                            # documented where it is public: crmml.schema.MAX_ABS_VALUE
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"


def normalize_ids(ids, *, name: str = "customer_id", frame: str = "ids"):
    """Apply crmml's one id rule (see the module docstring) to ``ids``.

    Parameters
    ----------
    ids : Series, Index, ndarray or list
        Ids, without nulls.
    name, frame : str
        Column and frame named in errors and warnings.

    Returns
    -------
    Series or ndarray
        ``int64`` when every id is an integer-valued number that fits, else text. A Series
        (index kept) when ``ids`` is a Series, else a NumPy array.

    Raises
    ------
    SchemaError
        When an id is null.

    Warns
    -----
    MixedIdWarning
        When text and numbers are mixed (every id is then text), with the counts.

    Examples
    --------
    >>> normalize_ids([1, 1.0, 2]).tolist()
    [1, 1, 2]
    >>> normalize_ids(["007", "8"]).tolist()
    ['007', '8']
    """
    s = ids if isinstance(ids, pd.Series) else pd.Series(ids)
    null = s.isna().to_numpy(dtype=bool)
    if null.any():
        rows = s.index[null][:_N_EXAMPLES].tolist()
        raise SchemaError(frame, name, f"null ids are not allowed (at index {rows})", null.sum(), [None])
    out, n_text, n_numbers = canonical_ids(s)
    if n_text and n_numbers:
        import warnings

        warnings.warn(f"{frame}.{name} mixes {n_text:,} text and {n_numbers:,} numeric ids: all ids are treated as "
                      "text (1 and 1.0 -> '1'); store the column as one type to silence this.",
                      MixedIdWarning, stacklevel=3)
    return out if isinstance(ids, pd.Series) else out.to_numpy()


def _coerce_id(s: pd.Series, frame: str, col: str) -> pd.Series:
    return normalize_ids(s, name=col, frame=frame)


def _numpy_backed(s: pd.Series) -> pd.Series:
    """pyarrow-backed columns as their NumPy/pandas equivalents (timestamps, dates, numbers, text)."""
    if not isinstance(s.dtype, pd.ArrowDtype):
        return s
    import pyarrow as pa

    t = s.dtype.pyarrow_dtype
    if pa.types.is_timestamp(t):
        return s.astype(pd.DatetimeTZDtype(unit=t.unit, tz=t.tz) if t.tz else f"datetime64[{t.unit}]")
    if pa.types.is_date(t):
        return s.astype("datetime64[s]")
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return s.astype("float64") if s.isna().any() or not pa.types.is_integer(t) else s.astype("int64")
    if pa.types.is_boolean(t):
        return s.astype("boolean")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _text(s)
    if pa.types.is_dictionary(t):
        return s.astype(object).astype("category")
    return s


def _in_range(parsed: pd.Series, frame: str, col: str) -> pd.Series:
    """``datetime64[ns]``, or SchemaError for timestamps outside what nanoseconds can hold."""
    if parsed.dtype == "datetime64[ns]" or len(parsed) == 0:
        return parsed                                   # nanoseconds cannot be out of range
    if TIMESTAMP_MIN <= parsed.min() and parsed.max() <= TIMESTAMP_MAX:
        return parsed.astype("datetime64[ns]")
    bad = ((parsed < TIMESTAMP_MIN) | (parsed > TIMESTAMP_MAX)).to_numpy(dtype=bool)
    if bad.any():
        raise SchemaError(frame, col, OUT_OF_RANGE, bad.sum(), [str(v) for v in _examples(parsed[bad])])
    return parsed.astype("datetime64[ns]")


def _coerce_datetime(s: pd.Series, frame: str, col: str, allow_null: bool) -> pd.Series:
    null = s.isna()
    if null.any() and not allow_null:
        raise SchemaError(frame, col, "missing timestamps (null/NaT) are not allowed", null.sum(), [None])
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return _in_range(s.dt.tz_convert("UTC").dt.tz_localize(None), frame, col)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return _in_range(s, frame, col)
    if pd.api.types.is_numeric_dtype(s.dtype):
        raise SchemaError(frame, col, f"expected datetimes or date strings, got numeric dtype {s.dtype}; "
                          "convert epoch numbers with pd.to_datetime(..., unit=...) first",
                          len(s), _examples(s))
    codes, uniques = pd.factorize(s.to_numpy(dtype=object))
    if len(uniques) <= len(s) // 2:
        # timestamps repeat (every line of a basket): parse each distinct text once; the rules are per value, so
        # the result is the same. An error is raised again from every row, so its row counts are rows, not texts.
        try:
            once = _parse_text(pd.Series(uniques, dtype=s.dtype), frame, col)
        except SchemaError:
            return _in_range(_parse_text(s, frame, col, null), frame, col)
        once = once.to_numpy()                  # datetime64 in the unit pandas parsed to; checked in _in_range
        out = pd.Series(np.append(once, np.array(["NaT"], dtype=once.dtype))[codes], index=s.index, name=s.name)
        return _in_range(out, frame, col)
    return _in_range(_parse_text(s, frame, col, null), frame, col)


def _parse_text(s: pd.Series, frame: str, col: str, null: pd.Series | None = None) -> pd.Series:
    """Text (or object) timestamps as naive UTC datetime64 (the unit pandas parsed to, checked and made ``ns`` by
    :func:`_in_range`); NaT where ``null``; a SchemaError otherwise."""
    null = s.isna() if null is None else null
    vals = s[~null]
    aware = _is_tz_aware(vals)
    if aware.any() and not aware.all():
        raise SchemaError(frame, col, "mixes timezone-aware and naive timestamps; make them all aware "
                          "or all naive", int((~aware).sum()), _examples(vals[~aware]))
    try:
        parsed = pd.to_datetime(s, errors="coerce", utc=bool(aware.any()), format="mixed")
    except (ValueError, TypeError) as exc:  # pragma: no cover - pandas-version specific
        raise SchemaError(frame, col, f"timestamps could not be parsed: {exc}", len(s)) from exc
    parsed = _day_first(s, parsed, aware.any(), frame, col)
    unparsed = parsed.isna() & ~null
    if unparsed.any():
        far = dates_out_of_range(s[unparsed]).dropna()
        if len(far):
            raise SchemaError(frame, col, OUT_OF_RANGE, len(far), _examples(far))
        raise SchemaError(frame, col, "unparseable timestamps", unparsed.sum(), _examples(s[unparsed]))
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed


_NUMERIC_DATE = r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-]\d{2,4}(?!\d)"


def _day_first(s: pd.Series, parsed: pd.Series, utc: bool, frame: str, col: str) -> pd.Series:
    """Re-read numeric dates (``05/06/2024``, ``5.6.24``) day-first when another row of the column proves the
    column is day-first (its first number above 12: ``13/06/2024``). ``format="mixed"`` reads each value on its
    own, month-first unless impossible, so such a column silently got May 6 next to June 13. A column with
    proof of both orders is refused; with proof of neither, month-first (pandas' default) stays."""
    if not (pd.api.types.is_string_dtype(s.dtype) or s.dtype == object):
        return parsed
    text = s.astype(str)
    hit = text.str.match(_NUMERIC_DATE).fillna(False).to_numpy(dtype=bool)
    if not hit.any():
        return parsed
    codes, heads = pd.factorize(text[hit].str.slice(0, 11))     # the dates repeat: read each one once
    nums = pd.Series(heads).str.extract(_NUMERIC_DATE).astype(float)
    day1 = ((nums[0] > 12) & (nums[1] <= 12)).to_numpy()[codes]
    month1 = ((nums[1] > 12) & (nums[0] <= 12)).to_numpy()[codes]
    if not day1.any():
        return parsed
    if month1.any():
        n_day, n_month = int(day1.sum()), int(month1.sum())
        raise SchemaError(frame, col, f"mixes day-first dates ({n_day:,} row{'s' * (n_day > 1)} such as "
                          f"{text[hit][day1].iloc[0]!r}) and month-first ones ({n_month:,} row"
                          f"{'s' * (n_month > 1)} such as {text[hit][month1].iloc[0]!r}); write every date in one "
                          "order (YYYY-MM-DD is unambiguous)", n_day + n_month)
    out = parsed.copy()
    out[hit] = pd.to_datetime(s[hit], errors="coerce", utc=utc, format="mixed", dayfirst=True)
    return out


def _is_tz_aware(vals: pd.Series) -> np.ndarray:
    if len(vals) == 0:
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(vals.to_numpy(dtype=object))    # timestamps repeat: judge each text once
    if len(uniques) < len(vals):
        return _is_tz_aware(pd.Series(uniques, dtype=vals.dtype if len(uniques) else object))[codes]
    if pd.api.types.is_string_dtype(vals.dtype) and not vals.map(type).eq(pd.Timestamp).any():
        return vals.astype(str).str.contains(_TZ_SUFFIX, regex=True).to_numpy()
    objs = vals.to_numpy(dtype=object)             # texts beside datetime objects: one regex pass over the texts
    text = np.fromiter((isinstance(v, str) for v in objs), dtype=bool, count=len(objs))
    aware = np.empty(len(objs), dtype=bool)
    aware[text] = pd.Series(objs[text], dtype=object).str.contains(_TZ_SUFFIX, regex=True).to_numpy(dtype=bool)
    aware[~text] = [getattr(v, "tzinfo", None) is not None for v in objs[~text]]
    return aware


def _clean_floats(s: pd.Series) -> bool:
    """True for a non-empty numpy float column with no null, infinity or value above ``MAX_ABS_VALUE``.

    Two reductions and no temporary array: min/max are NaN when any value is.
    """
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind == "f" and len(s)):
        return False
    v = s.to_numpy()
    return bool(-MAX_ABS_VALUE <= v.min() and v.max() <= MAX_ABS_VALUE)


def _coerce_float(s: pd.Series, frame: str, col: str, allow_null: bool) -> pd.Series:
    if s.dtype == np.float64 and _clean_floats(s):
        return s                        # already canonical: no null, infinity or huge value; nothing copied
    null = s.isna()
    if pd.api.types.is_bool_dtype(s.dtype):
        out = s.astype("float64")
    else:
        out = pd.to_numeric(s, errors="coerce").astype("float64")
    bad = out.isna() & ~null
    if bad.any():
        raise SchemaError(frame, col, "non-numeric values", bad.sum(), _examples(s[bad]))
    inf = np.isinf(out.to_numpy())
    if inf.any():
        raise SchemaError(frame, col, "infinite values", inf.sum(), _examples(s[inf]))
    huge = (np.abs(out.to_numpy()) > MAX_ABS_VALUE)
    if huge.any():
        raise SchemaError(frame, col, f"values larger than {MAX_ABS_VALUE:.0e} in magnitude (sums of them would "
                          "lose precision or overflow); check the units or fix these rows", huge.sum(),
                          _examples(s[huge]))
    if null.any() and not allow_null:
        raise SchemaError(frame, col, "missing values are not allowed", null.sum(), [None])
    return out


def _text(s: pd.Series) -> pd.Series:
    """Text as pandas' default text dtype, missing values kept missing (pandas 2 writes them as '<NA>')."""
    return s.astype("str").where(s.notna(), np.nan)


def _coerce_str(s: pd.Series, frame: str, col: str) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return s
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return _text(s)                 # string[pyarrow] / StringDtype(pd.NA) -> pandas' default text dtype
    null = s.isna()
    out = s.astype(str)
    return out.where(~null, None) if null.any() else out


_LABEL_MAP = {"1": 1, "0": 0, "yes": 1, "no": 0, "true": 1, "false": 0, "y": 1, "n": 0}


def _coerce_label(s: pd.Series, frame: str, col: str) -> pd.Series:
    null = s.isna()
    if null.any():
        raise SchemaError(frame, col, "missing labels; drop unlabelled rows before training",
                          null.sum(), [None])
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("int64")
    if pd.api.types.is_numeric_dtype(s.dtype):
        ok = s.isin([0, 1])
        mapped = s.where(ok)
    else:
        mapped = s.astype(str).str.strip().str.lower().map(_LABEL_MAP)
        ok = mapped.notna()
    if not ok.all():
        raise SchemaError(frame, col, "labels must be 0/1 (or yes/no, true/false)",
                          (~ok).sum(), _examples(s[~ok]))
    return mapped.astype("int64")
