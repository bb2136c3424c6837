"""The standard schema: canonical columns, column mapping and validation.

Every crmml function works on canonical column names only. Users map their
own names once with ``columns={"their_name": "canonical_name"}``; each
``validate_*`` function returns a canonical *copy* with proper dtypes or
raises :class:`SchemaError` naming the frame, the column, the problem, how many
rows are bad and a few example values. Rows are never dropped silently.

Rules applied by every validator
--------------------------------
- column names must be unique, also after the ``columns=`` mapping (a mapping
  onto a name the frame already has is refused, naming both columns).
- ids (``customer_id``, ``lead_id``, ``product_id``, ...) must be non-null and
  follow one rule (:func:`normalize_ids`): ids that are all integer-valued
  numbers (``1``, ``1.0``, ``Int64``, ``int64[pyarrow]``) become ``int64``;
  otherwise every id becomes text, integer-valued numbers written canonically
  (``1.0`` -> ``"1"``) and text (even numeric text such as ``"007"``) kept as
  it is. A column mixing text and numbers warns (:class:`MixedIdWarning`).
- timestamps are parsed with :func:`pandas.to_datetime`; nulls and unparseable
  values raise. Naive timestamps are kept as they are; tz-aware ones are
  converted to UTC and made naive; a column that mixes both raises. They must
  lie within 1677-09-22 .. 2262-04-11 (what ``datetime64[ns]`` holds).
- numeric columns (``amount``, ``quantity``, ``value``, ``price``, ``margin``)
  must be numeric, finite and at most ``1e15`` in magnitude (so sums of
  millions of rows stay exact to the cent and cannot overflow). Negative
  amounts are returns or refunds: they are kept (monetary features net them).
- pyarrow-backed columns (``timestamp[ns, tz=UTC][pyarrow]``,
  ``string[pyarrow]``, ``int64[pyarrow]``, ``double[pyarrow]``, ...) and
  pandas' nullable ``Int64``/``Float64``/``boolean`` are accepted everywhere.
- Unique keys (``customers.customer_id``, ``leads.lead_id``,
  ``products.product_id``) must not repeat.
- An empty frame raises.
- Extra columns are kept unchanged (customer and lead attributes live there).

Examples
--------
>>> import pandas as pd
>>> from crmml.schema import validate_transactions
>>> raw = pd.DataFrame({"CustomerID": [1, 1, 2],
...                     "InvoiceDate": ["2024-01-02", "2024-02-01", "2024-01-05"],
...                     "Total": ["10.5", "-2", "7"]})
>>> tx = validate_transactions(raw, columns={"CustomerID": "customer_id",
...                                         "InvoiceDate": "timestamp",
...                                         "Total": "amount"})
>>> list(tx.columns), str(tx["timestamp"].dtype), tx["amount"].tolist()
(['customer_id', 'timestamp', 'amount'], 'datetime64[ns]', [10.5, -2.0, 7.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import pandas as pd

from crmml._ids import MixedIdWarning, canonical_ids
from crmml._time import (OUT_OF_RANGE, TIMESTAMP_MAX, TIMESTAMP_MIN, AsOfError, AsOfWarning, as_timestamp,
                         dates_out_of_range)

#: pandas >= 3 copies on write: a shallow copy shares data until either side writes (never writes through)
COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

__all__ = [
    "SchemaError",
    "AsOfError",
    "AsOfWarning",
    "as_timestamp",
    "MixedIdWarning",
    "MAX_ABS_VALUE",
    "map_columns",
    "map_frames",
    "normalize_ids",
    "FrameSpec",
    "SPECS",
    "validate",
    "validate_transactions",
    "validate_customers",
    "validate_events",
    "validate_leads",
    "validate_products",
]

ColumnMap = Mapping[str, str]


class SchemaError(ValueError):
    """Input data does not fit the crmml standard schema.

    Attributes
    ----------
    frame : str
        Which frame ("transactions", "customers", ...).
    column : str or None
        The offending canonical column.
    n_rows : int
        How many rows show the problem (0 for frame-level problems).
    examples : list
        A few offending values.

    >>> import pandas as pd
    >>> validate_transactions(pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": ["x"]}))
    Traceback (most recent call last):
    crmml.schema.SchemaError: transactions.amount: non-numeric values (1 row; e.g. 'x')
    """

    def __init__(self, frame, column, problem, n_rows=0, examples=()):
        self.frame, self.column, self.problem = frame, column, problem
        self.n_rows, self.examples = int(n_rows), list(examples)
        where = f"{frame}.{column}" if column else frame
        msg = f"{where}: {problem}"
        if n_rows:
            msg += f" ({n_rows} row{'s' if n_rows != 1 else ''}"
            if self.examples:
                msg += f"; e.g. {', '.join(repr(_plain(v)) for v in self.examples)}"
            msg += ")"
        super().__init__(msg)


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


@dataclass(frozen=True)
class FrameSpec:
    """Canonical columns of one frame: ``{name: kind}`` with kind in
    ``id``, ``datetime``, ``float``, ``str``, ``label``.

    >>> from crmml.schema import SPECS
    >>> SPECS["transactions"].required
    {'customer_id': 'id', 'timestamp': 'datetime', 'amount': 'float'}
    """

    name: str
    required: dict
    optional: dict = field(default_factory=dict)
    unique: str | None = None

    @property
    def columns(self) -> dict:
        return {**self.required, **self.optional}


#: The canonical frames: name -> :class:`FrameSpec` (required and optional columns, unique key).
SPECS: dict[str, FrameSpec] = {
    "transactions": FrameSpec(
        "transactions",
        {"customer_id": "id", "timestamp": "datetime", "amount": "float"},
        {"transaction_id": "id", "product_id": "id", "category": "str",
         "quantity": "float", "channel": "str", "store_id": "id"},
    ),
    "customers": FrameSpec(
        "customers", {"customer_id": "id"}, {"signup_date": "datetime"}, unique="customer_id"
    ),
    "events": FrameSpec(
        "events",
        {"customer_id": "id", "timestamp": "datetime", "event_type": "str"},
        {"channel": "str", "value": "float"},
    ),
    "leads": FrameSpec(
        "leads", {"lead_id": "id"}, {"created_at": "datetime", "converted": "label"}, unique="lead_id"
    ),
    "products": FrameSpec(
        "products", {"product_id": "id"},
        {"category": "str", "price": "float", "margin": "float"}, unique="product_id",
    ),
}

_N_EXAMPLES = 3
#: Largest magnitude accepted in a numeric column (sums of 1e6 such values stay far from float overflow).
MAX_ABS_VALUE = 1e15
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"


def _examples(values: pd.Series) -> list:
    return values.drop_duplicates().head(_N_EXAMPLES).tolist()


def map_columns(df: pd.DataFrame, columns: ColumnMap | None = None, frame: str = "frame") -> pd.DataFrame:
    """Rename ``df``'s columns by ``columns`` (their name -> canonical name), refusing ambiguity.

    Refused with :class:`SchemaError`: a column name that appears twice, a mapping from a
    column the frame does not have, two columns mapped onto one name, and a mapping onto a
    name the frame already has (for example ``{"Total": "amount"}`` on a frame with ``amount``).

    >>> import pandas as pd
    >>> map_columns(pd.DataFrame({"Total": [1.0], "amount": [2.0]}), {"Total": "amount"}, "transactions")
    Traceback (most recent call last):
    ...
    crmml.schema.SchemaError: transactions: the column mapping renames 'Total' to 'amount', but the frame already has a column 'amount'; drop one of the two or map it to another name
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(frame, None, f"expected a pandas DataFrame, got {type(df).__name__}")
    dup = df.columns[df.columns.duplicated()]
    if len(dup):
        raise SchemaError(frame, None, f"these column names appear more than once: {sorted(map(str, set(dup)))}; "
                          "give every column a distinct name")
    if not columns:
        # copy-on-write (pandas >= 3): a shallow copy shares the data until either side writes, so
        # validation copies only the columns it converts; pandas 2 needs the deep copy to keep `df` intact
        return df.copy(deep=not COPY_ON_WRITE)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(frame, None, f"column mapping names columns that are not in the frame: "
                          f"{missing}; available: {list(df.columns)[:20]}")
    targets = list(columns.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        sources = [src for src, dst in columns.items() if dst == dup[0]]
        raise SchemaError(frame, None, f"column mapping maps several columns onto {dup} (from {sources})")
    for src, dst in columns.items():
        if dst != src and dst in df.columns and columns.get(dst, dst) == dst:
            raise SchemaError(frame, None, f"the column mapping renames {src!r} to {dst!r}, but the frame already "
                              f"has a column {dst!r}; drop one of the two or map it to another name")
    return df.rename(columns=dict(columns))


def map_frames(columns, **frames) -> dict:
    """Apply one ``columns=`` argument to every frame of a call (``transactions=``, ``events=``, ...).

    ``columns`` is either one mapping (their name -> canonical name) applied to each frame that has the column,
    each of its names being in at least one frame, or a mapping per frame name (``{"events": {...}}``). Every
    rename goes through :func:`map_columns`; frames that are None or need no rename are returned as they are.

    >>> import pandas as pd
    >>> tx, ev = pd.DataFrame({"CustomerID": [1], "Date": ["2024-01-01"]}), pd.DataFrame({"CustomerID": [1]})
    >>> out = map_frames({"CustomerID": "customer_id", "Date": "timestamp"}, transactions=tx, events=ev)
    >>> list(out["transactions"].columns), list(out["events"].columns)
    (['customer_id', 'timestamp'], ['customer_id'])
    """
    if not columns:
        return frames
    if not isinstance(columns, Mapping):
        raise SchemaError(", ".join(frames), None, f"columns= must be a dict {{their_name: canonical_name}}; got "
                          f"{type(columns).__name__}")
    if all(isinstance(v, Mapping) for v in columns.values()):
        unknown = sorted(set(columns) - set(frames))
        if unknown:
            raise SchemaError(", ".join(frames), None, f"columns= names frames {unknown} that this call does not "
                              f"take; it takes {sorted(frames)}")
        return {name: map_columns(df, columns[name], name) if df is not None and columns.get(name) else df
                for name, df in frames.items()}
    seen = set().union(*(map(str, df.columns) for df in frames.values() if isinstance(df, pd.DataFrame)))
    missing = [c for c in columns if str(c) not in seen]
    if missing:
        raise SchemaError(", ".join(n for n, df in frames.items() if df is not None), None,
                          f"column mapping names columns that are in none of the frames: {missing}")
    out = {}
    for name, df in frames.items():
        own = {k: v for k, v in columns.items() if df is not None and k in df.columns}
        out[name] = map_columns(df, own, name) if own else df
    return out


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
    vals = s[~null]
    aware = _is_tz_aware(vals)
    if aware.any() and not aware.all():
        raise SchemaError(frame, col, "mixes timezone-aware and naive timestamps; make them all aware "
                          "or all naive", int((~aware).sum()), _examples(vals[~aware]))
    try:
        parsed = pd.to_datetime(s, errors="coerce", utc=bool(aware.any()), format="mixed")
    except (ValueError, TypeError) as exc:  # pragma: no cover - pandas-version specific
        raise SchemaError(frame, col, f"timestamps could not be parsed: {exc}", len(s)) from exc
    unparsed = parsed.isna() & ~null
    if unparsed.any():
        far = dates_out_of_range(s[unparsed]).dropna()
        if len(far):
            raise SchemaError(frame, col, OUT_OF_RANGE, len(far), _examples(far))
        raise SchemaError(frame, col, "unparseable timestamps", unparsed.sum(), _examples(s[unparsed]))
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return _in_range(parsed, frame, col)


def _is_tz_aware(vals: pd.Series) -> np.ndarray:
    if len(vals) == 0:
        return np.zeros(0, dtype=bool)
    codes, uniques = pd.factorize(vals.to_numpy(dtype=object))    # timestamps repeat: judge each text once
    if len(uniques) < len(vals):
        return _is_tz_aware(pd.Series(uniques, dtype=vals.dtype if len(uniques) else object))[codes]
    if pd.api.types.is_string_dtype(vals.dtype) and not vals.map(type).eq(pd.Timestamp).any():
        return vals.astype(str).str.contains(_TZ_SUFFIX, regex=True).to_numpy()
    out = np.empty(len(vals), dtype=bool)
    for i, v in enumerate(vals.to_numpy()):
        if isinstance(v, str):
            out[i] = bool(pd.Series([v]).str.contains(_TZ_SUFFIX, regex=True).iloc[0])
        else:
            out[i] = getattr(v, "tzinfo", None) is not None
    return out


def _coerce_float(s: pd.Series, frame: str, col: str, allow_null: bool) -> pd.Series:
    if s.dtype == np.float64 and len(s):
        v = s.to_numpy()                # min/max are NaN when a value is: one check, no temporary array
        if -MAX_ABS_VALUE <= v.min() and v.max() <= MAX_ABS_VALUE:
            return s                    # already canonical: no null, infinity or huge value; nothing copied
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


def validate(df: pd.DataFrame, frame: str, columns: ColumnMap | None = None, *,
             require: tuple[str, ...] = (), allow_null: tuple[str, ...] = ()) -> pd.DataFrame:
    """Validate ``df`` as the standard frame ``frame`` and return a canonical copy.

    Parameters
    ----------
    df : DataFrame
        User data.
    frame : {"transactions", "customers", "events", "leads", "products"}
    columns : dict, optional
        Mapping from the user's column names to canonical names.
    require : tuple of str
        Optional canonical columns that this caller needs (for example
        ``("converted",)`` to train a lead model).
    allow_null : tuple of str
        Required or optional datetime/float columns where nulls are allowed
        (for example ``("amount",)`` for a purchase log without amounts).

    Raises
    ------
    SchemaError
        Naming the frame, column, problem, number of bad rows and examples.

    >>> import pandas as pd
    >>> raw = pd.DataFrame({"Cust": [7, 7], "When": ["2024-01-02", "2024-02-01"], "Value": [9.5, -2.0]})
    >>> tx = validate(raw, "transactions", {"Cust": "customer_id", "When": "timestamp", "Value": "amount"})
    >>> list(tx.columns), str(tx["timestamp"].dtype)
    (['customer_id', 'timestamp', 'amount'], 'datetime64[ns]')
    """
    if frame not in SPECS:
        raise ValueError(f"The 'frame' parameter of validate must be one of {sorted(SPECS)}. Got {frame!r} instead.")
    spec = SPECS[frame]
    out = map_columns(df, frame=frame, columns=columns)
    needed = [*spec.required, *[c for c in require if c not in spec.required]]
    missing = [c for c in needed if c not in out.columns]
    if missing:
        hint = " (map your names with columns={'your_name': '%s'})" % missing[0]
        raise SchemaError(frame, missing[0], f"required column is missing; got columns "
                          f"{list(out.columns)[:20]}{hint}")
    if len(out) == 0:
        raise SchemaError(frame, None, "the frame is empty (0 rows)")
    for col in out.columns[[isinstance(t, pd.ArrowDtype) for t in out.dtypes]]:
        out[col] = _numpy_backed(out[col])
    for col, kind in spec.columns.items():
        if col not in out.columns:
            continue
        s = out[col]
        if kind == "id":
            out[col] = _coerce_id(s, frame, col)
        elif kind == "datetime":
            out[col] = _coerce_datetime(s, frame, col, allow_null=col in allow_null or col not in spec.required)
        elif kind == "float":
            out[col] = _coerce_float(s, frame, col, allow_null=col in allow_null or col not in spec.required)
        elif kind == "str":
            out[col] = _coerce_str(s, frame, col)
        elif kind == "label":
            out[col] = _coerce_label(s, frame, col)
    if spec.unique:
        dup = out[spec.unique].duplicated(keep=False)
        if dup.any():
            raise SchemaError(frame, spec.unique, "ids must be unique", dup.sum(),
                              _examples(out.loc[dup, spec.unique]))
    return out


def validate_transactions(df, columns: ColumnMap | None = None, *, allow_missing_amount: bool = False):
    """Validate a transactions frame (``customer_id``, ``timestamp``, ``amount``).

    ``allow_missing_amount=True`` accepts purchase logs without values (amount
    NaN), as used by purchase-count models. See :func:`validate`.

    >>> import pandas as pd
    >>> validate_transactions(pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-02"], "amount": [5]}))
       customer_id  timestamp  amount
    0            1 2024-01-02     5.0
    """
    return validate(df, "transactions", columns, allow_null=("amount",) if allow_missing_amount else ())


def validate_customers(df, columns: ColumnMap | None = None):
    """Validate a customers frame (unique ``customer_id``). See :func:`validate`.

    >>> import pandas as pd
    >>> validate_customers(pd.DataFrame({"customer_id": [1, 1]}))
    Traceback (most recent call last):
    crmml.schema.SchemaError: customers.customer_id: ids must be unique (2 rows; e.g. 1)
    """
    return validate(df, "customers", columns)


def validate_events(df, columns: ColumnMap | None = None):
    """Validate an events frame (``customer_id``, ``timestamp``, ``event_type``). See :func:`validate`.

    >>> import pandas as pd
    >>> ev = pd.DataFrame({"customer_id": [1], "timestamp": ["2024-01-01 09:30"], "event_type": ["web"]})
    >>> validate_events(ev).iloc[0, 1]
    Timestamp('2024-01-01 09:30:00')
    """
    return validate(df, "events", columns)


def validate_leads(df, columns: ColumnMap | None = None, *, require_label: bool = False):
    """Validate a leads frame (unique ``lead_id``); ``require_label`` demands ``converted``.

    >>> import pandas as pd
    >>> leads = pd.DataFrame({"lead_id": ["a", "b"], "converted": ["yes", "no"]})
    >>> validate_leads(leads, require_label=True)["converted"].tolist()
    [1, 0]
    """
    return validate(df, "leads", columns, require=("converted",) if require_label else ())


def validate_products(df, columns: ColumnMap | None = None):
    """Validate a products/offers frame (unique ``product_id``). See :func:`validate`.

    >>> import pandas as pd
    >>> validate_products(pd.DataFrame({"product_id": ["p1", "p2"], "margin": [2, 3.5]}))["margin"].tolist()
    [2.0, 3.5]
    """
    return validate(df, "products", columns)
