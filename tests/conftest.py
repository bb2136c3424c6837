"""Shared fixtures: seeds, the real datasets (skipped cleanly when ../shared/data is absent)."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
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


@pytest.fixture(scope="module")
def subscription():
    """A prepared subscription table: numeric + categorical columns, missing values, a known churn rule."""
    rng = np.random.default_rng(7)
    n = 3000
    contract = rng.choice(["month-to-month", "one_year", "two_year"], n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(1, 72, n).astype(float)
    charges = rng.normal(70, 25, n).clip(15)
    support = rng.poisson(1.0, n).astype(float)
    logit = (-1.0 + 1.6 * (contract == "month-to-month") - 0.04 * tenure + 0.012 * (charges - 70)
             + 0.35 * support)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    charges[rng.random(n) < 0.1] = np.nan
    X = pd.DataFrame({"contract": contract, "tenure_months": tenure, "monthly_charges": charges,
                      "support_calls": support, "paperless": rng.random(n) < 0.5},
                     index=pd.Index(np.arange(1, n + 1), name="customer_id"))
    X.loc[rng.random(n) < 0.05, "contract"] = None
    return X, y
