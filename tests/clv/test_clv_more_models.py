"""MBG/NBD, BG/BB, NBD and sBG: parity with lifetimes / published values, numerics, errors, hostile files."""

import io
import json
import os
import sys

import numpy as np
import pandas as pd
import pytest
from scipy.special import betaln

from crmml.clv import (
    BetaGeoBetaBinomModel,
    CLVModel,
    ModifiedBetaGeoModel,
    NBDModel,
    ShiftedBetaGeometricModel,
)
from crmml.clv._sbg import _SBGCohort
from crmml.datasets import load_cdnow_summary, make_synthetic_crm
from crmml.persistence import ModelLoadError, load, save

#: Fader & Hardie (2007), Table 1: customers of each 1,000-customer cohort still active after years 0..12
#: (years 0-7 calibrate, 8-12 are the published holdout)
FH_REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173]
FH_HIGHEND = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


@pytest.fixture(scope="module")
def cdnow():
    return load_cdnow_summary()


@pytest.fixture(scope="module")
def donations():
    from lifetimes.datasets import load_donations

    d = load_donations()
    return d.rename(columns={"periods": "n_periods"})[["frequency", "recency", "n_periods"]], d["weights"].to_numpy()


def _xtT(s, last="T"):
    return s["frequency"].to_numpy(float), s["recency"].to_numpy(float), s[last].to_numpy(float)


def test_mbgnbd_matches_lifetimes_on_cdnow(cdnow):
    from lifetimes import ModifiedBetaGeoFitter

    x, tx, T = _xtT(cdnow)
    ours, theirs = ModifiedBetaGeoModel().fit(cdnow), ModifiedBetaGeoFitter().fit(x, tx, T)
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(ours.params_.to_numpy(), [0.525, 6.183, 0.891, 1.614], atol=5e-4)  # lifetimes' test
    np.testing.assert_allclose(ours.summary_["se"].to_numpy(), theirs.summary["se(coef)"].to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(ours.conditional_probability_alive(cdnow).to_numpy(),
                               theirs.conditional_probability_alive(x, tx, T), rtol=1e-3)
    for t in (1.0, 39.0, 200.0):
        np.testing.assert_allclose(ours.conditional_expected_purchases(cdnow, t).to_numpy(),
                                   theirs.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T), rtol=1e-3)
        np.testing.assert_allclose(ours.expected_purchases(t), theirs.expected_number_of_purchases_up_to_time(t),
                                   rtol=1e-3)
    # what sets it apart from BG/NBD: one-time buyers are not certainly alive
    assert (ours.conditional_probability_alive(cdnow)[cdnow["frequency"] == 0] < 1).all()


def test_bgbb_matches_lifetimes_on_donations(donations):
    from lifetimes import BetaGeoBetaBinomFitter

    s, w = donations
    x, tx, n = _xtT(s, "n_periods")
    ours = BetaGeoBetaBinomModel().fit(s, sample_weight=w)
    theirs = BetaGeoBetaBinomFitter().fit(x, tx, n, w)
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(ours.params_.to_numpy(), [1.204, 0.750, 0.657, 2.783], atol=1e-3)  # FHS 2010
    np.testing.assert_allclose(ours.summary_["se"].to_numpy(), theirs.summary["se(coef)"].to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(ours.conditional_probability_alive(s).to_numpy(),
                               theirs.conditional_probability_alive(0, x, tx, n), rtol=1e-3)
    for m in (1, 5, 10):
        np.testing.assert_allclose(ours.conditional_expected_purchases(s, m).to_numpy(),
                                   theirs.conditional_expected_number_of_purchases_up_to_time(m, x, tx, n), rtol=1e-3)
    pmf = theirs.expected_number_of_transactions_in_first_n_periods(6).iloc[:, 0]
    assert float(ours.expected_purchases(6)) == pytest.approx((pmf.index * pmf).sum() / pmf.sum(), rel=1e-3)


def test_nbd_is_the_negative_binomial_mle():
    """Equal ages: the NBD fit is the textbook negative binomial MLE of the counts (scipy's pmf, Nelder-Mead)."""
    from scipy import optimize, stats

    rng = np.random.default_rng(0)
    x = rng.poisson(rng.gamma(0.7, 1 / 3.0, 3000) * 10)
    s = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, 5.0, 0.0), "T": 10.0})
    m = NBDModel().fit(s)

    def nll(p):
        r, a = np.exp(p)
        return -stats.nbinom.logpmf(x, r, a / (a + 10)).sum()

    ref = np.exp(optimize.minimize(nll, [0, 0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-10}).x)
    np.testing.assert_allclose(m.params_.to_numpy(), ref, rtol=1e-4)
    from scipy.special import gammaln

    # the event-time likelihood (papers' scale) is the count pmf less x log T - log x!
    assert m.log_likelihood_ == pytest.approx(-nll(np.log(ref)) - (x * np.log(10.0) - gammaln(x + 1)).sum(), abs=1e-3)
    r, a = m.params_
    np.testing.assert_allclose(m.conditional_expected_purchases(s, 5.0), (r + x) / (a + 10) * 5.0)


