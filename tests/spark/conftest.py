"""Helpers of the crmml.spark tests (the ``spark`` session fixture is in the rootdir conftest)."""

from __future__ import annotations

import io
import zipfile

import pytest


def _tampered(blob: bytes) -> bytes:
    """A model zip whose metadata.json changed after saving: its manifest check fails, deterministically."""
    src, out = zipfile.ZipFile(io.BytesIO(blob)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for info in src.infolist():
            data = src.read(info.filename)
            z.writestr(info, data + b" " if info.filename == "metadata.json" else data)
    return out.getvalue()


@pytest.fixture
def tamper():
    return _tampered
