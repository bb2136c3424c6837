"""Errors raised inside Spark workers, surfaced on the driver as the crmml errors they were."""

from __future__ import annotations

import re
from contextlib import contextmanager

from crmml.schema import SchemaError

__all__ = ["surface_errors", "SparkJobError"]


class SparkJobError(ValueError):
    """A crmml error raised inside a Spark task (the worker's message, without the Java stack trace).

    >>> _crmml_error("Traceback ...\\nValueError: bucket 3 holds an unknown product")
    SparkJobError('ValueError in a Spark task: bucket 3 holds an unknown product')
    """


_LAST = re.compile(r"^(?:[\w.]+\.)?(SchemaError|ModelLoadError|SparkJobError|ValueError|TypeError): (.+)$")


def _crmml_error(text: str):
    """The crmml error named in a worker traceback, or None."""
    for line in reversed(text.splitlines()):
        m = _LAST.match(line.strip())
        if m is None:
            continue
        kind, msg = m.groups()
        if kind == "ModelLoadError":
            from crmml.persistence import ModelLoadError

            return ModelLoadError(msg)
        if kind == "SchemaError" and ": " in msg:
            where, problem = msg.split(": ", 1)
            frame, _, column = where.partition(".")
            err = SchemaError(frame, column or None, problem)
            return err
        return SparkJobError(f"{kind} in a Spark task: {msg}")
    return None


@contextmanager
def surface_errors():
    """Turn a failed Spark job whose task raised a crmml error into that error (``from None``).

    >>> with surface_errors():
    ...     pass
    """
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - only Spark's own exception classes are converted
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            err = _crmml_error(str(exc))
            if err is not None:
                raise err from None
        raise
