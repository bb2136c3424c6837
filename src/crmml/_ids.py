"""The one id rule (``customer_id``, ``lead_id``, ``product_id``, ...), without null handling.

:func:`crmml.schema.normalize_ids` is the public entry point (it refuses nulls and warns
on mixed ids); this module holds the conversion itself:

1. ids that are all integer-valued numbers (ints of any width, bools, floats such as
   ``1.0``, nullable ``Int64``, ``int64[pyarrow]``) and fit in int64 become ``int64``;
2. anything else becomes text (``str``): text stays as it is (numeric strings such as
   ``"00123"`` stay text: leading zeros matter in account numbers), integer-valued numbers
   are written canonically (``1``, ``1.0`` and ``np.int64(1)`` all become ``"1"``), other
   numbers as Python writes them (``1.5`` -> ``"1.5"``).

So object ids ``[1, 1.0]`` are one customer (``int64`` 1), and ``[1, "1"]`` are one customer
(``"1"``).

>>> import pandas as pd
>>> canonical_ids(pd.Series([1, 1.0, 2], dtype=object))[0].tolist()
[1, 1, 2]
>>> out, n_text, n_numbers = canonical_ids(pd.Series([1.0, "a"], dtype=object))
>>> out.tolist(), n_text, n_numbers
(['1', 'a'], 1, 1)
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from crmml.exceptions import CrmmlWarning

__all__ = ["canonical_ids", "MixedIdWarning"]

_LIMIT = 2.0 ** 63


class MixedIdWarning(CrmmlWarning):
    """An id column mixes text and numbers: every id is then treated as text.

    >>> import warnings, pandas as pd
    >>> from crmml.schema import normalize_ids
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     ids = normalize_ids(pd.Series([17850, "A-1"], dtype=object))
    >>> ids.tolist(), caught[0].category.__name__
    (['17850', 'A-1'], 'MixedIdWarning')
    """


def _canon_one(v) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        return str(int(f)) if np.isfinite(f) and f.is_integer() else repr(f)
    return str(v)


def _text(s: pd.Series) -> pd.Series:
    if pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
        return s.astype("str")
    return s.map(_canon_one).astype("str")


def _from_floats(s: pd.Series) -> pd.Series:
    x = s.to_numpy(dtype="float64")
    with np.errstate(invalid="ignore", over="ignore"):
        ints = x.astype("int64")                 # NaN, inf and |x| >= 2**63 do not survive the round trip
    if (ints == x).all() and not (np.abs(x) >= _LIMIT).any():
        return pd.Series(ints, index=s.index, name=s.name)
    return pd.Series(x, index=s.index, name=s.name, dtype=object).map(_canon_one).astype("str")


def canonical_ids(s: pd.Series) -> tuple[pd.Series, int, int]:
    """Apply the id rule to ``s`` (no nulls); return ``(ids, n_text, n_numbers)``.

    ``n_text`` and ``n_numbers`` count text and numeric values when a column mixes both
    (both 0 otherwise).
    """
    dtype = s.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return canonical_ids(s.astype(object))
    if pd.api.types.is_bool_dtype(dtype):
        return s.astype("int64"), 0, 0
    if pd.api.types.is_integer_dtype(dtype):
        if pd.api.types.is_unsigned_integer_dtype(dtype) and len(s) and int(s.max()) >= _LIMIT:
            return _text(s.astype(object)), 0, 0
        return s.astype("int64"), 0, 0
    if pd.api.types.is_float_dtype(dtype):
        return _from_floats(s), 0, 0
    if not pd.api.types.is_object_dtype(dtype):
        return _text(s), 0, 0
    kind = pd.api.types.infer_dtype(s, skipna=False)
    if kind in ("integer", "boolean"):
        try:
            return s.astype("int64"), 0, 0
        except OverflowError:            # Python ints beyond int64
            return _text(s), 0, 0
    if kind in ("floating", "mixed-integer-float", "decimal"):
        return _from_floats(s), 0, 0
    if kind in ("string", "bytes"):
        return _text(s), 0, 0
    is_text = s.map(lambda v: isinstance(v, (str, bytes))).to_numpy(dtype=bool)
    is_number = s.map(lambda v: isinstance(v, (numbers.Number, np.bool_))).to_numpy(dtype=bool)
    n_text, n_numbers = int(is_text.sum()), int(is_number.sum())
    if not n_text:
        try:
            return _from_floats(s), 0, 0
        except (TypeError, ValueError):
            pass
    return _text(s), (n_text if n_numbers else 0), (n_numbers if n_text else 0)
