"""Tables in and out of the ``crmml`` command: CSV/parquet by suffix, column mapping, customer parts, a part-by-part sink.

One concept: the file side of batch scoring (``crmml score`` with the pandas engine; ``crmml.spark`` reads
parquet datasets itself). :func:`read_table` / :func:`write_table` are re-exported by :mod:`crmml.cli`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from crmml._cli_guard import UserError

__all__ = ["read_table", "write_table", "parse_mapping", "partitions", "TableSink"]


_CSV = (".csv", ".csv.gz", ".tsv", ".txt", ".csv.zip", ".csv.bz2", ".csv.xz")
_PARQUET = (".parquet", ".pq")


def _kind_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise UserError(f"{path}: unsupported file type; use .csv (optionally .gz) or .parquet.")


def parse_mapping(items) -> dict:
    """``["CustomerID=customer_id", "a=b,c=d"]`` -> ``{"CustomerID": "customer_id", "a": "b", "c": "d"}``.

    >>> parse_mapping(["CustomerID=customer_id", "InvoiceDate=timestamp,Total=amount"])
    {'CustomerID': 'customer_id', 'InvoiceDate': 'timestamp', 'Total': 'amount'}
    """
    out = {}
    for item in items or ():
        for pair in str(item).split(","):
            if not pair.strip():
                continue
            src, sep, dst = pair.partition("=")
            if not sep or not src.strip() or not dst.strip():
                raise UserError(f"--map {pair!r}: expected THEIR_COLUMN=canonical_column, "
                                "e.g. --map CustomerID=customer_id.")
            out[src.strip()] = dst.strip()
    return out


def read_table(path, mapping: dict | None = None, *, sep: str | None = None, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV or parquet file and rename columns by ``mapping`` (their name -> canonical name).

    ``sep`` (default ``,``; tab for ``.tsv``) and ``encoding`` (default UTF-8) apply to CSV files only.

    >>> import tempfile, pathlib, pandas as pd
    >>> path = write_table(pd.DataFrame({"CustomerID": [7]}), pathlib.Path(tempfile.mkdtemp()) / "c.csv")
    >>> list(read_table(path, {"CustomerID": "customer_id"}).columns)
    ['customer_id']
    """
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file.")
    kind = _kind_of(path)
    if kind == "parquet" and (sep is not None or encoding is not None):
        raise UserError(f"{path}: --sep and --encoding apply to CSV files; this is a parquet file.")
    if sep is None:
        sep = "\t" if path.name.lower().endswith(".tsv") else ","
    try:
        if kind == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
    except UserError:
        raise
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not readable as {encoding or 'UTF-8'} ({exc.reason} at byte {exc.start}); pass "
                        "its encoding, e.g. --encoding latin-1 (or cp1252).") from exc
    except Exception as exc:  # parser errors of every kind become one line
        raise UserError(f"{path}: cannot read it as {kind} ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0] if str(exc) else ''}).") from exc
    if kind == "csv" and df.shape[1] == 1 and sep == ",":
        seps = [ch for ch in ";\t|" if ch in str(df.columns[0])]
        if seps:
            raise UserError(f"{path.name} was read as one column {str(df.columns[0])[:60]!r}: it looks "
                            f"{seps[0]!r}-separated; pass --sep {'tab' if seps[0] == chr(9) else repr(seps[0])}.")
    if mapping:
        missing = [c for c in mapping if c not in df.columns]
        if missing:
            raise UserError(f"--map names column(s) {missing} that {path.name} does not have "
                            f"(its columns: {list(df.columns)[:12]}).")
        from crmml.schema import map_columns

        df = map_columns(df, mapping, frame=path.name)
    return df


def write_table(df: pd.DataFrame, path) -> Path:
    """Write ``df`` (its index as columns when named) as CSV or parquet, by the file suffix.

    >>> import tempfile, pathlib, pandas as pd
    >>> df = pd.DataFrame({"score": [0.5]}, index=pd.Index([7], name="customer_id"))
    >>> path = write_table(df, pathlib.Path(tempfile.mkdtemp()) / "s.parquet")
    >>> pd.read_parquet(path).columns.tolist()
    ['customer_id', 'score']
    """
    path = Path(path)
    kind = _kind_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = df.reset_index() if any(n is not None for n in df.index.names) else df
    if kind == "parquet":
        out.to_parquet(path, index=False)
    else:
        out.to_csv(path, index=False)
    return path


def partitions(frame: pd.DataFrame, key: str, size: int | None):
    """Split ``frame`` into parts holding whole ``key`` groups (``size`` keys each); one part when None."""
    if not size or frame[key].nunique() <= size:
        yield frame
        return
    codes, _ = pd.factorize(frame[key])            # in order of first appearance
    part = codes // size
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(part.max() + 2))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        yield frame.iloc[order[lo:hi]]


class TableSink:
    """Write scored parts one after another into one CSV or parquet file."""

    def __init__(self, path):
        self.path, self.kind, self.writer, self.n = Path(path), _kind_of(Path(path)), None, 0
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, df: pd.DataFrame):
        out = df.reset_index() if any(n is not None for n in df.index.names) else df
        if self.kind == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(out, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table.cast(self.writer.schema))
        else:
            out.to_csv(self.path, index=False, mode="w" if self.n == 0 else "a", header=self.n == 0)
        self.n += len(out)

    def close(self):
        if self.writer is not None:
            self.writer.close()
        elif self.n == 0:
            write_table(pd.DataFrame(), self.path)
