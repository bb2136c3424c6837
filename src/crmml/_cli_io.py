"""Input side of the ``crmml`` command: read a file, check it against the schema, set bad rows aside.

- :func:`read_frame` reads ``--input`` (``--sep``, ``--encoding``, ``--map``), refuses missing required columns
  with a hint in ``--map`` syntax, finds every row-level schema problem at once (:mod:`crmml._bad_rows`) and
  either refuses the file, listing the first problems of each column by file line, or, with ``--bad-rows FILE``,
  keeps the valid rows and holds the rejected ones with their reason (:class:`Rejected`, written by the command
  beside its output, through the atomic writer, and counted in its summary line).
- :func:`step`: a progress line before and after a long step.
- :func:`check_probability`: a column that must hold probabilities (``report --baseline``).
- :func:`read_transactions`, :func:`read_leads`, :func:`as_of_arg`: the inputs of the train and score tasks
  (shared by :mod:`crmml.cli` and :mod:`crmml._cli_decisions`, so neither imports the other).

>>> parse_sep("tab"), parse_sep(";")
('\\t', ';')
"""

from __future__ import annotations

import difflib
import threading
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from crmml._cli_guard import UserError
from crmml._tables import _kind_of, parse_mapping, read_table, write_table

__all__ = ["Rejected", "read_frame", "read_input", "read_transactions", "read_leads", "as_of_arg", "required_columns",
           "step", "check_probability", "parse_sep", "distinct_paths"]

#: lines before the first data row of a CSV file (the header is line 1)
_CSV_FIRST_LINE = 2
_N_PER_PROBLEM = 5


def parse_sep(value: str | None) -> str | None:
    """``--sep``: one character, or ``tab`` / ``\\t`` for a tab."""
    if value is None:
        return None
    if value in ("tab", "\\t", "\t"):
        return "\t"
    if len(value) != 1:
        raise UserError(f"--sep {value!r}: give one character, e.g. --sep ';' (or --sep tab).")
    return value


def distinct_paths(**flags) -> None:
    """Refuse two file options naming one file (``--output`` = ``--input`` would replace the input by the scores).

    >>> distinct_paths(input="a.csv", output="./a.csv")
    Traceback (most recent call last):
    ...
    crmml._cli_guard.UserError: --output ./a.csv is the same file as --input; the command would replace it. Choose another path.
    """
    seen = {}
    for flag, value in flags.items():
        if value is None:
            continue
        where = Path(value).resolve()
        if where in seen:
            raise UserError(f"--{flag.replace('_', '-')} {value} is the same file as --{seen[where].replace('_', '-')}; "
                            "the command would replace it. Choose another path.")
        seen[where] = flag


@dataclass
class Rejected:
    """Rows set aside by ``--bad-rows``: ``rows`` (as read, with ``crmml_line``/``crmml_row`` and
    ``crmml_reason``), ``n_input`` rows read, and the target ``path`` (None without ``--bad-rows``)."""

    rows: pd.DataFrame
    n_input: int
    path: Path | None = None

    def write(self) -> None:
        """Write the rejected rows (possibly none) to ``path`` atomically."""
        if self.path is None:
            return
        from crmml._atomic import atomic_path

        with atomic_path(self.path) as tmp:
            write_table(self.rows, tmp)

    def summary(self) -> str:
        """``" (541,909 input rows: 406,829 valid, 135,080 rejected -> bad.csv)"``, or "" without ``--bad-rows``."""
        if self.path is None:
            return ""
        n = len(self.rows)
        return f" ({self.n_input:,} input rows: {self.n_input - n:,} valid, {n:,} rejected -> {self.path})"


def required_columns(frame: str, require=()) -> list[str]:
    from crmml.schema import SPECS

    return ["customer_id"] if frame == "ids" else [*SPECS[frame].required, *require]


