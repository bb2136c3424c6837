"""Fixtures shared by the churn tests."""

import numpy as np
import pandas as pd
import pytest


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