def test_sbg_reproduces_fader_hardie_2007():
    """Published MLEs (F&H 2007, 7 years of data): regular gamma=0.704, delta=1.182; high end 0.668, 3.806."""
    surv = pd.DataFrame({"regular": FH_REGULAR[:8], "highend": FH_HIGHEND[:8]})
    m = ShiftedBetaGeometricModel().fit(surv)
    np.testing.assert_allclose(m.params_.loc["regular"].to_numpy(), [0.704, 1.182], atol=5e-4)
    np.testing.assert_allclose(m.params_.loc["highend"].to_numpy(), [0.668, 3.806], atol=5e-4)
    assert m.converged_.all()
    # the projection of years 8-12 against the published actuals (the paper's Figure: within 2 points)
    proj = m.retention_curve(12).loc[8:]
    actual = pd.DataFrame({"regular": FH_REGULAR[8:], "highend": FH_HIGHEND[8:]}, index=proj.index) / 1000
    assert (proj - actual).abs().to_numpy().max() < 0.02
    iv = m.retention_interval(12, level=0.95, random_state=0).loc[8:]
    for c in ("regular", "highend"):
        assert (iv[(c, "lower")] < proj[c]).all() and (proj[c] < iv[(c, "upper")]).all()
    r = m.retention_rates(12)
    np.testing.assert_allclose(r.to_numpy(), (m.retention_curve(12).iloc[1:].to_numpy()
                                              / m.retention_curve(12).iloc[:-1].to_numpy()), rtol=1e-12)


def test_sbg_residual_lifetime_equals_direct_sums():
    m = ShiftedBetaGeometricModel().fit(pd.DataFrame({"a": FH_REGULAR[:8], "b": [500, 300, 200, 140, 100, 70, 50, 35]}))
    g, d = m.params_["gamma"].to_numpy(), m.params_["delta"].to_numpy()
    t = np.arange(0, 200_000, dtype=float)
    for n in (0, 4):
        for disc in (0.1, 0.25):
            got = m.expected_residual_lifetime(n, discount_rate=disc).to_numpy()
            for j in range(2):
                s = np.exp(betaln(g[j], d[j] + n + 1 + t) - betaln(g[j], d[j] + n))
                np.testing.assert_allclose(got[j], (s * (1 + disc) ** -t).sum(), rtol=1e-9)
        undiscounted = m.expected_residual_lifetime(n).to_numpy()
        assert np.all(np.where(g > 1, np.isclose(undiscounted, (d + n) / (g - 1)), np.isinf(undiscounted)))


