"""Atomic outputs: write beside the target under a temporary name, rename on success.

A reader of the output path sees either the previous file (or nothing) or the complete new
one, never a part. The temporary name is hidden, carries the process id and keeps the
target's suffixes (``.crmml-<pid>-<name>``), so writers that infer a format or a compression
from the suffix (``.csv.gz``, ``.parquet``, ``.zip``) behave as for the target. On an
exception (including ``KeyboardInterrupt`` and the CLI's SIGTERM exception) the temporary
file or folder is removed and the target is left untouched. After SIGKILL a temporary file
may remain; it is never at the target path.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "scores.csv"
>>> with atomic_path(target) as tmp:
...     _ = tmp.write_text("customer_id,score\\n1,0.5\\n")
...     target.exists()
False
>>> target.read_text().splitlines()[1], sorted(p.name for p in target.parent.iterdir())
('1,0.5', ['scores.csv'])
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "temporary_name"]


def temporary_name(target: Path, tag: str = "") -> Path:
    """The hidden temporary path beside ``target`` for this process."""
    return target.with_name(f".crmml-{os.getpid()}{tag}-{target.name}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def _fsync(path: Path, contents: bool = True) -> None:
    """Flush ``path`` to disk: a file; a folder with the files under it (``contents``); or only a folder's own
    entries (``contents=False``: the names in it, e.g. after a rename, not the files it holds)."""
    files = [*(p for p in path.rglob("*") if p.is_file()), path] if contents and path.is_dir() else [path]
    for f in files:
        try:
            fd = os.open(f, os.O_RDONLY)
        except OSError:  # pragma: no cover - e.g. a folder that cannot be opened for reading
            continue
        try:
            os.fsync(fd)
        except OSError:  # pragma: no cover - file systems without fsync on folders
            pass
        finally:
            os.close(fd)


def _replace(tmp: Path, target: Path) -> None:
    if not (tmp.is_dir() and target.is_dir()):
        os.replace(tmp, target)
        return
    old = temporary_name(target, "-old")          # a folder cannot be renamed onto a non-empty folder
    os.replace(target, old)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old, target)
        raise
    _remove(old)


@contextmanager
def atomic_path(target):
    """Yield a temporary path beside ``target``; move it onto ``target`` when the block succeeds.

    Parameters
    ----------
    target : str or Path
        The final file (or folder). Its parent folder is created.

    Yields
    ------
    Path
        Where to write. The block may create a file or a folder there.

    Raises
    ------
    FileNotFoundError
        When the block ends without having written anything.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(target)
    _remove(tmp)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written for {target}")
        _fsync(tmp)
        _replace(tmp, target)
        _fsync(target.parent, contents=False)    # the rename itself (not the other files in that folder)
    finally:
        _remove(tmp)