def _hint(missing: str, columns, mapping: dict) -> str:
    """``--map THEIRS=missing``: the file column or the misspelt ``--map`` target that looks like ``missing``."""
    def norm(name):
        return str(name).lower().replace("_", "").replace(" ", "").replace("-", "")

    targets = {norm(dst): src for src, dst in mapping.items()}
    close = difflib.get_close_matches(norm(missing), list(targets), n=1, cutoff=0.75)
    if close:
        return f"--map {targets[close[0]]}={missing} (not {mapping[targets[close[0]]]!r})"
    by_norm = {norm(c): str(c) for c in columns}
    close = difflib.get_close_matches(norm(missing), list(by_norm), n=1, cutoff=0.6)
    return f"--map {by_norm[close[0]] if close else 'THEIR_COLUMN'}={missing}"


def read_frame(args, frame: str, *, require=(), allow_null=()) -> tuple[pd.DataFrame, Rejected]:
    """``--input`` read, mapped and row-checked as ``frame`` (``"ids"``, or a frame of ``crmml.schema.SPECS``).

    Returns the rows without row-level problems (canonical names, not yet validated) and the
    :class:`Rejected` rows. Without ``--bad-rows`` any problem raises one :class:`UserError` listing them all.
    """
    from crmml._bad_rows import describe, reasons, row_problems

    path = Path(args.input)
    mapping = parse_mapping(args.map)
    sep, encoding = parse_sep(getattr(args, "sep", None)), getattr(args, "encoding", None)
    df = read_table(path, mapping, sep=sep, encoding=encoding)
    missing = [c for c in required_columns(frame, require) if c not in df.columns]
    if missing:
        inverse = {dst: src for src, dst in mapping.items()}
        theirs = [inverse.get(c, c) for c in df.columns]
        raise UserError(f"{path.name}: the required column{'s' if len(missing) > 1 else ''} {missing} "
                        f"{'are' if len(missing) > 1 else 'is'} missing (its columns: {theirs[:12]}); map yours "
                        f"with {' '.join(_hint(c, theirs, mapping) for c in missing)}.")
    bad_rows = getattr(args, "bad_rows", None)
    problems = row_problems(df, frame, require=require, allow_null=allow_null)
    first_line = _CSV_FIRST_LINE if _kind_of(path) == "csv" else None
    if len(problems) == 0:
        return df, Rejected(df.iloc[:0], len(df), Path(bad_rows) if bad_rows else None)
    why = reasons(problems)
    if not bad_rows:
        cols = list(dict.fromkeys(problems["column"]))
        err = UserError(f"{path.name}: {len(why):,} of {len(df):,} rows do not fit the {frame} schema (problems "
                        f"in {', '.join(cols)}; listed below, {'lines' if first_line else 'rows'} counted from "
                        f"{'the header line = 1' if first_line else '1'}); fix them, or pass --bad-rows FILE to "
                        "score the valid rows and write the rejected ones there with their reason.")
        err.details = describe(problems, first_line=first_line, n_per_problem=_N_PER_PROBLEM)
        raise err
    pos = why.index.to_numpy()
    keep = np.ones(len(df), dtype=bool)
    keep[pos] = False
    inverse = {dst: src for src, dst in mapping.items()}
    rows = df.iloc[pos].rename(columns=inverse).reset_index(drop=True)
    rows.insert(0, "crmml_line" if first_line else "crmml_row", pos + (first_line or 1))
    rows["crmml_reason"] = why.to_numpy()
    return df.iloc[keep].reset_index(drop=True), Rejected(rows, len(df), Path(bad_rows))


@contextmanager
def step(say, what: str):
    """Say ``what ...`` now and ``what: done in N s`` when the block ends."""
    t0 = time.perf_counter()
    say(f"{what} ...")
    yield
    say(f"{what}: done in {time.perf_counter() - t0:.1f} s")


