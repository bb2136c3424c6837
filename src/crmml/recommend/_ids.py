"""Requested customer ids converted to the id type a recommender was fitted on.

The rule is the schema's (:func:`crmml.schema.normalize_ids`): integer-valued ids are ``int64``,
anything else is ``str`` with integer-valued numbers written canonically (``1.0`` -> ``"1"``,
the same conversion, :func:`crmml._ids._canon_one`). A request is converted to the type the
model was fitted on: ``"1"`` finds customer 1 of a model fitted on integer ids.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from crmml._ids import _canon_one
from crmml._utils._warn import warn_counts
from crmml.exceptions import ColdStartWarning, IdTypeError

_N_EXAMPLES = 5


def _as_int(v):
    """``v`` as an int when it is an integer value (1, 1.0, "1", " 1 "), else None."""
    if isinstance(v, (bool, np.bool_)):
        return None
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        return int(v) if np.isfinite(v) and float(v).is_integer() else None
    if isinstance(v, str):
        t = v.strip()
        if t[:1] in "+-":
            sign, t = t[0], t[1:]
        else:
            sign = ""
        return int(sign + t) if t.isdigit() else None
    return None


def customer_ids_like(customers, fitted: pd.Index, owner: str, *, warn_unknown: bool = True,
                      unknown_get: str = "the cold-start list (recent popular products)") -> np.ndarray:
    """Unique requested ids (first occurrence order) in the dtype of ``fitted`` (int64 or str).

    Ids that cannot be converted (text such as ``"C7"`` for a model fitted on integer ids,
    missing ids) raise :class:`crmml.exceptions.IdTypeError`; ids unseen in fit stay in the
    result (cold start) and, with ``warn_unknown``, issue one
    :class:`crmml.exceptions.ColdStartWarning` with their count and what they get (``unknown_get``).

    Examples
    --------
    >>> import pandas as pd
    >>> customer_ids_like(["1", 2.0, 2], pd.Index([1, 2, 3]), "NextBestOffer.recommend")
    array([1, 2])
    >>> customer_ids_like([1, "C2"], pd.Index(["1", "C2"]), "NextBestOffer.recommend")
    array(['1', 'C2'], dtype=object)
    """
    values = pd.Series(customers, dtype=object) if not isinstance(customers, pd.Series) else customers.astype(object)
    missing = values.isna().to_numpy()
    if missing.any():
        raise IdTypeError(f"{owner}: {int(missing.sum())} missing customer id(s) (None/NaN); pass real ids.")
    raw = values.to_numpy()
    if pd.api.types.is_integer_dtype(fitted.dtype):
        conv = [_as_int(v) for v in raw]
        bad = [v for v, c in zip(raw, conv) if c is None]
        if bad:
            ex = list(dict.fromkeys(map(repr, bad)))[:_N_EXAMPLES]
            raise IdTypeError(f"{owner}: the model was fitted on integer customer ids, but {len(bad)} requested "
                              f"id(s) are not integers, e.g. {', '.join(ex)}. Pass the ids as they appear in the "
                              "training transactions (integer-valued ids are integers, by the schema's id rule).")
        big = [v for v, c in zip(raw, conv) if not -2**63 <= c < 2**63]
        if big:                                    # no fitted id is that large (int64)
            raise IdTypeError(f"{owner}: {len(big)} requested id(s) are integers beyond the int64 range of the "
                              f"model's ids, e.g. {', '.join(map(repr, big[:_N_EXAMPLES]))}; pass real customer ids.")
        ids = np.asarray(pd.unique(np.asarray(conv, dtype=np.int64)), dtype=np.int64)
    else:
        ids = np.asarray(pd.unique(pd.Series([_canon_one(v) for v in raw], dtype=object)), dtype=object)
    if warn_unknown and len(ids):
        unknown = fitted.get_indexer(pd.Index(ids)) < 0
        if unknown.any():
            ex = ids[unknown][:_N_EXAMPLES].tolist()
            get = unknown_get.replace("{", "{{").replace("}", "}}")
            warn_counts(ColdStartWarning, f"{owner}: {{n}} of {{m}} customer id(s) were not seen in fit (e.g. {{ex}}); "
                        f"they get {get}.", n=int(unknown.sum()), m=len(ids), ex=ex, examples=_N_EXAMPLES,
                        stacklevel=3)
    return ids
