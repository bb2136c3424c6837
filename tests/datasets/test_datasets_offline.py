"""README: "Nothing is ever downloaded. ``../shared/data`` is found above the working directory or the package, or
set with ``CRMML_SHARED_DATA``." Every loader runs with the network blocked, and the look-up is checked on folder
layouts built in a temporary directory."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from crmml import datasets
from crmml.datasets import DatasetNotFoundError, shared_data_dir

SHIPPED = [("load_cdnow", {}), ("load_cdnow_summary", {}), ("load_online_retail", {"sample": True}),
           ("load_bank_marketing", {"sample": True}), ("make_synthetic_crm", {"n_customers": 50, "seed": 1})]
SHARED = [("load_online_retail", {}), ("load_bank_marketing", {}), ("load_grocery", {}), ("load_hillstrom", {})]


@pytest.fixture
def no_network(monkeypatch):
    """Every way to open a connection or resolve a name raises; the calls are recorded."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:] if args and isinstance(args[0], socket.socket) else args)
        raise OSError("network access blocked by the test")

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse)
    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    with pytest.raises(OSError, match="blocked"):                    # the block is armed
        socket.create_connection(("example.com", 80), timeout=1)
    attempts.clear()
    return attempts


def test_shipped_loaders_read_local_files_with_the_network_blocked(no_network, monkeypatch, tmp_path):
    monkeypatch.setenv("CRMML_SHARED_DATA", str(tmp_path))            # nothing there: only shipped files can be read
    for name, kw in SHIPPED:
        got = getattr(datasets, name)(**kw)
        assert len(got.transactions if name == "make_synthetic_crm" else got) > 0, name
    for name, kw in SHARED:                                          # absent data is an error, never a download
        with pytest.raises(DatasetNotFoundError, match="CRMML_SHARED_DATA"):
            getattr(datasets, name)(**kw)
    assert no_network == []


@pytest.mark.parametrize("name, kw", SHARED, ids=[n for n, _ in SHARED])
def test_shared_data_loaders_read_local_files_with_the_network_blocked(no_network, name, kw):
    if shared_data_dir() is None:
        pytest.skip("../shared/data is absent (CI has it)")
    assert len(getattr(datasets, name)(**kw)) > 1000
    assert no_network == []


def _shared(root: Path) -> Path:
    folder = root / "shared" / "data"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("data\n")
    return folder


def test_shared_data_is_found_above_the_working_directory_or_the_package(monkeypatch, tmp_path):
    from crmml.datasets import _loaders

    monkeypatch.delenv("CRMML_SHARED_DATA", raising=False)
    # the package somewhere with no shared data above it, and a working directory with none either
    package = tmp_path / "site" / "crmml" / "datasets" / "_loaders.py"
    package.parent.mkdir(parents=True)
    monkeypatch.setattr(_loaders, "__file__", str(package))
    work = tmp_path / "elsewhere" / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    assert shared_data_dir() is None
    with pytest.raises(DatasetNotFoundError, match="was not found.*CRMML_SHARED_DATA"):
        datasets.load_grocery()

    (tmp_path / "elsewhere" / "shared" / "data").mkdir(parents=True)  # a shared/data without README.md: ignored
    assert shared_data_dir() is None
    above_package = _shared(tmp_path / "site")                       # .../site/shared/data, above the package
    assert shared_data_dir() == above_package
    above_cwd = _shared(tmp_path / "elsewhere" / "a")                # the working directory is searched first
    assert shared_data_dir() == above_cwd

    chosen = tmp_path / "mine"
    chosen.mkdir()
    monkeypatch.setenv("CRMML_SHARED_DATA", str(chosen))           # the environment variable wins
    assert shared_data_dir() == chosen
    (chosen / "grocery_elog").mkdir()
    (chosen / "grocery_elog" / "groceryElog.csv").write_text('"cust","date"\n"1","2006-01-01"\n"1","2006-02-01"\n')
    assert len(datasets.load_grocery()) == 2
