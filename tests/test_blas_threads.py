"""Fits whose dense products go through BLAS give the same numbers for any number of BLAS threads.

A product split among threads rounds differently, so the coefficients of a logistic fit moved in the 15th-17th
digit with the machine's core count (and spin-waiting threads slowed small fits several times on a busy machine).
crmml runs these fits on one BLAS thread (``crmml._utils._blas.one_blas_thread``). The lead scorer's case is in
tests/scoring/test_scoring_bank.py.
"""

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from crmml._utils import ProbabilityCalibrator
from crmml.churn import RecencyFrequencyBaseline


def _under_each_thread_count(fit):
    out = []
    for n in (1, 2):
        with threadpool_limits(limits=n, user_api="blas"):
            out.append(fit())
    return out


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 400_000
    X = pd.DataFrame({"purchase_recency_all": rng.exponential(60, n),
                      "purchase_count_all": rng.poisson(4, n).astype(float)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(X["purchase_recency_all"] / 60 - 1)))).astype(int)
    return X, y.to_numpy()


def test_churn_baseline_coefficients_do_not_depend_on_blas_threads(data):
    X, y = data
    a, b = _under_each_thread_count(lambda: RecencyFrequencyBaseline().fit(X, y).model_.coef_.copy())
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("periods", [False, True])
def test_platt_calibration_does_not_depend_on_blas_threads(data, periods):
    X, y = data
    score = 1 / (1 + np.exp(-(X["purchase_recency_all"].to_numpy() / 50 - 1.2)))
    g = np.arange(len(y)) % 4 if periods else None
    fits = _under_each_thread_count(lambda: ProbabilityCalibrator("sigmoid").fit(score, y, periods=g))
    assert fits[0].coef_ == fits[1].coef_
    np.testing.assert_array_equal(fits[0].period_intercepts_, fits[1].period_intercepts_)