@pytest.mark.parametrize("model, params, data", [
    (ModifiedBetaGeoModel(), [0.4, 6.0, 0.7, 3.0], "cdnow"),
    (NBDModel(), [0.4, 6.0], "cdnow"),
    (BetaGeoBetaBinomModel(), [1.1, 0.8, 0.6, 2.5], "donations"),
    (_SBGCohort(), [0.7, 1.2], "sbg"),
])
def test_analytic_gradients(cdnow, donations, model, params, data):
    if data == "cdnow":
        d = {c: cdnow[c].to_numpy(float)[:400] for c in ("frequency", "recency", "T")}
    elif data == "donations":
        d = {c: donations[0][c].to_numpy(float) for c in ("frequency", "recency", "n_periods")}
    else:
        d = {"period": np.array([1.0, 2, 3, 7, 7]), "churned": np.array([1.0, 1, 1, 1, 0])}
    p = np.asarray(params)
    _, g = model._loglik_grad(p, d)
    for j in range(len(p)):
        e = np.zeros(len(p))
        e[j] = 1e-6 * p[j]
        num = (model._loglik_grad(p + e, d)[0].sum() - model._loglik_grad(p - e, d)[0].sum()) / (2 * e[j])
        assert g[:, j].sum() == pytest.approx(num, rel=1e-5)


def test_clv_model_runs_the_new_purchase_models():
    crm = make_synthetic_crm(n_customers=300, seed=1, with_events=False)
    for name in ("mbgnbd", "nbd"):
        m = CLVModel(name, horizon_days=180).fit(crm.transactions, as_of="2024-07-01")
        pred = m.predict()
        iv = m.predict_interval(n_draws=50, random_state=0)
        assert np.isfinite(pred["clv"]).all() and (iv["clv_lower"] <= iv["clv_upper"]).all()
        assert (iv["expected_purchases_lower"] <= pred["expected_purchases"] * 1.5 + 1e-9).all()
    assert (m.predict()["p_alive"].dropna() == 1).all()           # NBD: nobody drops out


def test_bad_inputs_get_named_errors():
    bad = pd.DataFrame({"frequency": [2, 1], "recency": [1, 3], "n_periods": [6, 6]})     # x > t_x
    with pytest.raises(ValueError, match=r"BetaGeoBetaBinomModel.fit has 1 invalid rows .*0 <= frequency <= "
                                         r"recency <= n_periods.*customer_id \[0\]"):
        BetaGeoBetaBinomModel().fit(bad)
    sbg = ShiftedBetaGeometricModel()
    with pytest.raises(ValueError, match="the cohort 'a' has survivor counts that increase"):
        sbg.fit(pd.DataFrame({"a": [100, 80, 90]}))
    with pytest.raises(ValueError, match="the cohort 'a' holds counts that are not non-negative integers"):
        sbg.fit(pd.DataFrame({"a": [100, 80.5, 60]}))
    with pytest.raises(ValueError, match="the cohort 'a' needs period 0 .* NaN only after the last observed one"):
        sbg.fit(pd.DataFrame({"a": [100, np.nan, 60]}))
    with pytest.raises(ValueError, match="the cohort 'a' has no churn or no survivor"):
        sbg.fit(pd.DataFrame({"a": [100, 100, 100]}))
    with pytest.raises(ValueError, match=r"the cohort 'a' holds 1 non-numeric values \(e.g. \['n/a'\]\)"):
        sbg.fit(pd.DataFrame({"a": [100, 60, 45, "n/a"]}))     # was read as NaN: the last period silently dropped
    with pytest.raises(ValueError, match="expects a DataFrame of survivor counts"):
        sbg.fit([1000, 600])
    fitted = sbg.fit(pd.DataFrame({"a": [100, 60, 45], "b": [50, 40, np.nan]}))       # ragged cohorts are fine
    assert list(fitted.params_.index) == ["a", "b"]
    with pytest.raises(ValueError, match="The 'discount_rate' parameter of ShiftedBetaGeometricModel"):
        fitted.expected_residual_lifetime(0, discount_rate=-0.1)


