"""Column mapping: the user's column names onto the canonical ones, refusing ambiguity.

Public through :mod:`crmml.schema` (:func:`~crmml.schema.map_columns`, :func:`~crmml.schema.map_frames`).
"""

from __future__ import annotations

from typing import Mapping

import pandas as pd

from crmml._schema_errors import SchemaError

#: pandas >= 3 copies on write: a shallow copy shares data until either side writes (never writes through)
COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3

ColumnMap = Mapping[str, str]


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
    if not isinstance(columns, Mapping):
        raise SchemaError(frame, None, f"columns= must be a dict {{their_name: canonical_name}}; got "
                          f"{type(columns).__name__}")
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
