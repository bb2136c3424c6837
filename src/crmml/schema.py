"""The standard schema: canonical columns, column mapping and validation.

Every crmml function works on canonical column names only. Users map their
own names once with ``columns={"their_name": "canonical_name"}``; each
``validate_*`` function returns a canonical *copy* with proper dtypes or
raises :class:`SchemaError` naming the frame, the column, the problem, how many
rows are bad and a few example values. Rows are never dropped silently.

Rules applied by every validator
--------------------------------
- ids (``customer_id``, ``lead_id``, ``product_id``, ...) must be non-null;
  integer-valued ids become ``int64``, anything else becomes ``str``.
- timestamps are parsed with :func:`pandas.to_datetime`; nulls and unparseable
  values raise. Naive timestamps are kept as they are; tz-aware ones are
  converted to UTC and made naive; a column that mixes both raises.
- ``amount`` must be numeric and finite. Negative amounts are returns or
  refunds: they are kept (monetary features net them).
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

__all__ = [
    "SchemaError",
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
    ``id``, ``datetime``, ``float``, ``str``, ``label``."""

    name: str
    required: dict
    optional: dict = field(default_factory=dict)
    unique: str | None = None

    @property
    def columns(self) -> dict:
        return {**self.required, **self.optional}


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
_TZ_SUFFIX = r"(?:Z|[+-]\d{2}:?\d{2})\s*$"


def _examples(values: pd.Series) -> list:
    return values.drop_duplicates().head(_N_EXAMPLES).tolist()


def _rename(df: pd.DataFrame, frame: str, columns: ColumnMap | None) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(frame, None, f"expected a pandas DataFrame, got {type(df).__name__}")
    if not columns:
        return df.copy()
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(frame, None, f"column mapping names columns that are not in the frame: "
                          f"{missing}; available: {list(df.columns)[:20]}")
    targets = list(columns.values())
    dup = sorted({t for t in targets if targets.count(t) > 1})
    if dup:
        raise SchemaError(frame, None, f"column mapping maps several columns onto {dup}")
    out = df.rename(columns=dict(columns))
    if out.columns.duplicated().any():
        raise SchemaError(frame, None, "after mapping, these columns appear twice: "
                          f"{sorted(set(out.columns[out.columns.duplicated()]))}")
    return out


def _coerce_id(s: pd.Series, frame: str, col: str) -> pd.Series:
    bad = s.isna()
    if bad.any():
        rows = s.index[bad.to_numpy()][:_N_EXAMPLES].tolist()
        raise SchemaError(frame, col, f"null ids are not allowed (at index {rows})", bad.sum(), [None])
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("int64")
    if pd.api.types.is_float_dtype(s.dtype):
        if np.all(np.mod(s.to_numpy(), 1) == 0):
            return s.astype("int64")
        return s.astype(str)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("int64")
    return s.astype(str)


def _coerce_datetime(s: pd.Series, frame: str, col: str, allow_null: bool) -> pd.Series:
    null = s.isna()
    if null.any() and not allow_null:
        raise SchemaError(frame, col, "missing timestamps (null/NaT) are not allowed", null.sum(), [None])
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.astype("datetime64[ns]")
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
        raise SchemaError(frame, col, "unparseable timestamps", unparsed.sum(), _examples(s[unparsed]))
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def _is_tz_aware(vals: pd.Series) -> np.ndarray:
    if len(vals) == 0:
        return np.zeros(0, dtype=bool)
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
    if null.any() and not allow_null:
        raise SchemaError(frame, col, "missing values are not allowed", null.sum(), [None])
    return out


def _coerce_str(s: pd.Series, frame: str, col: str) -> pd.Series:
    if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype) and \
            not pd.api.types.is_object_dtype(s.dtype):
        return s
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
    """
    if frame not in SPECS:
        raise ValueError(f"The 'frame' parameter of validate must be one of {sorted(SPECS)}. Got {frame!r} instead.")
    spec = SPECS[frame]
    out = _rename(df, frame, columns)
    needed = [*spec.required, *[c for c in require if c not in spec.required]]
    missing = [c for c in needed if c not in out.columns]
    if missing:
        hint = " (map your names with columns={'your_name': '%s'})" % missing[0]
        raise SchemaError(frame, missing[0], f"required column is missing; got columns "
                          f"{list(out.columns)[:20]}{hint}")
    if len(out) == 0:
        raise SchemaError(frame, None, "the frame is empty (0 rows)")
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
    """
    return validate(df, "transactions", columns, allow_null=("amount",) if allow_missing_amount else ())


def validate_customers(df, columns: ColumnMap | None = None):
    """Validate a customers frame (unique ``customer_id``). See :func:`validate`."""
    return validate(df, "customers", columns)


def validate_events(df, columns: ColumnMap | None = None):
    """Validate an events frame (``customer_id``, ``timestamp``, ``event_type``). See :func:`validate`."""
    return validate(df, "events", columns)


def validate_leads(df, columns: ColumnMap | None = None, *, require_label: bool = False):
    """Validate a leads frame (unique ``lead_id``); ``require_label`` demands ``converted``."""
    return validate(df, "leads", columns, require=("converted",) if require_label else ())


def validate_products(df, columns: ColumnMap | None = None):
    """Validate a products/offers frame (unique ``product_id``). See :func:`validate`."""
    return validate(df, "products", columns)
