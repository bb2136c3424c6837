"""The fast paths of the purchase-model fits give the results of the direct ones (issue 17).

Distinct-row compression, BG/NBD's sums over distinct values, Pareto/NBD's threaded row blocks and the start
from binned rows on large data.
"""

import numpy as np
import pytest

import crmml.clv._blocks as _blocks
import crmml.clv._rows as _rows
from crmml.clv import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, summarize
from crmml.clv._bgnbd import _bg_loglik_grad, _bg_weighted
from crmml.clv._paretonbd import _terms
from crmml.datasets import make_synthetic_crm


def _random_rows(n, seed, days=730):
    rng = np.random.default_rng(seed)
    T = rng.integers(1, days, n).astype(float)
    x = np.minimum(rng.negative_binomial(1, 0.15, n), 300).astype(float)
    tx = np.where(x > 0, np.floor(rng.random(n) * (T + 1)), 0.0)
    return {"frequency": x, "recency": tx, "T": T}


@pytest.mark.parametrize("weights", [False, True])
def test_compress_matches_groupby(weights):
    data = _random_rows(20_000, 0)
    data["recency"] = data["recency"] / 7          # a fractional column takes the sorted-factorization path
    w = np.random.default_rng(1).random(20_000) if weights else None
    ours, w_ours = _rows.compress(dict(data), w)
    ref, w_ref = _rows._compress_groupby(dict(data), w)
    for c in data:
        np.testing.assert_array_equal(ours[c], ref[c])
        uniq, codes = ours["_fac_" + c]
        np.testing.assert_array_equal(uniq[codes], ours[c])
    np.testing.assert_allclose(w_ours, w_ref, rtol=1e-14)


@pytest.mark.parametrize("m", [0, 1])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bg_distinct_value_sums_match_rows(m, seed):
    """Summing per distinct x and T gives the per-row log-likelihood and gradient, weighted, to 1e-12."""
    rng = np.random.default_rng(seed)
    data, w = _rows.compress(_random_rows(5_000, seed), rng.integers(1, 5, 5_000).astype(float))
    params = np.exp(rng.normal(0, 1, 4)) * [1, 20, 1, 1]
    ll, grad = _bg_loglik_grad(params, dict(data), m)
    ll_w, grad_w = _bg_weighted(params, dict(data), w, m)
    assert abs(ll_w - w @ ll) <= 1e-12 * (np.abs(ll) @ w)
    scale = np.abs(grad).T @ w                    # the sum of magnitudes: the gradient itself may be ~0
    np.testing.assert_array_less(np.abs(grad_w - w @ grad), 1e-12 * scale)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("block", [1, 7, 500])
def test_pareto_blocks_identical_for_any_threads_and_blocks(monkeypatch, threads, block):
    d = _random_rows(3_000, 3)
    params = np.array([0.6, 30.0, 0.7, 50.0])
    with np.errstate(all="ignore"):
        ref = _terms(params, d["frequency"], d["recency"], d["T"], threads=1)
    monkeypatch.setattr(_blocks, "BLOCK", block)
    with np.errstate(all="ignore"):
        got = _terms(params, d["frequency"], d["recency"], d["T"], threads=threads)
    for a, b in zip(ref, got):
        np.testing.assert_array_equal(a, b)


def test_for_blocks_reraises_and_keeps_error_state():
    seen = []

    def fn(rows):
        seen.append(np.geterr()["divide"])
        if rows.start == 4:
            raise ValueError("block 4")

    with np.errstate(divide="ignore"), pytest.raises(ValueError, match="block 4"):
        _blocks.for_blocks(fn, 2 * _blocks.MIN_THREADED_BLOCKS, block=2, threads=2)
    assert set(seen) == {"ignore"}


