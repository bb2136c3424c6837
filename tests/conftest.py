"""Shared fixtures: seeds, the real datasets (skipped cleanly when ../shared/data is absent)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from crmml.datasets import DatasetNotFoundError, shared_data_dir


def pytest_report_header(config):
    return f"crmml shared data: {shared_data_dir()}"


@pytest.fixture
def seed():
    return 12345


def _load_or_skip(loader, **kw):
    try:
        return loader(**kw)
    except DatasetNotFoundError as exc:  # CI has ../shared/data, so these run there
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def online_retail():
    """The full UCI Online Retail transactions (406,829 lines with a customer)."""
    from crmml.datasets import load_online_retail

    return _load_or_skip(load_online_retail)


@pytest.fixture(scope="session")
def cdnow():
    """The full CDNOW master transactions (69,659 rows)."""
    from crmml.datasets import load_cdnow

    return load_cdnow()


@pytest.fixture(scope="session")
def bank_leads():
    """UCI bank marketing (bank-additional-full) as leads, without `duration`."""
    from crmml.datasets import load_bank_marketing

    return _load_or_skip(load_bank_marketing)


@pytest.fixture(scope="session")
def grocery():
    from crmml.datasets import load_grocery

    return _load_or_skip(load_grocery)


@pytest.fixture(scope="session")
def synthetic_crm():
    """A 5,000-customer synthetic CRM with known truth (seed 0). Do not mutate its frames."""
    from crmml.datasets import make_synthetic_crm

    return make_synthetic_crm(n_customers=5_000, seed=0)
