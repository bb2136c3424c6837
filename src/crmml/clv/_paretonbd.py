"""Pareto/NBD purchase model (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005 note).

Likelihood of one customer (x, t_x, T)::

    L = Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x) (beta+T)^-s + s * I ]
    I = integral_{t_x}^{T} (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau

The closed form of ``I`` uses the Gauss hypergeometric function 2F1 with a branch on
alpha >= beta and a difference of two terms that cancels when t_x is close to T. Here
``I`` is computed with the substitution ``u = (alpha+tau)^-(r+s+x)``, which turns it into
``(u_tx - u_T)/(r+s+x)`` times the mean of the smooth, bounded factor
``((alpha+tau)/(beta+tau))^(s+1)``, integrated with tanh-sinh quadrature (33 nodes). The
same form holds for alpha == beta (the factor is 1) and for large arguments, works in logs
throughout, and gives analytic derivatives by differentiating under the integral sign: first derivatives
for the fit, second derivatives (the quadrature's weighted second moments) for the observed information, in
one pass over the rows instead of the 4 gradient evaluations of finite differences.
:func:`_loglik_hyp2f1` keeps the closed form (Euler-transformed 2F1) as a reference.

The quadrature runs over blocks of 2,048 rows (its temporaries stay in the CPU cache) shared among the
cores (:mod:`crmml.clv._blocks`; the same values bit for bit with any number of threads), and the terms of
one column (``gammaln(r+x)``, ``log(alpha+T)``, ...) are computed once per distinct value.
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1, polygamma

from crmml._utils import check_horizon
from crmml.clv._base import BasePurchaseModel
from crmml.clv._blocks import for_blocks
from crmml.clv._rows import factorized

__all__ = ["ParetoNBDModel"]

def _tanh_sinh(h, n):
    t = np.arange(-n, n + 1) * h
    y = expit(np.pi * np.sinh(t))             # nodes on (0, 1)
    y1 = expit(-np.pi * np.sinh(t))           # 1 - nodes, accurate near 1
    return y, y1, h * np.pi * np.cosh(t) * y * y1


#: the rule used for the likelihood (33 nodes) and a coarse one (17 nodes, ~1e-7 per customer at
#: realistic parameters) that takes the optimizer most of the way before the fine rule polishes.
_RULES = {"fine": _tanh_sinh(0.2, 16), "coarse": _tanh_sinh(0.4, 8)}


#: the (i, j), i <= j, entries of a 4 x 4 symmetric matrix over (r, alpha, s, beta), in the order stored per row
_PAIRS = [(i, j) for i in range(4) for j in range(i, 4)]
#: the column of each (i, j) in that order
_AT = {pair: n for n, pair in enumerate(_PAIRS)}


def _log_integral(params, x, tx, T, grad=True, rule="fine", la_tx=None, la_T=None, hess=False):
    """log I and, if ``grad``, d log I / d (r, alpha, s, beta) (``la_tx``, ``la_T``: log(alpha + t_x), log(alpha + T)
    when already known); with ``hess`` also the second derivatives, ``(n, 10)`` in :data:`_PAIRS` order.

    Differentiating under the integral sign, with ``f`` the integrand and ``E``, ``Cov`` taken under ``f / I``
    (the quadrature's weighted nodes): ``grad log I = E[grad log f]`` and
    ``hess log I = E[hess log f] + Cov(grad log f)``; ``grad log f = -(log(alpha+tau), (r+x)/(alpha+tau),
    log(beta+tau), (s+1)/(beta+tau))``.
    """
    _Y, _Y1, _W = _RULES[rule]
    r, alpha, s, beta = params
    k = r + s + x
    la_tx = np.log(alpha + tx) if la_tx is None else la_tx
    la_T = np.log(alpha + T) if la_T is None else la_T
    logE = -k * (la_T - la_tx)                                    # log (u_T / u_tx) <= 0
    log_delta = -k * la_tx + np.log(-np.expm1(logE))              # log(u_tx - u_T)
    # (n, nodes) temporaries, computed in place (same operations and rounding as the plain expressions)
    mix = np.multiply(_Y1[None, :], np.exp(logE)[:, None])
    np.add(_Y[None, :], mix, out=mix)
    np.log(mix, out=mix)
    np.divide(mix, k[:, None], out=mix)
    la = np.subtract(la_tx[:, None], mix, out=mix)               # log(alpha + tau_j)
    apt = np.exp(la)
    lb = np.add(apt, beta - alpha)                                # beta + tau_j
    ibpt = np.divide(1.0, lb) if grad else None
    np.log(lb, out=lb)
    wg = np.subtract(la, lb)
    np.multiply(s + 1, wg, out=wg)
    np.exp(wg, out=wg)
    np.multiply(_W[None, :], wg, out=wg)
    S = wg.sum(axis=1)
    logI = log_delta - np.log(k) + np.log(S)
    if not grad:
        return (logI, None, None) if hess else (logI, None)
    ia = np.divide(1.0, apt, out=apt)
    d = np.empty((len(x), 4))
    d[:, 0] = -np.einsum("ij,ij->i", wg, la) / S
    d[:, 1] = -(r + x) * np.einsum("ij,ij->i", wg, ia) / S
    d[:, 2] = -np.einsum("ij,ij->i", wg, lb) / S
    d[:, 3] = -(s + 1) * np.einsum("ij,ij->i", wg, ibpt) / S
    if not hess:
        return logI, d
    # Cov(grad log f) from deviations about the means (no cancellation when the interval is short)
    c = (-1.0, -(r + x), -1.0, -(s + 1))
    dev = [np.subtract(u, (d[:, i] / c[i])[:, None], out=u) for i, u in enumerate((la, ia, lb, ibpt))]
    d2 = np.empty((len(x), 10))
    wdev = np.empty_like(wg)
    for n, (i, j) in enumerate(_PAIRS):
        if i == j:
            np.multiply(wg, dev[i], out=wdev)
        d2[:, n] = c[i] * c[j] * np.einsum("ij,ij->i", wdev, dev[j]) / S
    # E[hess log f]: d2/dr dalpha = -1/(alpha+tau), d2/dalpha2 = (r+x)/(alpha+tau)^2, same for (s, beta) with s+1
    k11, k33 = _AT[1, 1], _AT[3, 3]
    m_ia, m_ib = d[:, 1] / c[1], d[:, 3] / c[3]
    e_ia2 = d2[:, k11] / c[1] ** 2 + m_ia ** 2
    e_ib2 = d2[:, k33] / c[3] ** 2 + m_ib ** 2
    d2[:, _AT[0, 1]] -= m_ia
    d2[:, k11] += (r + x) * e_ia2
    d2[:, _AT[2, 3]] -= m_ib
    d2[:, k33] += (s + 1) * e_ib2
    return logI, d, d2


def _terms(params, x, tx, T, grad=True, rule="fine", threads=None, codes=None, hess=False):
    """Per-customer log-likelihood pieces: (ll, w_alive, gradient or None), and with ``hess`` a fourth, the
    second derivatives ``(n, 10)`` in :data:`_PAIRS` order.

    Computed in fixed blocks of rows (cache-sized quadrature temporaries), shared among ``threads`` threads
    (default: the usable cores); every row's values are the same for any number of threads. ``codes`` maps
    "frequency", "recency" and "T" to (distinct values, codes) of x, tx, T: the terms of one column
    (``gammaln(r+x)``, ``log(alpha+T)``, ...) are then computed once per distinct value and gathered.
    """
    r, alpha, s, beta = params
    x, tx, T = (np.asarray(v, dtype="float64") for v in (x, tx, T))
    ll = np.empty(len(x))
    w1 = np.empty(len(x))
    g = np.empty((len(x), 4)) if grad else None
    h = np.empty((len(x), 10)) if hess else None
    if codes is None:
        codes = {c: (v, np.arange(len(v))) for c, v in (("frequency", x), ("recency", tx), ("T", T))}
    (xu, xi), (tu, ti), (Tu, Ti) = codes["frequency"], codes["recency"], codes["T"]
    gl_u, dg_u = gammaln(r + xu), (digamma(r + xu) if grad else None)
    trigamma_u = polygamma(1, r + xu) if hess else None
    la_tx_u, la_T_u, lb_T_u = np.log(alpha + tu), np.log(alpha + Tu), np.log(beta + Tu)

    def block(sl):
        xs, Ts, xis, Tis = x[sl], T[sl], xi[sl], Ti[sl]
        la_T, lb_T = la_T_u[Tis], lb_T_u[Tis]
        logI, dlogI, *d2 = _log_integral(params, xs, tx[sl], Ts, grad, rule, la_tx_u[ti[sl]], la_T, hess=hess)
        c1 = -(r + xs) * la_T - s * lb_T
        c2 = np.log(s) + logI
        lse = np.logaddexp(c1, c2)
        ll[sl] = gl_u[xis] - gammaln(r) + r * np.log(alpha) + s * np.log(beta) + lse
        a1, a2 = np.exp(c1 - lse), np.exp(c2 - lse)
        w1[sl] = a1
        if grad:
            g[sl, 0] = dg_u[xis] - digamma(r) + np.log(alpha) - a1 * la_T + a2 * dlogI[:, 0]
            g[sl, 1] = r / alpha - a1 * (r + xs) / (alpha + Ts) + a2 * dlogI[:, 1]
            g[sl, 2] = np.log(beta) - a1 * lb_T + a2 * (1.0 / s + dlogI[:, 2])
            g[sl, 3] = s / beta - a1 * s / (beta + Ts) + a2 * dlogI[:, 3]
        if hess:
            _hessian_rows(h, sl, params, xs, Ts, la_T, lb_T, a1, a2, dlogI, d2[0], trigamma_u[xis])

    for_blocks(block, len(x), threads=threads)
    return (ll, w1, g, h) if hess else (ll, w1, g)


def _hessian_rows(h, sl, params, x, T, la_T, lb_T, a1, a2, dlogI, d2logI, trigamma_rx):
    """Second derivatives of ``ll = A + logaddexp(c1, c2)`` into ``h[sl]``: ``hess A + a1 hess c1 + a2 hess c2
    + a1 a2 (grad c1 - grad c2)(grad c1 - grad c2)^T`` (``a1``, ``a2``: the two terms' shares)."""
    r, alpha, s, beta = params
    e1 = np.stack([-la_T, -(r + x) / (alpha + T), -lb_T, -s / (beta + T)], axis=1)
    e2 = dlogI.copy()
    e2[:, 2] += 1.0 / s
    diff = e1 - e2
    out = a2[:, None] * d2logI
    for n, (i, j) in enumerate(_PAIRS):
        out[:, n] += a1 * a2 * diff[:, i] * diff[:, j]
    out[:, _AT[0, 0]] += trigamma_rx - polygamma(1, r)
    out[:, _AT[0, 1]] += 1.0 / alpha - a1 / (alpha + T)
    out[:, _AT[1, 1]] += -r / alpha ** 2 + a1 * (r + x) / (alpha + T) ** 2
    out[:, _AT[2, 2]] += -a2 / s ** 2
    out[:, _AT[2, 3]] += 1.0 / beta - a1 / (beta + T)
    out[:, _AT[3, 3]] += -s / beta ** 2 + a1 * s / (beta + T) ** 2
    h[sl] = out


def _log_hyp2f1_euler(a, b, z):
    """log 2F1(a, b; a+1; z) for 0 <= z < 1 via Euler's transformation (no overflow near z=1)."""
    return (1.0 - b) * np.log1p(-z) + np.log(hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))


def _loglik_hyp2f1(params, x, tx, T):
    """Reference closed-form log-likelihood (Fader & Hardie 2005, eq. 19-20)."""
    r, alpha, s, beta = params
    k = r + s + x
    if alpha >= beta:
        m, b_ = alpha, s + 1.0
    else:
        m, b_ = beta, r + x
    diff = abs(alpha - beta)
    l1 = _log_hyp2f1_euler(k, b_, diff / (m + tx)) - k * np.log(m + tx)
    l2 = _log_hyp2f1_euler(k, b_, diff / (m + T)) - k * np.log(m + T)
    logA0 = l1 + np.log(-np.expm1(l2 - l1))
    A1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    c1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    return A1 + np.logaddexp(c1, np.log(s) - np.log(k) + logA0)


class ParetoNBDModel(BasePurchaseModel):
    """Pareto/NBD: Poisson purchases at ``lambda ~ Gamma(r, alpha)`` while alive, exponential
    lifetime with rate ``mu ~ Gamma(s, beta)``.

    Fit by maximum likelihood with analytic gradients on ``frequency``, ``recency``, ``T``
    (see the module notes for the numerics). ``alpha`` and ``beta`` are in the summary's time
    unit; ``log_likelihood_`` is the total on that scale (-9595.0 on the CDNOW sample, weeks).

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True

    Attributes
    ----------
    params_ : Series
        ``r, alpha, s, beta``.
    summary_, cov_log_, log_likelihood_, n_customers_, n_iter_, converged_
        As in :class:`BetaGeoModel`.

    Examples
    --------
    >>> from crmml.datasets import load_cdnow_summary
    >>> m = ParetoNBDModel().fit(load_cdnow_summary())
    >>> m.params_.round(3).tolist(), round(m.log_likelihood_, 1)
    ([0.553, 10.578, 0.606, 11.668], -9595.0)
    """

    _param_names = ("r", "alpha", "s", "beta")
    _columns = ("frequency", "recency", "T")

    def _init_params(self, data, weights):
        """A first fit with the coarse quadrature rule, polished afterwards with the fine one."""
        scale = max(float(np.mean(data["T"])), 1e-3)
        x0 = np.log([1.0, scale, 1.0, scale])
        res = self._optimize({**data, "_rule": "coarse"}, weights, x0, 1e-6, int(self.max_iter))
        return np.exp(res.x) if np.isfinite(res.fun) and np.all(np.isfinite(res.x)) else np.exp(x0)

    @staticmethod
    def _cheap_data(data):
        """The coarse rule: its optimum is within ~1e-8 (relative) of the fine rule's on realistic data."""
        return {**data, "_rule": "coarse"}

    @staticmethod
    def _data_terms(params, data, hess=False):
        """:func:`_terms` on a fit's data (its quadrature rule, its columns' distinct values)."""
        codes = {c: factorized(data, c) for c in ("frequency", "recency", "T")}
        return _terms(params, data["frequency"], data["recency"], data["T"], rule=data.get("_rule", "fine"),
                      codes=codes, hess=hess)

    @classmethod
    def _loglik_grad(cls, params, data):
        ll, _, g = cls._data_terms(params, data)
        return ll, g

    def _hessian_log(self, logp, data, w, g0):
        """Analytic: one pass over the rows (the quadrature's second moments) instead of 4 gradient evaluations.

        In log-parameters ``z = log(theta)``: ``d2 ll / dz_i dz_j = theta_i theta_j H_ij + [i == j] theta_i g_i``.
        """
        params = np.exp(logp)
        with np.errstate(all="ignore"):
            _, _, g, h = self._data_terms(params, data, hess=True)
        total = w @ h
        H = np.empty((4, 4))
        for n, (i, j) in enumerate(_PAIRS):
            H[i, j] = H[j, i] = total[n]
        return params[:, None] * H * params[None, :] + np.diag(params * (w @ g))

    # -- predictions ---------------------------------------------------------------------------------
    @staticmethod
    def _p_alive(params, x, tx, T):
        with np.errstate(all="ignore"):
            return _terms(params, x, tx, T, grad=False)[1]

    @staticmethod
    def _expected_alive(params, x, T, t):
        """E[purchases in (T, T+t] | alive at T, history] = E[lambda/mu (1 - exp(-mu t))]."""
        r, alpha, s, beta = params
        L2 = np.log1p(np.asarray(t, dtype="float64") / (beta + T))
        sm1 = s - 1.0
        factor = L2 if abs(sm1) < 1e-9 else -np.expm1(-sm1 * L2) / sm1
        return (r + x) / (alpha + T) * (beta + T) * factor

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer in ``(0, t]``.

        Examples
        --------
        >>> from crmml.datasets import load_cdnow_summary
        >>> round(float(ParetoNBDModel().fit(load_cdnow_summary()).expected_purchases(39)), 3)
        1.213
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        r, alpha, s, beta = self._fitted(params)
        return self._expected_alive((r, alpha, s, beta), 0.0, 0.0, t)

    @staticmethod
    def _posterior_alive(params, x, T):
        """Posterior of (lambda, mu) given alive: Gamma(r+x, alpha+T) and Gamma(s, beta+T)."""
        r, alpha, s, beta = params
        return {"shape": r + x, "rate": alpha + T, "mu_shape": np.full_like(x, s), "mu_rate": beta + T}

    @staticmethod
    def _sample_cum_expected(rng, post, t_grid):
        lam = rng.gamma(post["shape"]) / post["rate"]
        mu = np.maximum(rng.gamma(post["mu_shape"]) / post["mu_rate"], 1e-300)
        return (lam / mu)[:, None] * -np.expm1(-np.outer(mu, t_grid))
