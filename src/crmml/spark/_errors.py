"""Errors raised inside Spark workers, surfaced on the driver as the crmml errors they were."""

from __future__ import annotations

import re
from contextlib import contextmanager

from crmml.exceptions import CrmmlError
from crmml.schema import SchemaError

__all__ = ["surface_errors", "SparkJobError"]


class SparkJobError(ValueError, CrmmlError):
    """A crmml error raised inside a Spark task (the worker's message, without the Java stack trace).

    >>> _crmml_error("Traceback ...\\nValueError: bucket 3 holds an unknown product")
    SparkJobError('ValueError in a Spark task: bucket 3 holds an unknown product')
    """


_LAST = re.compile(r"^(?:([\w.]+)\.)?(\w+(?:Error|Exception)|ValueError|TypeError): (.+)$")


def _named(module: str | None, kind: str):
    """The crmml exception class ``module.kind`` named in a worker traceback, or None (crmml modules only)."""
    import importlib

    if not module or not (module == "crmml" or module.startswith("crmml.")):
        return None
    try:
        cls = getattr(importlib.import_module(module), kind, None)
    except ImportError:
        return None
    return cls if isinstance(cls, type) and issubclass(cls, Exception) else None


def _crmml_error(text: str):
    """The crmml error named in a worker traceback (the same class on the driver), or None."""
    for line in reversed(text.splitlines()):
        m = _LAST.match(line.strip())
        if m is None:
            continue
        module, kind, msg = m.groups()
        if kind == "SchemaError" and ": " in msg:
            where, problem = msg.split(": ", 1)
            frame, _, column = where.partition(".")
            return SchemaError(frame, column or None, problem)
        cls = _named(module, kind)
        if cls is not None and cls is not SchemaError:
            try:
                return cls(msg)
            except Exception:  # noqa: BLE001 - a class with another constructor: keep its name in the message
                pass
        if kind in ("ModelLoadError", "SparkJobError"):
            from crmml.persistence import ModelLoadError

            return ModelLoadError(msg) if kind == "ModelLoadError" else SparkJobError(msg)
        if cls is None and kind not in ("ValueError", "TypeError"):
            continue
        return SparkJobError(f"{kind} in a Spark task: {msg}")
    return None


@contextmanager
def surface_errors():
    """Turn a failed Spark job whose task raised a crmml error into that error (``from None``), and re-issue the
    crmml warnings that the jobs run in the block raised on the workers (:mod:`crmml.spark._warnings`: counts
    summed over the buckets, ``AsOfWarning`` checked on the whole data), once, when the block ends.

    ``crmml.spark.to_pandas``, ``fit_clv``, ``fit_segmenter`` and ``crmml score --engine spark`` run their jobs in
    one; wrap your own actions on crmml.spark results in it (``with surface_errors(): sdf.write.parquet(path)``).

    >>> with surface_errors():
    ...     pass
    """
    from crmml.spark import _warnings

    _warnings.begin()
    ok = False
    try:
        yield
        ok = True
    except Exception as exc:  # noqa: BLE001 - only Spark's own exception classes are converted
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            err = _crmml_error(str(exc))
            if err is not None:
                raise err from None
        raise
    finally:
        _warnings.end(ok)
