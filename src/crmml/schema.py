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
  values raise. Numeric dates (``05/06/2024``) are read month-first unless a
  value of the column proves it day-first (``13/06/2024``): then all of them
  are read day-first; a column with proof of both orders raises. Naive timestamps are kept as they are; tz-aware ones are
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

import pandas as pd

# The rules live in private modules, one concept each: crmml._schema_errors (SchemaError), crmml._schema_columns
# (column mapping) and crmml._schema_coerce (the dtype of each column kind). Their names stay importable from here,
# the private helpers too (crmml._bad_rows and crmml._utils use some); `validate` looks its helpers up here.
from crmml import _schema_coerce
from crmml._ids import MixedIdWarning
from crmml._schema_coerce import (_LABEL_MAP, _TZ_SUFFIX, _coerce_datetime, _coerce_float, _coerce_id,  # noqa: F401
                                  _coerce_label, _coerce_str, _in_range, _is_tz_aware, _numpy_backed, _text,
                                  normalize_ids)
from crmml._schema_columns import COPY_ON_WRITE, ColumnMap, map_columns, map_frames  # noqa: F401
from crmml._schema_errors import _N_EXAMPLES, SchemaError, _examples, _plain  # noqa: F401
from crmml._time import AsOfError, AsOfWarning, as_timestamp
from crmml.exceptions import ParameterError

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

#: Largest magnitude accepted in a numeric column (sums of 1e6 such values stay far from float overflow).
MAX_ABS_VALUE = _schema_coerce.MAX_ABS_VALUE


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
        raise ParameterError(f"The 'frame' parameter of validate must be one of {sorted(SPECS)}. "
                             f"Got {frame!r} instead.")
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
