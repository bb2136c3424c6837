"""How the ``crmml`` command fails: one line, exit status 2, never a traceback.

- :func:`run_guarded` runs a command: any exception, Ctrl-C and SIGTERM become one line
  ``crmml: error: ...`` on stderr and status 2 (SIGTERM is raised as an exception in the
  main thread, so ``finally`` blocks, such as the removal of temporary output files, run);
  warnings print as one line ``crmml: warning: ...``.
- :func:`load_model` loads a model file so that a corrupted or hostile file ends as a named
  error, whatever the loader raised.
- :func:`model_key`: ``--key``, else the environment variable ``CRMML_MODEL_KEY``.

>>> def fails():
...     raise UserError("--batch must be a positive number of customers; got 0.")
>>> run_guarded(fails, debug=False)
2
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import warnings

from crmml.exceptions import CrmmlError

__all__ = ["UserError", "KEY_ENV", "model_key", "load_model", "run_guarded"]

KEY_ENV = "CRMML_MODEL_KEY"


class UserError(ValueError, CrmmlError):
    """A mistake in the command line or the input files (reported in one line, no traceback).

    ``details`` (lines) are printed after that line, indented: the list of every problem of a file.
    """

    details: tuple = ()


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that cleanup (temporary files) runs before exiting."""


def model_key(key: str | None) -> str | None:
    """The signing key: ``key`` when given, else ``$CRMML_MODEL_KEY``, else None (no signature)."""
    return key if key is not None else (os.environ.get(KEY_ENV) or None)


def load_model(path, key=None, on_verified=None):
    """:func:`crmml.persistence.load`; anything other than ``ModelLoadError`` becomes a :class:`UserError`."""
    from crmml.persistence import ModelLoadError, load

    try:
        return load(path, key=key, on_verified=on_verified)
    except ModelLoadError:
        raise
    except Exception as exc:  # a corrupted or hostile file must never end in a traceback
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise UserError(f"{path}: cannot load this model file ({type(exc).__name__}: {first[:200]}).") from exc


class _OneLineWarnings:
    """``warnings.showwarning`` for the CLI: one line per distinct warning text in a run (``--batch`` parts
    repeat the same warning once per part; the filters' own once-per-location registry is reset whenever
    library code mutates the filters)."""

    def __init__(self):
        self.seen: set[str] = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = " ".join(str(message).split())
        if text not in self.seen:
            self.seen.add(text)
            out = sys.stderr if file is None else file
            bars = sys.modules.get("tqdm.std")     # loaded once a progress bar (crmml train) has been drawn
            if bars is None:
                print(f"crmml: warning: {text}", file=out)
            else:                                  # a line of its own: the open bars are cleared and redrawn below
                bars.tqdm.write(f"crmml: warning: {text}", file=out)


#: set by the SIGTERM / Ctrl-C handler: an exception raised by a signal handler is swallowed when the signal
#: lands inside a ``__del__`` or a weakref callback ("Exception ignored in ..."), so the command also checks
#: this flag at safe points (between batches, before an output is renamed into place)
_INTERRUPTED: list = []


def raise_if_interrupted() -> None:
    """Raise :class:`Terminated` / ``KeyboardInterrupt`` if SIGTERM / Ctrl-C arrived (even if swallowed)."""
    if _INTERRUPTED:
        raise Terminated("SIGTERM") if _INTERRUPTED[0] == signal.SIGTERM else KeyboardInterrupt()


class _SigtermRaises:
    """While active (main thread only), SIGTERM raises :class:`Terminated` and Ctrl-C ``KeyboardInterrupt``,
    and both are remembered for :func:`raise_if_interrupted`; later signals are ignored."""

    def __enter__(self):
        self.old = {}
        _INTERRUPTED.clear()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.old[sig] = signal.signal(sig, self._handler)
        return self

    @staticmethod
    def _handler(signum, frame):
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)               # cleanup must not be interrupted again
        _INTERRUPTED.append(signum)
        raise_if_interrupted()

    def __exit__(self, *exc):
        for sig, old in self.old.items():
            signal.signal(sig, old)
        return False


def _message(exc: BaseException) -> str:
    """One line for a failure: crmml's named errors (every ``CrmmlError``: ``UserError``, ``SchemaError``,
    ``AsOfError``, ``ParameterError``, ``ModelLoadError``, ...) say what to fix, so their message alone; any
    other exception with its type and a pointer to ``--debug``."""
    if isinstance(exc, ImportError):
        return f"this step needs a part of crmml that is not available: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C); no output was written"
    if isinstance(exc, Terminated):
        return "terminated (SIGTERM); no output was written"
    if isinstance(exc, CrmmlError):
        return str(exc)
    return f"{type(exc).__name__}: {exc} (rerun with --debug for the traceback)"


def run_guarded(command, *, debug: bool) -> int:
    """Run ``command()`` (returns an exit status); failures become one line on stderr and status 2 (crmml's named
    errors print their message alone; others with their type and a pointer to --debug).

    With ``debug`` exceptions propagate (tracebacks). Either way SIGTERM raises
    :class:`Terminated` inside ``command`` and each distinct warning prints as one line.
    """
    with warnings.catch_warnings(), _SigtermRaises():
        warnings.showwarning = _OneLineWarnings()
        if debug:
            return command()
        try:
            return command()
        except (Exception, KeyboardInterrupt, Terminated) as exc:
            msg, details = _message(exc), getattr(exc, "details", ())
    print(f"crmml: error: {' '.join(msg.split())}", file=sys.stderr)
    for line in details:
        print(f"crmml:   {' '.join(str(line).split())}", file=sys.stderr)
    return 2