def _edit_frame(path, column_or_key, edit):
    """Rewrite the parquet frame holding state ``column_or_key`` of the saved model and re-sign the manifest."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "persistence"))
    import _fuzz_cases as fc

    members = fc.members_of(path)
    state = json.loads(members["metadata.json"])["root"]["state"]
    member = state[column_or_key]["file"]
    frame = pd.read_parquet(io.BytesIO(members[member]))
    buf = io.BytesIO()
    edit(frame).to_parquet(buf)
    path.write_bytes(fc.zip_bytes(fc.resign({**members, member: buf.getvalue()})))


@pytest.mark.parametrize("attack, match", [
    (lambda f: f.assign(c0=-f["c0"]), "params_ must hold finite parameters > 0"),
    (lambda f: f.assign(c0=np.nan), "params_ must hold finite parameters > 0"),
    (lambda f: f.iloc[:2], "params_ must be labelled"),
])
def test_hostile_purchase_model_files_are_refused(tmp_path, cdnow, attack, match):
    path = save(ModifiedBetaGeoModel().fit(cdnow), tmp_path / "mbg.zip")
    back = load(path)
    pd.testing.assert_series_equal(back.conditional_expected_purchases(cdnow, 39.0),
                                   ModifiedBetaGeoModel().fit(cdnow).conditional_expected_purchases(cdnow, 39.0))
    _edit_frame(path, "params_", attack)
    with pytest.raises(ModelLoadError, match=match):
        load(path)


def test_hostile_covariance_and_sbg_files_are_refused(tmp_path, donations):
    s, w = donations
    path = save(BetaGeoBetaBinomModel().fit(s, sample_weight=w), tmp_path / "bgbb.zip")
    _edit_frame(path, "cov_log_", lambda f: f.assign(**{c: -f[c] for c in ("c0", "c1", "c2", "c3")}))  # variances < 0
    with pytest.raises(ModelLoadError, match="cov_log_ must be a symmetric positive semi-definite 4 x 4"):
        load(path)
    sbg = ShiftedBetaGeometricModel().fit(pd.DataFrame({"regular": FH_REGULAR[:8], "highend": FH_HIGHEND[:8]}))
    path = save(sbg, tmp_path / "sbg.zip")
    pd.testing.assert_frame_equal(load(path).retention_curve(12), sbg.retention_curve(12))
    _edit_frame(path, "params_", lambda f: f.assign(c0=0.0))
    with pytest.raises(ModelLoadError, match="params_ must hold finite parameters > 0"):
        load(path)
    path = save(sbg, tmp_path / "sbg2.zip")
    _edit_frame(path, "cov_log_", lambda f: f.iloc[:2])                  # a cohort without its covariance
    with pytest.raises(ModelLoadError, match="cov_log_ must hold a 2 x 2 block"):
        load(path)


def test_new_models_predictions_are_partition_exact(cdnow, donations):
    """A customer's predictions do not depend on which other customers are scored with it (bit for bit)."""
    from crmml.clv import BetaGeoCNBDModel

    rng = np.random.default_rng(0)
    s = cdnow.assign(litt=0.0)
    cn = BetaGeoCNBDModel(k=3)                         # the default forecast is "exact" (README); "btydplus"
    assert cn.get_params()["forecast"] == "exact"      # rescales the rows together, so it is not partition-exact
    cn.k_ = 3
    prm = (2.0, 10.0, 0.7, 3.0)
    bgbb = BetaGeoBetaBinomModel().fit(donations[0], sample_weight=donations[1])
    cases = [
        (s, lambda d: cn.conditional_expected_purchases(d, 39.0, params=prm)),
        (s, lambda d: cn.conditional_probability_alive(d, params=prm)),
        (s, lambda d: ModifiedBetaGeoModel().fit(cdnow).conditional_probability_of_purchases(d, 39.0, [0, 1, 5])),
        (donations[0], bgbb.conditional_probability_alive),
        (donations[0], lambda d: bgbb.conditional_expected_purchases(d, 5)),
    ]
    for data, fn in cases:
        whole = fn(data)
        parts = pd.concat([fn(data.iloc[idx]) for idx in np.array_split(rng.permutation(len(data)), 7)])
        if isinstance(whole, pd.Series):
            pd.testing.assert_series_equal(parts.sort_index(), whole.sort_index(), check_exact=True)
        else:
            pd.testing.assert_frame_equal(parts.sort_index(), whole.sort_index(), check_exact=True)