def check_probability(df: pd.DataFrame, column: str, flag: str, file: str) -> np.ndarray:
    """The values of ``column`` if they are probabilities (numbers in [0, 1], none missing), else UserError.

    >>> check_probability(pd.DataFrame({"p": [0.2, 90.7]}), "p", "--baseline", "x.csv")
    Traceback (most recent call last):
    ...
    crmml._cli_guard.UserError: --baseline 'p': x.csv's column is not a probability: 1 value outside [0, 1] (e.g. 90.7); pass a column of predicted probabilities.
    """
    if column not in df.columns:
        raise UserError(f"{flag} {column!r}: {file} has no such column (its columns: {list(df.columns)[:12]}).")
    p = pd.to_numeric(df[column], errors="coerce")
    if p.isna().any():
        raise UserError(f"{flag} {column!r}: {file}'s column has {int(p.isna().sum()):,} missing or non-numeric "
                        "values; it must hold a probability for every row.")
    out = (p < 0) | (p > 1)
    if out.any():
        raise UserError(f"{flag} {column!r}: {file}'s column is not a probability: {int(out.sum()):,} value"
                        f"{'s' if out.sum() != 1 else ''} outside [0, 1] (e.g. {p[out].iloc[0]:g}); pass a "
                        "column of predicted probabilities.")
    return p.to_numpy(dtype=float)


# ------------------------------------------------------------------ the inputs of the train/score tasks
def as_of_arg(value, df: pd.DataFrame | None) -> pd.Timestamp:
    """``--as-of`` or, by default, the day after the last timestamp (so every row is history).

    Refused: a value that is not a date or out of range, and a cut-off with no row of ``df``
    before it (that would score nothing). A cut-off well after the last row warns once.
    """
    from crmml._time import AsOfError, AsOfWarning, as_timestamp, warn_if_after_data

    warnings.filterwarnings("ignore", category=AsOfWarning)      # judged here once, for the whole file
    if value is None:
        if df is None or "timestamp" not in df.columns:
            raise UserError("--as-of is required for this input.")
        return pd.Timestamp(df["timestamp"].max()).normalize() + pd.Timedelta(days=1)
    try:
        as_of = as_timestamp(value, "--as-of")
    except AsOfError as exc:
        if "outside the dates" in str(exc):
            raise UserError(f"--as-of {value!r} is outside the dates pandas can represent (1677-09-22 .. "
                            "2262-04-11); use a real cut-off date (YYYY-MM-DD), not a sentinel.") from exc
        raise UserError(f"--as-of {value!r} is not a date (use YYYY-MM-DD).") from exc
    if df is not None and "timestamp" in df.columns:
        first = df["timestamp"].min()
        if not first < as_of:
            raise UserError(f"--as-of {as_of.date()}: no transaction is before it (the first is on "
                            f"{first.date()}), so there is nothing to score; use a later cut-off.")
        with warnings.catch_warnings():
            warnings.simplefilter("always", AsOfWarning)
            warn_if_after_data(as_of, df["timestamp"], "the input")
    return as_of


def read_input(args, frame, validate, **kw):
    """``--input`` checked as ``frame`` (rows set aside in ``args.rejected`` with --bad-rows), then ``validate``d."""
    with step(args.say, f"reading {args.input}"):
        df, args.rejected = read_frame(args, frame, **kw)
        return validate(df)


class ReadAhead:
    """``fn(args)`` on a daemon thread (reading parquet and converting it releases the GIL for most of the work),
    so the main thread can load the model meanwhile; :meth:`result` waits and returns or raises what ``fn`` did.
    A daemon thread never holds up an exit (an error elsewhere, Ctrl-C, SIGTERM)."""

    def __init__(self, fn, args):
        self._out, self._exc = None, None
        self._thread = threading.Thread(target=self._run, args=(fn, args), daemon=True, name="crmml-read-ahead")
        self._thread.start()

    def _run(self, fn, args):
        try:
            self._out = fn(args)
        except BaseException as exc:  # re-raised in the main thread by result()
            self._exc = exc

    def result(self):
        self._thread.join()
        if self._exc is not None:
            raise self._exc
        return self._out


def read_transactions(args):
    from crmml.schema import validate_transactions

    return read_input(args, "transactions", validate_transactions)


def read_leads(args, require_label=False):
    from crmml.schema import validate_leads

    return read_input(args, "leads", lambda df: validate_leads(df, require_label=require_label),
                      require=("converted",) if require_label else ())