@pytest.mark.parametrize("n_blocks", [1, 2, 15, 16, 40])
def test_few_blocks_run_on_the_calling_thread(n_blocks):
    """Below MIN_THREADED_BLOCKS the blocks run in order on the caller's thread (threads cost more than they save
    on small summaries); from it on, on worker threads. Every row is visited once either way."""
    import threading

    where, visited = set(), np.zeros(n_blocks * 3, int)

    def fn(rows):
        where.add(threading.get_ident())
        visited[rows] += 1

    _blocks.for_blocks(fn, n_blocks * 3, block=3, threads=2)
    assert (visited == 1).all()
    on_caller = where == {threading.get_ident()}
    assert on_caller == (n_blocks < _blocks.MIN_THREADED_BLOCKS)


@pytest.fixture(scope="module")
def synthetic_summary():
    """80,000 synthetic customers in days: about 70,000 distinct rows, above START_ROWS."""
    crm = make_synthetic_crm(n_customers=80_000, seed=0, with_events=False)
    return summarize(crm.transactions, crm.end)


@pytest.mark.parametrize("model", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_binned_start_reaches_the_same_optimum(monkeypatch, model, synthetic_summary):
    """On more than START_ROWS distinct rows the fit starts from binned rows; the optimum is the one of the
    plain start to the optimizer's tolerance (within 1/1000 of a standard error), and so are the standard
    errors."""
    s = synthetic_summary
    data, w = _rows.compress({c: s[c].to_numpy(float) for c in ("frequency", "recency", "T")}, None)
    assert _rows.binned(data, w) is not None                  # the fast start applies
    fast = model().fit(s)
    monkeypatch.setattr(_rows, "START_ROWS", 10 ** 9)
    assert _rows.binned(data, w) is None
    plain = model().fit(s)
    assert fast.converged_ and plain.converged_
    se_log = np.sqrt(np.diag(plain.cov_log_.to_numpy()))    # tolerance: a thousandth of a standard error
    np.testing.assert_array_less(np.abs(np.log(fast.params_ / plain.params_)), 1e-3 * se_log)
    np.testing.assert_allclose(fast.log_likelihood_, plain.log_likelihood_, rtol=1e-12)
    np.testing.assert_allclose(fast.summary_["se"], plain.summary_["se"], rtol=1e-3)
    assert fast.n_iter_ < plain.n_iter_


@pytest.mark.parametrize("shift", [(0.0, 0.0, 0.0, 0.0), (0.4, -0.3, 0.6, -0.5), (-1.0, 1.0, -0.5, 2.0)])
def test_pareto_analytic_hessian_matches_finite_differences(shift):
    """ParetoNBDModel's one-pass Hessian (quadrature second moments) equals the forward differences of its
    analytic gradient, at the optimum and away from it, rows with t_x = T and alpha ~ beta included."""
    from crmml.clv._base import BasePurchaseModel
    from crmml.datasets import load_cdnow_summary

    s = load_cdnow_summary()
    m = ParetoNBDModel().fit(s)
    data = _random_rows(3_000, 4)
    data["recency"][:50] = data["T"][:50]                   # purchased on the last day: a zero-length interval
    data, w = _rows.compress(data, None)
    for logp in (np.log(m.params_.to_numpy()) + np.array(shift), np.log([0.8, 40.0, 0.7, 40.0 * (1 + 1e-9)])):
        g0 = m._total_grad_log(logp, data, w)
        fd = BasePurchaseModel._hessian_log(m, logp, data, w, g0)
        ours = m._hessian_log(logp, data, w, g0)
        assert np.all(np.isfinite(ours))
        np.testing.assert_allclose(ours, ours.T)
        np.testing.assert_allclose(ours, fd, rtol=2e-5, atol=2e-5 * np.max(np.abs(fd)))
    # the standard errors come from it: the CDNOW ones agree with the finite-difference ones
    full, wf = _rows.compress(m._check_summary(s, "fit"), None)
    logp = np.log(m.params_.to_numpy())
    cov_fd = np.linalg.inv(-BasePurchaseModel._hessian_log(m, logp, full, wf, m._total_grad_log(logp, full, wf)))
    np.testing.assert_allclose(m.cov_log_.to_numpy(), cov_fd, rtol=1e-4)
