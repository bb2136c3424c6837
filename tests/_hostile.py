"""Helpers for hostile-file tests of fitted state: edit one saved array or the metadata, re-sign as a forger would."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent / "persistence"))
import _fuzz_cases as fc  # noqa: E402


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def write(path, mem: dict) -> Path:
    Path(path).write_bytes(fc.zip_bytes(fc.resign(mem)))
    return Path(path)


def edit_state_array(mem: dict, attr: str, edit) -> dict:
    """Replace the ndarray stored as the root estimator's attribute ``attr`` by ``edit(array)``."""
    meta = json.loads(mem["metadata.json"])
    member = meta["root"]["state"][attr]["file"]
    a = np.load(io.BytesIO(mem[member]), allow_pickle=False)
    buf = io.BytesIO()
    np.save(buf, edit(a.copy()), allow_pickle=False)
    return {**mem, member: buf.getvalue()}


def edit_meta(mem: dict, edit) -> dict:
    meta = json.loads(mem["metadata.json"])
    edit(meta)
    return {**mem, "metadata.json": json.dumps(meta).encode()}


def edit_state_frame(mem: dict, attr: str, edit) -> dict:
    """Replace the parquet DataFrame stored as the root estimator's attribute ``attr`` by ``edit(flat frame)``
    (columns are stored as ``c0, c1, ...`` in the saved order)."""
    import pandas as pd

    meta = json.loads(mem["metadata.json"])
    member = meta["root"]["state"][attr]["file"]
    flat = pd.read_parquet(io.BytesIO(mem[member]))
    buf = io.BytesIO()
    edit(flat).to_parquet(buf, index=False)
    return {**mem, member: buf.getvalue()}
