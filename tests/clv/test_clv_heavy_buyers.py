"""BG/NBD, Pareto/NBD and Gamma-Gamma stay finite for heavy buyers and long horizons (issue 12).

The BG/NBD conditional expectation used to return NaN for frequency >= 1500 at 39 weeks, >= 500 at
520 weeks and a daily buyer's 5-year CLV (2F1 overflowing to inf times a power underflowing to 0).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from crmml.clv import BetaGeoModel, CLVModel, GammaGammaModel, ParetoNBDModel
from crmml.datasets import load_cdnow_summary, make_synthetic_crm
from crmml.exceptions import NonFiniteResultError


@pytest.fixture(scope="module")
def cdnow_bg():
    return BetaGeoModel().fit(load_cdnow_summary())


def _grid():
    rows = []
    for x in (0, 1, 2, 10, 100, 500, 1500, 5000, 20000):
        for T in (39.0, 78.0, 520.0, 1825.0):
            for share in ((0.0,) if x == 0 else (0.5, 0.97, 1.0)):
                rows.append((float(x), T * share, T))
    return pd.DataFrame(rows, columns=["frequency", "recency", "T"])


def _lifetimes_expected(params, t, s):
    from lifetimes import BetaGeoFitter

    lf = BetaGeoFitter()
    lf.params_ = pd.Series(dict(zip(["r", "alpha", "a", "b"], params)))
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.asarray(lf.conditional_expected_number_of_purchases_up_to_time(
            t, s["frequency"].to_numpy(), s["recency"].to_numpy(), s["T"].to_numpy()), dtype=float)


@pytest.mark.parametrize("t", [1.0, 39.0, 520.0, 260.0 * 7])
def test_bgnbd_expectation_finite_and_equal_to_lifetimes(cdnow_bg, t):
    s = _grid()
    ours = cdnow_bg.conditional_expected_purchases(s, t).to_numpy()
    ref = _lifetimes_expected(cdnow_bg.params_.to_numpy(), t, s)
    assert np.isfinite(ours).all(), s[~np.isfinite(ours)]
    assert (ours >= 0).all()
    ok = np.isfinite(ref)
    assert ok.sum() >= 0.9 * len(ref)          # the comparison covers most of the grid
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-8, atol=1e-300)


def _expected_by_quadrature(params, x, tx, T, t):
    """Independent reference: p_alive x E over p ~ Beta(a, b+x) of (1/p)(1 - ((alpha+T)/(alpha+T+p t))^(r+x))."""
    r, alpha, a, b = params
    post = stats.beta(a, b + x)

    def g(u):
        p = post.ppf(u)
        return -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        val, _ = integrate.quad(g, 0.0, 1.0, epsabs=0.0, epsrel=1e-10, limit=400)
    return BetaGeoModel._p_alive(params, np.array([x]), np.array([tx]), np.array([T]))[0] * val


@pytest.mark.parametrize("x, tx, T, t", [
    (1500.0, 39.0, 39.0, 39.0),        # the reported cases
    (500.0, 520.0, 520.0, 520.0),
    (1825.0, 1825.0, 1825.0, 1826.0),  # a daily buyer's 5 years (days)
    (20000.0, 1800.0, 1825.0, 3650.0),
])
def test_bgnbd_expectation_matches_numerical_integration(cdnow_bg, x, tx, T, t):
    params = cdnow_bg.params_.to_numpy()
    s = pd.DataFrame({"frequency": [x], "recency": [tx], "T": [T]})
    ours = cdnow_bg.conditional_expected_purchases(s, t).iloc[0]
    assert np.isfinite(ours)
    np.testing.assert_allclose(ours, _expected_by_quadrature(params, x, tx, T, t), rtol=1e-7)


def test_unconditional_expectation_unchanged(cdnow_bg):
    from lifetimes import BetaGeoFitter

    lf = BetaGeoFitter()
    lf.params_ = pd.Series(dict(zip(["r", "alpha", "a", "b"], cdnow_bg.params_.to_numpy())))
    t = np.array([1.0, 39.0, 520.0, 5000.0])
    np.testing.assert_allclose(cdnow_bg.expected_purchases(t), lf.expected_number_of_purchases_up_to_time(t),
                               rtol=1e-10)


def test_paretonbd_and_gammagamma_finite_for_heavy_buyers():
    s = _grid()
    pm = ParetoNBDModel().fit(load_cdnow_summary())
    for t in (1.0, 39.0, 520.0, 1825.0):
        assert np.isfinite(pm.conditional_expected_purchases(s, t)).all()
    assert np.isfinite(pm.conditional_probability_alive(s)).all()
    gg = GammaGammaModel()
    gg.params_ = pd.Series([6.25, 3.74, 15.45], index=["p", "q", "gamma"])
    spend = gg.conditional_expected_spend(pd.DataFrame({"frequency": [1500.0, 1e6, 2.0],
                                                        "monetary_value": [1e306, 50.0, 1e-300]}))
    assert np.isfinite(spend).all() and spend.iloc[0] == pytest.approx(1e306, rel=1e-3)


def test_daily_buyer_five_year_clv_is_finite():
    crm = make_synthetic_crm(n_customers=300, seed=3, with_events=False)
    tx = crm.transactions[["customer_id", "timestamp", "amount"]]
    days = pd.date_range("2019-07-01", "2024-06-30", freq="D")
    daily = pd.DataFrame({"customer_id": 999_999, "timestamp": days, "amount": 10.0})
    m = CLVModel(horizon_days=5 * 365).fit(pd.concat([tx, daily], ignore_index=True), "2024-07-01")
    pred = m.predict()
    row = pred.loc[999_999]
    assert row["frequency"] >= 1800 and np.isfinite(row[["expected_purchases", "clv"]].astype(float)).all()
    assert row["expected_purchases"] > 100                 # a daily buyer who bought yesterday keeps buying
    ok = pred["rule"] != "no_purchase"
    assert np.isfinite(pred.loc[ok, ["p_alive", "expected_purchases", "clv"]].to_numpy(float)).all()


def test_predict_refuses_non_finite_values(monkeypatch):
    crm = make_synthetic_crm(n_customers=200, seed=3, with_events=False)
    m = CLVModel(horizon_days=90).fit(crm.transactions, "2024-07-01")
    victim = m.summary_.index[3]
    orig = type(m.purchase_model_).conditional_expected_purchases

    def broken(self, summary, t, **kw):
        out = orig(self, summary, t, **kw)
        return out.where(out.index != victim, np.nan)

    monkeypatch.setattr(type(m.purchase_model_), "conditional_expected_purchases", broken)
    with pytest.raises(NonFiniteResultError, match=rf"finite values for 1 customer\(s\), e.g. customer_id \[{victim}\]"):
        m.predict()


@pytest.mark.parametrize("kw, match", [
    ({"horizon_days": 10**8}, r"The 'horizon_days' parameter of CLVModel must be an int in \[1, 3650\]. Got 100000000"),
    ({"discount_rate": float("inf")}, r"The 'discount_rate' parameter of CLVModel must be a float >= 0. Got inf"),
    ({"margin": float("nan")}, r"The 'margin' parameter of CLVModel must be a float > 0. Got nan"),
])
def test_clv_parameter_bounds_checked_before_work(kw, match):
    with pytest.raises(ValueError, match=match):
        CLVModel(**kw).fit(pd.DataFrame({"customer_id": [1], "timestamp": [pd.Timestamp("2024-01-01")],
                                         "amount": [1.0]}), "2024-02-01")


def test_predict_interval_bounds():
    crm = make_synthetic_crm(n_customers=200, seed=3, with_events=False)
    m = CLVModel(horizon_days=90).fit(crm.transactions, "2024-07-01")
    with pytest.raises(ValueError, match=r"The 'n_draws' parameter of CLVModel.predict_interval must be an int in "
                                         r"\[10, 100000\]. Got 10000000"):
        m.predict_interval(n_draws=10**7)
    with pytest.raises(ValueError, match=r"The 'horizon_days' parameter of CLVModel.predict must be an int in"):
        m.predict(horizon_days=10**8)


@pytest.mark.parametrize("kw, match", [
    ({"max_iter": 10**9}, r"The 'max_iter' parameter of BetaGeoModel must be an int in \[1, 100000\]"),
    ({"tol": float("nan")}, r"The 'tol' parameter of BetaGeoModel must be a float in \(0, 1\]. Got nan"),
    ({"tol": float("inf")}, r"The 'tol' parameter of BetaGeoModel must be a float in \(0, 1\]. Got inf"),
])
def test_fitter_bounds(kw, match):
    with pytest.raises(ValueError, match=match):
        BetaGeoModel(**kw).fit(load_cdnow_summary())


def test_sample_params_bounds(cdnow_bg):
    with pytest.raises(ValueError, match=r"The 'n_draws' parameter of BetaGeoModel.sample_params must be an int in"):
        cdnow_bg.sample_params(10**9)


def test_degenerate_fit_of_regular_buyers_gets_finite_expectations():
    """Very regular buyers drive the BG/NBD fit to a -> 0 with r, alpha, b in the millions, where scipy's 2F1
    fails in both closed forms for every customer (0.1 gave NaN silently): the quadrature fallback is finite,
    equals lambda * t (no dropout) there, and agrees with the closed form where that one is finite."""
    from crmml.clv._bgnbd import _expected, _expected_by_quadrature

    prm = (45052524.7, 2877079669.6, 9.9e-06, 193557.3)
    x, T, t = np.array([0.0, 1.0, 5.0, 40.0]), np.array([10.0, 200.0, 307.0, 364.0]), 365.0
    out = _expected(prm, x, T, t)
    np.testing.assert_allclose(out, (prm[0] + x) * t / (prm[1] + T), rtol=1e-6)
    cdnow = (0.243, 4.414, 0.793, 2.426)
    for x, T, t in [(0.0, 0.0, 39.0), (2.0, 30.0, 39.0), (10.0, 38.0, 39.0), (1500.0, 39.0, 39.0), (0.0, 20.0, 100.0)]:
        np.testing.assert_allclose(_expected_by_quadrature(cdnow, x, T, t), _expected(cdnow, x, T, t), rtol=2e-6)
