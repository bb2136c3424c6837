"""Every row-level schema problem of a frame at once, and the split of a frame into valid and rejected rows.

:func:`crmml.schema.validate` stops at the first problem (a library caller fixes it and calls again). The
``crmml`` command reads files: there a user wants every problem of the file in one run, located by file line,
and the option to set the bad rows aside (``--bad-rows FILE``). :func:`row_problems` finds, column by column,
the rows that ``validate`` would refuse, by the same rules (missing ids, unparseable or out-of-range timestamps,
timezone-aware mixed with naive, non-numeric / infinite / huge / missing numbers, bad labels, repeated unique
keys); frame-level problems (a missing column, an empty frame, epoch numbers as timestamps) are left to
``validate``, which still runs on the remaining rows.

>>> import pandas as pd
>>> raw = pd.DataFrame({"customer_id": [1, None, 3], "timestamp": ["2024-01-02", "2024-01-03", "soon"],
...                     "amount": ["5", "x", "7"]})
>>> row_problems(raw, "transactions")[["position", "column", "problem"]].values.tolist()
[[1, 'customer_id', 'missing id'], [2, 'timestamp', 'unparseable timestamp (or outside 1677-09-22 .. 2262-04-11)'], [1, 'amount', 'not a number']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.schema import _LABEL_MAP, MAX_ABS_VALUE, SPECS, _is_tz_aware, _numpy_backed
from crmml._schema_coerce import _clean_floats
from crmml._time import TIMESTAMP_MAX, TIMESTAMP_MIN

__all__ = ["row_problems", "reasons", "describe"]

_COLUMNS = ["position", "column", "problem", "value"]


def _ids(s, allow_null):
    return [(s.isna().to_numpy(dtype=bool), "missing id")]


def _datetimes(s, allow_null):
    null = s.isna().to_numpy(dtype=bool)
    out = [] if allow_null else [(null, "missing timestamp")]
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        parsed = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif pd.api.types.is_datetime64_dtype(s.dtype):
        parsed = s
    elif pd.api.types.is_numeric_dtype(s.dtype):
        return out                                   # epoch numbers: a column-level problem, left to validate
    else:
        aware = np.zeros(len(s), dtype=bool)
        aware[~null] = _is_tz_aware(s[~null])
        naive = ~aware & ~null
        if aware.any() and naive.any():
            out.append((aware if aware.sum() <= naive.sum() else naive,
                        "timezone-aware and naive timestamps mixed in the column (this row is in the minority)"))
        parsed = pd.to_datetime(s, errors="coerce", utc=bool(aware.any()), format="mixed")
        out.append((parsed.isna().to_numpy(dtype=bool) & ~null, "unparseable timestamp (or outside 1677-09-22 .. 2262-04-11)"))
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    if parsed.dtype != "datetime64[ns]":
        far = ((parsed < TIMESTAMP_MIN) | (parsed > TIMESTAMP_MAX)).to_numpy(dtype=bool)
        out.append((far, "timestamp outside 1677-09-22 .. 2262-04-11"))
    return out


def _floats(s, allow_null):
    if _clean_floats(s):                             # no copy: a clean float column costs two reductions
        return []
    null = s.isna().to_numpy(dtype=bool)
    num = (s.astype("float64") if pd.api.types.is_bool_dtype(s.dtype)
           else pd.to_numeric(s, errors="coerce").astype("float64")).to_numpy()
    with np.errstate(invalid="ignore"):
        out = [(np.isnan(num) & ~null, "not a number"), (np.isinf(num), "infinite value"),
               (np.abs(num) > MAX_ABS_VALUE, f"larger than {MAX_ABS_VALUE:.0e} in magnitude")]
    return out if allow_null else [*out, (null, "missing value")]


def _labels(s, allow_null):
    null = s.isna().to_numpy(dtype=bool)
    if pd.api.types.is_bool_dtype(s.dtype):
        ok = ~null
    elif pd.api.types.is_numeric_dtype(s.dtype):
        ok = s.isin([0, 1]).to_numpy(dtype=bool)
    else:
        ok = s.astype(str).str.strip().str.lower().isin(list(_LABEL_MAP)).to_numpy(dtype=bool)
    return [(null, "missing label"), (~ok & ~null, "label is not 0/1 (or yes/no, true/false)")]


_CHECKS = {"id": _ids, "datetime": _datetimes, "float": _floats, "label": _labels}


def row_problems(df: pd.DataFrame, frame: str, *, require=(), allow_null=()) -> pd.DataFrame:
    """Rows of ``df`` (canonical column names) that :func:`crmml.schema.validate` would refuse as ``frame``.

    ``frame`` is a frame of :data:`crmml.schema.SPECS` or ``"ids"`` (a ``customer_id`` column only).
    Returns one row per (row, column, problem): ``position`` (0-based row position), ``column``, ``problem``,
    ``value`` (the offending value as read), ordered by column then problem then position.
    """
    if frame == "ids":
        columns, unique, required = {"customer_id": "id"}, None, ("customer_id",)
    else:
        spec = SPECS[frame]
        columns, unique, required = spec.columns, spec.unique, (*spec.required, *require)
    parts = []
    for col, kind in columns.items():
        if col not in df.columns or kind not in _CHECKS:
            continue
        s = _numpy_backed(df[col])
        checks = _CHECKS[kind](s, col in allow_null or col not in required)
        if col == unique:
            checks.append((s.duplicated(keep=False).to_numpy(dtype=bool) & s.notna().to_numpy(dtype=bool),
                           "repeated id (ids must be unique)"))
        for mask, problem in checks:
            pos = np.flatnonzero(mask)
            if len(pos):
                parts.append(pd.DataFrame({"position": pos, "column": col, "problem": problem,
                                           "value": df[col].to_numpy()[pos]}))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "position" else object) for c in _COLUMNS})
    return pd.concat(parts, ignore_index=True)


def reasons(problems: pd.DataFrame) -> pd.Series:
    """One reason per bad row (``"customer_id: missing id; amount: not a number"``), indexed by position.

    >>> p = pd.DataFrame({"position": [4, 4], "column": ["customer_id", "amount"],
    ...                   "problem": ["missing id", "not a number"], "value": [None, "x"]})
    >>> reasons(p).to_dict()
    {4: 'customer_id: missing id; amount: not a number'}
    """
    text = (problems["column"] + ": " + problems["problem"]).to_numpy(dtype=object)
    pos = problems["position"].to_numpy()
    order = np.argsort(pos, kind="stable")              # per row, problems keep their column order
    pos, text = pos[order], text[order]
    first = np.r_[True, pos[1:] != pos[:-1]] if len(pos) else np.zeros(0, dtype=bool)
    out, group = text[first].copy(), np.cumsum(first) - 1
    for i in np.flatnonzero(~first):                    # rows with several problems
        out[group[i]] = f"{out[group[i]]}; {text[i]}"
    return pd.Series(out, index=pos[first], dtype=object)


def describe(problems: pd.DataFrame, *, first_line: int | None, n_per_problem: int = 5) -> list[str]:
    """One line per (column, problem): how many rows, the first ``n_per_problem`` locations, example values.

    Locations are file lines ``position + first_line`` (``first_line=2`` for a CSV with a header line),
    or 1-based row numbers when ``first_line`` is None (parquet).

    >>> p = pd.DataFrame({"position": [0, 3], "column": "amount", "problem": "not a number", "value": ["x", "y"]})
    >>> describe(p, first_line=2)
    ["amount: not a number: 2 rows, lines 2, 5; e.g. 'x', 'y'"]
    """
    out = []
    for (col, problem), g in problems.groupby(["column", "problem"], sort=False):
        pos = np.sort(g["position"].to_numpy())
        where = pos[:n_per_problem] + (first_line if first_line is not None else 1)
        more = f" (+{len(pos) - n_per_problem:,} more)" if len(pos) > n_per_problem else ""
        examples = pd.Series(g["value"].to_numpy()).drop_duplicates().head(3).tolist()
        out.append(f"{col}: {problem}: {len(pos):,} row{'s' if len(pos) != 1 else ''}, "
                   f"{'lines' if first_line is not None else 'rows'} {', '.join(map(str, where))}{more}; "
                   f"e.g. {', '.join(repr(_plain(v)) for v in examples)}")
    return out


def _plain(v):
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    return v.item() if isinstance(v, np.generic) else v
