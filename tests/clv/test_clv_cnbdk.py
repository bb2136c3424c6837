"""BG/CNBD-k and MBG/CNBD-k: reduction to (M)BG/NBD, the grocery log's published figures, exactness by simulation."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from crmml.clv import (
    BetaGeoCNBDModel,
    BetaGeoModel,
    ModifiedBetaGeoCNBDModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    calibration_holdout,
)
from crmml.clv._bgnbd import _expected
from crmml.exceptions import ParameterError
from crmml.persistence import ModelLoadError, load, save

GROCERY = Path(__file__).resolve().parents[2] / ".." / ".." / "shared" / "data" / "grocery_elog" / "groceryElog.csv"
GROCERY = GROCERY if GROCERY.exists() else Path("/work/shared/data/grocery_elog/groceryElog.csv")


@pytest.fixture(scope="module")
def grocery():
    if not GROCERY.exists():
        pytest.skip("grocery log not available")
    e = pd.read_csv(GROCERY, parse_dates=["date"])
    tx = pd.DataFrame({"customer_id": e["cust"], "timestamp": e["date"], "amount": np.nan})
    # Platzer & Reutterer (2016) / BTYDplus: calibration 2006, holdout 2007 (52 weeks = 364 days)
    return calibration_holdout(tx, "2007-01-01", "2007-12-31", litt=True)


def _error(pred, actual):
    return float(np.abs(pred - actual).sum() / actual.sum())


def test_k1_is_bgnbd_and_mbgnbd(grocery):
    for cnbd, ref in ((BetaGeoCNBDModel(k=1), BetaGeoModel()), (ModifiedBetaGeoCNBDModel(k=1), ModifiedBetaGeoModel())):
        cnbd.fit(grocery)
        ref.fit(grocery)
        np.testing.assert_allclose(cnbd.params_.to_numpy(), ref.params_.to_numpy(), rtol=1e-5)
        assert cnbd.log_likelihood_ == pytest.approx(ref.log_likelihood_, abs=1e-4)     # litt enters with k-1 = 0
        np.testing.assert_allclose(cnbd.conditional_probability_alive(grocery), ref.conditional_probability_alive(grocery),
                                   rtol=1e-6)
        np.testing.assert_allclose(cnbd.conditional_expected_purchases(grocery, 364.0),
                                   ref.conditional_expected_purchases(grocery, 364.0), rtol=1e-6)
        np.testing.assert_allclose(cnbd.expected_purchases([30.0, 700.0]), ref.expected_purchases(np.array([30.0, 700.0])),
                                   rtol=1e-6)


@pytest.mark.slow
def test_grocery_log_reproduces_the_published_errors(grocery):
    """BTYDplus on this split: sum|error|/sum actual 0.710 BG/NBD, 0.679 Pareto/NBD, 0.644 MBG/CNBD-k (k=2).

    The published MBG/CNBD-k figure is BTYDplus' forecast (xbgcnbd.ConditionalExpectedTransactions: the
    (M)BG/NBD expectation with alpha scaled by k, times P(alive), rescaled to the cohort's exact
    unconditional total): crmml's ``forecast="btydplus"`` (measured 0.6440). The exact conditional
    expectation (``forecast="exact"``, the default) on the same fit is 0.630.
    """
    act = grocery["frequency_holdout"].to_numpy()
    assert _error(BetaGeoModel().fit(grocery).conditional_expected_purchases(grocery, 364.0), act) == \
        pytest.approx(0.710, abs=0.005)
    assert _error(ParetoNBDModel().fit(grocery).conditional_expected_purchases(grocery, 364.0), act) == \
        pytest.approx(0.679, abs=0.005)
    m = ModifiedBetaGeoCNBDModel(forecast="btydplus").fit(grocery)
    # BTYDplus' grid: k = 1, 2, ... stopping at the first k > 2 below k-1, itself below k-2 (here k = 4)
    assert m.k_ == 2 and list(m.k_log_likelihood_.index) == [1, 2, 3, 4]
    published = m.conditional_expected_purchases(grocery, 364.0)
    assert abs(_error(published, act) - 0.644) <= 0.01
    # the recipe written out from its formulas: same numbers
    r, alpha, a, b = m.params_
    x, T = grocery["frequency"].to_numpy(float), grocery["T"].to_numpy()
    approx = _expected((r, m.k_ * alpha, a, b + 1), x, T, 364.0) * m.conditional_probability_alive(grocery).to_numpy()
    approx *= (m.expected_purchases(T + 364.0).sum() - m.expected_purchases(T).sum()) / approx.sum()
    np.testing.assert_allclose(published.to_numpy(), approx, rtol=1e-9)
    exact = _error(m.set_params(forecast="exact").conditional_expected_purchases(grocery, 364.0), act)
    assert exact == pytest.approx(0.630, abs=0.005)
    bg = BetaGeoCNBDModel(forecast="btydplus").fit(grocery)
    assert bg.k_ == 2
    assert _error(bg.conditional_expected_purchases(grocery, 364.0), act) == pytest.approx(0.663, abs=0.005)


@pytest.mark.slow
def test_grocery_fit_does_not_depend_on_the_time_unit(grocery):
    """BTYDplus works in weeks, crmml's split in days: litt in days is litt in weeks + x log 7, which shifts the
    log-likelihood by -x log 7 for every k alike, so k, r, a, b, alpha/7 and the forecasts are the same."""
    weeks = grocery.assign(recency=grocery["recency"] / 7, T=grocery["T"] / 7,
                           litt=grocery["litt"] - grocery["frequency"] * np.log(7))
    days_fit, weeks_fit = ModifiedBetaGeoCNBDModel().fit(grocery), ModifiedBetaGeoCNBDModel().fit(weeks)
    assert days_fit.k_ == weeks_fit.k_ == 2
    np.testing.assert_allclose(weeks_fit.params_.to_numpy() * [1, 7, 1, 1], days_fit.params_.to_numpy(), rtol=1e-4)
    np.testing.assert_allclose(weeks_fit.conditional_expected_purchases(weeks, 52.0),
                               days_fit.conditional_expected_purchases(grocery, 364.0), rtol=1e-4)


def test_btydplus_forecast_rescales_whole_cohorts_only():
    """``forecast="btydplus"``: rows rescaled together to the exact unconditional total when k > 1 and there
    are at least 100 rows; fewer rows (or k = 1) get P(alive) times the scaled (M)BG/NBD expectation."""
    rng = np.random.default_rng(3)
    params, k = (2.0, 20.0, 0.6, 4.0), 2
    s, _ = _simulate(params, k, 1, 300, 60.0, 30.0, rng)
    m = ModifiedBetaGeoCNBDModel(k=k, forecast="btydplus")
    m.k_ = k
    full = m.conditional_expected_purchases(s, 30.0, params=params).to_numpy()
    T = s["T"].to_numpy()
    total = (m.expected_purchases(T + 30.0, params=params) - m.expected_purchases(T, params=params)).sum()
    assert full.sum() == pytest.approx(total, rel=1e-10)
    few = m.conditional_expected_purchases(s.iloc[:99], 30.0, params=params).to_numpy()
    r, alpha, a, b = params
    raw = _expected((r, k * alpha, a, b + 1), s["frequency"].to_numpy(float)[:99], T[:99], 30.0)
    np.testing.assert_allclose(few, raw * m.conditional_probability_alive(s.iloc[:99], params=params), rtol=1e-12)
    np.testing.assert_allclose(full[:99] / few, full[0] / few[0], rtol=1e-12)        # one factor for all rows
    with pytest.raises(ParameterError, match="The 'forecast' parameter of ModifiedBetaGeoCNBDModel must be"):
        ModifiedBetaGeoCNBDModel(forecast="approx").fit(s)


def _simulate(params, k, m, n, T, t, rng, n_max=150):
    """Customers of the (M)BG/CNBD-k model born at 0: calibration summary over (0, T] and holdout counts in (T, T+t]."""
    r, alpha, a, b = params
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    gaps = rng.gamma(k, 1.0, (n, n_max)) / lam[:, None]
    times = np.cumsum(gaps, axis=1)
    survived = rng.geometric(p) - m            # repeat purchases made before dropping out
    j = np.arange(1, n_max + 1)
    made = j[None, :] <= survived[:, None]
    cal = made & (times <= T)
    x = cal.sum(axis=1)
    tx = np.where(x > 0, np.take_along_axis(times, np.maximum(x - 1, 0)[:, None], axis=1)[:, 0], 0.0)
    litt = (np.log(gaps) * cal).sum(axis=1)
    hold = (made & (times > T) & (times <= T + t)).sum(axis=1)
    s = pd.DataFrame({"frequency": x, "recency": tx, "T": T, "litt": litt})
    return s, hold


@pytest.mark.parametrize("cls, m", [(BetaGeoCNBDModel, 0), (ModifiedBetaGeoCNBDModel, 1)])
def test_conditional_expectation_is_exact_by_simulation(cls, m):
    """E[holdout count] = mean of the conditional expectations (law of total expectation), at the true parameters."""
    rng = np.random.default_rng(7)
    params, k = (2.0, 20.0, 0.6, 4.0), 3
    s, hold = _simulate(params, k, m, 20_000, 60.0, 50.0, rng)
    model = cls(k=k, forecast="exact")
    model.k_ = k
    pred = model.conditional_expected_purchases(s, 50.0, params=params).to_numpy()
    se = hold.std() / np.sqrt(len(hold))
    assert abs(pred.mean() - hold.mean()) < 3 * se
    # and per calibration frequency (the calibration/holdout table), not only on average
    for xv in (0, 1, 3):
        sel = s["frequency"].to_numpy() == xv
        assert abs(pred[sel].mean() - hold[sel].mean()) < 4 * hold[sel].std() / np.sqrt(sel.sum()) + 1e-3
    assert float(model.expected_purchases(60.0, params=params)) == pytest.approx(
        s["frequency"].mean(), abs=3 * s["frequency"].std() / np.sqrt(len(s)))


def test_gradient_and_errors(tmp_path):
    rng = np.random.default_rng(1)
    s, _ = _simulate((2.0, 20.0, 0.6, 4.0), 3, 1, 400, 60.0, 10.0, rng)
    model = ModifiedBetaGeoCNBDModel(k=3)
    model._k_fit = 3
    d = {c: s[c].to_numpy(float) for c in ("frequency", "recency", "T", "litt")}
    p = np.array([1.5, 15.0, 0.7, 3.0])
    _, g = model._loglik_grad(p, d)
    for j in range(4):
        e = np.zeros(4)
        e[j] = 1e-6 * p[j]
        num = (model._loglik_grad(p + e, d)[0].sum() - model._loglik_grad(p - e, d)[0].sum()) / (2 * e[j])
        assert g[:, j].sum() == pytest.approx(num, rel=1e-5)
    fitted = ModifiedBetaGeoCNBDModel().fit(s)
    assert fitted.k_ in (2, 3, 4)
    with pytest.raises(ValueError, match=r"lacks the columns \['litt'\].*summarize"):
        ModifiedBetaGeoCNBDModel().fit(s.drop(columns="litt"))
    with pytest.raises(ValueError, match="The 'k' parameter of ModifiedBetaGeoCNBDModel must be"):
        ModifiedBetaGeoCNBDModel(k=0).fit(s)
    path = save(fitted, tmp_path / "cnbd.zip")
    pd.testing.assert_series_equal(load(path).conditional_expected_purchases(s, 10.0),
                                   fitted.conditional_expected_purchases(s, 10.0))
    path = save(fitted.set_params(forecast="btydplus"), tmp_path / "cnbd_btydplus.zip")
    assert load(path).forecast == "btydplus"
    pd.testing.assert_series_equal(load(path).conditional_expected_purchases(s, 10.0),
                                   fitted.conditional_expected_purchases(s, 10.0))
    fitted.k_ = 10**9                                   # a hostile k_ would size the series
    path = save(fitted, tmp_path / "cnbd_bad.zip")
    with pytest.raises(ModelLoadError, match=r"k_ must be an int in \[1, 12\]"):
        load(path)
