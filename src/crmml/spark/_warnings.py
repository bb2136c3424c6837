"""crmml warnings raised on Spark workers, re-issued on the driver as the pandas API issues them on the whole data.

Each bucket records, in a Spark accumulator of its call (no extra job, no extra output column), the crmml
warnings its pandas code raised and the first and last timestamp and the row count of its transactions. The
driver re-issues them when a :func:`crmml.spark.surface_errors` block ends (``to_pandas``, ``fit_clv``,
``fit_segmenter`` and ``crmml score --engine spark`` run their jobs in one; wrap your own actions, e.g.
``sdf.write.parquet``, in it too):

* a warning made by :func:`crmml._utils._warn.warn_counts` (customers with only returns, events without a
  type, customer ids unseen in fit) once, with its counts summed over the buckets: the pandas API's count;
* ``AsOfWarning`` from the merged first/last timestamps and row count (a bucket's own is about its customers
  only, so it is never repeated): the pandas API's check on the whole frame, for the checks the entry point's
  pandas function makes;
* any other crmml warning once per distinct message, saying in how many buckets it was raised.

Only tasks that end report (Spark drops the accumulator updates of a task stopped early, e.g. by ``limit``),
a task Spark runs again after losing its output reports again, and the results of the 1,024 most recent
crmml.spark calls report (an action on an older result reports nothing).
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from crmml._time import AsOfWarning, warn_after_last, warn_before_first
from crmml._utils._warn import merge_fields

__all__ = ["recorder", "recording", "begin", "end"]

_CRMML = str(Path(__file__).resolve().parents[1])
_ROWS = ("rows", "transactions")
_CALLS: dict = {}      # accumulator id -> (accumulator, what the driver needs to re-issue its warnings)
_MAX_CALLS = 1024      # the most recent calls are kept (a long-lived driver makes many; each block visits them)
_DEPTH = [0]           # nesting of surface_errors blocks


class _Merge:
    """The accumulator's merge: warnings by key (counts summed), timestamps as (first, last, rows)."""

    def zero(self, value):
        return {}

    def addInPlace(self, a, b):       # noqa: N802 - pyspark's AccumulatorParam interface
        for k, v in b.items():
            if k not in a:
                a[k] = v
            elif k == _ROWS:
                a[k] = (_pick(min, a[k][0], v[0]), _pick(max, a[k][1], v[1]), a[k][2] + v[2])
            else:
                a[k] = (None if v[0] is None else merge_fields(a[k][0], v[0], a[k][2]), a[k][1] + v[1], a[k][2])
        return a


def _pick(f, x, y):
    return y if x is None else x if y is None else f(x, y)


# ------------------------------------------------------------------------------------------ workers
def _from_crmml(w) -> bool:
    """A crmml category, or a plain UserWarning raised by crmml code (not numpy's RuntimeWarnings)."""
    return type(w.message).__module__.startswith("crmml") or (
        type(w.message) is UserWarning and str(w.filename).startswith(_CRMML))


def recording(func, parts, acc):
    """``func(parts)`` with the crmml warnings it raises and its transactions' timestamps added to ``acc``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(parts)
    found = {}
    for w in caught:
        if not _from_crmml(w) or isinstance(w.message, AsOfWarning):
            continue
        cat = type(w.message)
        template, fields, examples = getattr(w.message, "crmml_counts", (str(w.message), None, 0))
        _Merge().addInPlace(found, {("warning", cat.__module__, cat.__qualname__, template): (fields, 1, examples)})
    tx = parts.get("transactions")
    if tx is not None and "timestamp" in tx.columns:
        t = tx["timestamp"].to_numpy("datetime64[ns]")
        t = t[~np.isnat(t)].view(np.int64)
        found[_ROWS] = (int(t.min()) if len(t) else None, int(t.max()) if len(t) else None, len(tx))
    if found:
        acc.add(found)
    return result


# ------------------------------------------------------------------------------------------ driver
def recorder(spark, as_of=None, checks=(), drop=()):
    """A new accumulator for one call, registered with its ``as_of``, the ``AsOfWarning`` checks of the pandas
    function (``"after"``, ``"before"``) and the warning categories that function does not raise (``drop``)."""
    acc = spark.sparkContext.accumulator({}, _Merge())
    _CALLS[acc.aid] = (acc, as_of, tuple(checks), tuple(c.__name__ for c in drop))
    while len(_CALLS) > _MAX_CALLS:
        del _CALLS[next(iter(_CALLS))]
    return acc


def begin() -> None:
    """A surface_errors block starts: the outermost one forgets what actions outside any block recorded."""
    if _DEPTH[0] == 0:
        for acc, *_ in _CALLS.values():
            acc.value = {}
    _DEPTH[0] += 1


def end(issue: bool) -> None:
    """A surface_errors block ends: re-issue what its jobs recorded (``issue``), or forget it (an error)."""
    _DEPTH[0] -= 1
    if not issue and _DEPTH[0] > 0:
        return                            # the enclosing block decides
    for acc, as_of, checks, drop in list(_CALLS.values()):
        value, acc.value = acc.value, {}
        if issue and value:
            _issue(value, as_of, checks, drop)


def _issue(value: dict, as_of, checks, drop) -> None:
    first, last, n = value.get(_ROWS, (None, None, 0))
    if "after" in checks and last is not None:
        warn_after_last(as_of, pd.Timestamp(last), stacklevel=6)
    if "before" in checks and first is not None:
        warn_before_first(as_of, pd.Timestamp(first), n, stacklevel=6)
    for key in sorted((k for k in value if k[0] == "warning"), key=str):
        _, module, name, template = key
        if name in drop:
            continue
        fields, buckets, _ = value[key]
        cat = getattr(importlib.import_module(module), name, UserWarning) if module.startswith("crmml") \
            else UserWarning
        text = template.format(**fields) if fields is not None else (
            template if buckets == 1 else f"{template} [raised in {buckets} Spark buckets of customers]")
        warnings.warn(text, cat, stacklevel=6)
