"""BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way")."""

from __future__ import annotations

import numpy as np
from scipy.special import betaincinv, betaln, digamma, expit, gammaln, hyp2f1

from crmml._utils import check_horizon
from crmml._utils._rowdot import row_dot
from crmml.clv._base import BasePurchaseModel
from crmml.clv._pmf import CountDistributionMixin
from crmml.clv._rows import factorized

__all__ = ["BetaGeoModel"]


def _bracket(params, x, T, t):
    """``1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)`` with ``z = t/(alpha+T+t)``.

    The factor of the BG/NBD conditional expectation (Fader, Hardie & Lee 2005, eq. 10), written
    with Euler's transformation ``2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z)`` as
    ``1 - (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z)`` and evaluated in logs
    (``-expm1((a-1) log1p(-z) + log 2F1)``). The frequency ``x`` then appears only in the third
    argument, where it makes the series converge faster; in the textbook form it sits in the
    first two, so for heavy buyers over long horizons (x >= 1500 at 39 weeks, x >= 500 at 520
    weeks) 2F1 overflows to inf while the power underflows to 0, and inf * 0 gave NaN. Both forms
    are the same function; they agree to ~1e-12 where the textbook one is finite (tested against
    lifetimes and against direct numerical integration over the dropout probability).

    >>> bool(np.isfinite(_bracket((0.243, 4.414, 0.793, 2.426), 1500.0, 39.0, 39.0)))
    True
    """
    r, alpha, a, b = params
    x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, T, t)))
    z = t / (alpha + T + t)
    with np.errstate(all="ignore"):
        hyp = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        log_pow = (a - 1) * np.log1p(-z)
        out = np.where(hyp > 0, -np.expm1(log_pow + np.log(np.where(hyp > 0, hyp, 1.0))),
                       1.0 - np.exp(log_pow) * hyp)
        # where scipy's 2F1 fails in the Euler form, the textbook form (lifetimes') may still be finite;
        # where both fail (degenerate fits), _expected falls back to quadrature
        bad = ~np.isfinite(out)
        if bad.any():
            xb, Tb, tb, zb = x[bad], T[bad], t[bad], z[bad]
            out = np.array(out, dtype="float64")
            out[bad] = 1.0 - np.exp((r + xb) * (np.log(alpha + Tb) - np.log(alpha + Tb + tb))) * hyp2f1(
                r + xb, b + xb, a + b + xb - 1, zb)
        return out


_GL_U, _GL_W = np.polynomial.legendre.leggauss(96)
_GL_U, _GL_W = (_GL_U + 1.0) / 2.0, _GL_W / 2.0        # Gauss-Legendre nodes and weights on (0, 1)


def _expected_by_quadrature(params, x, T, t):
    """The same expectation as ``(a+b+x-1)/(a-1) * _bracket(...)``, by quadrature over the dropout probability.

    ``E[(1 - exp(-lambda p t)) / p]`` with ``lambda ~ Gamma(r+x, alpha+T)`` integrated in closed form,
    ``h(p) = -expm1(-(r+x) log1p(p t/(alpha+T))) / p`` (bounded by ``(r+x) t/(alpha+T)``, its limit at
    ``p = 0``), and ``p ~ Beta(a, b+x)`` integrated on the quantile scale, ``p = F^-1(u)``, by
    96-point Gauss-Legendre. Used only where the closed form is not finite: degenerate fits
    (``a -> 0`` with ``r, alpha, b`` in the millions, as on very regular buyers) where scipy's 2F1
    fails for every customer.

    >>> prm = (45052524.7, 2877079669.6, 9.9e-06, 193557.3)     # r, alpha, a, b of such a fit
    >>> round(float(_expected_by_quadrature(prm, 5.0, 307.0, 365.0)), 4)   # ~ lambda * t, no dropout
    5.7156
    """
    r, alpha, a, b = params
    x, T, t = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, T, t)))
    shape = x.shape
    x, T, t = x.reshape(-1, 1), T.reshape(-1, 1), t.reshape(-1, 1)
    with np.errstate(all="ignore"):
        p = betaincinv(a, b + x, _GL_U[None, :])
        scale = t / (alpha + T)
        limit = (r + x) * scale
        h = np.where(p > 0, -np.expm1(-(r + x) * np.log1p(p * scale)) / np.where(p > 0, p, 1.0), limit)
        return row_dot(h, _GL_W).reshape(shape)        # not h @ w: a customer's sum is its row's alone


def _expected(params, x, T, t):
    """E[purchases in (T, T+t] | alive at T, history], closed form with quadrature where it fails."""
    r, alpha, a, b = params
    with np.errstate(all="ignore"):
        out = (a + b + x - 1) / (a - 1) * _bracket(params, x, T, t)
    bad = ~np.isfinite(out) | (out < 0)
    if np.any(bad):
        x_b, T_b, t_b = np.broadcast_arrays(*(np.asarray(v, dtype="float64") for v in (x, T, t)))
        out = np.array(np.broadcast_to(out, x_b.shape), dtype="float64")
        out[bad] = _expected_by_quadrature(params, x_b[bad], T_b[bad], t_b[bad])
    return out


def _bg_loglik_grad(params, data, m):
    """Per-row log-likelihood and gradient of BG/NBD (``m=0``) and MBG/NBD (``m=1``).

    ``L = B(a, b+m+x)/B(a, b) Gamma(r+x) alpha^r / Gamma(r) [(alpha+T)^-(r+x)
    + 1{x>0 or m=1} a/(b+m+x-1) (alpha+t_x)^-(r+x)]``: with ``m=1`` the coin is also tossed
    after the first purchase (Batislam, Denizel & Filiztekin 2007), so the dropout term is
    present for ``x = 0`` too.
    """
    r, alpha, a, b = params
    x = data["frequency"]
    xu, xi = factorized(data, "frequency")
    tu, ti = factorized(data, "recency")
    Tu, Ti = factorized(data, "T")
    rep_u = (xu > 0) | (m > 0)
    bx1 = np.where(rep_u, b + m + xu - 1, 1.0)
    # terms of x only, on distinct values
    a12 = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + m + xu) - betaln(a, b))[xi]
    la4 = np.where(rep_u, np.log(a) - np.log(bx1), -np.inf)[xi]
    dab_u = digamma(a + b) - digamma(a + b + m + xu)
    lT, ltx = np.log(alpha + Tu)[Ti], np.log(alpha + tu)[ti]
    rx = r + x
    A3 = -rx * lT
    d = la4 - rx * ltx - A3                      # log of (dropout term / alive term); -inf if x == 0 (BG)
    e = np.exp(-np.abs(d))
    lse = A3 + np.maximum(d, 0.0) + np.log1p(e)
    w4 = np.where(d > 0, 1.0, e) / (1.0 + e)
    w3 = 1.0 - w4
    ll = a12 + lse
    g = np.empty((len(x), 4))
    g[:, 0] = (digamma(r + xu) - digamma(r) + np.log(alpha))[xi] - w3 * lT - w4 * ltx
    g[:, 1] = r / alpha - rx * (w3 * (1.0 / (alpha + Tu))[Ti] + w4 * (1.0 / (alpha + tu))[ti])
    g[:, 2] = dab_u[xi] + w4 / a
    g[:, 3] = (dab_u + digamma(b + m + xu) - digamma(b))[xi] - w4 * (1.0 / bx1)[xi]
    return ll, g


def _value_sums(data, w):
    """Weights summed per distinct frequency and per distinct T (and of ``w * x`` per T), cached in ``data``."""
    hit = data.get("_value_sums")
    if hit is None or hit[0] is not w:
        xu, xi = factorized(data, "frequency")
        Tu, Ti = factorized(data, "T")
        hit = (w, np.bincount(xi, weights=w, minlength=len(xu)), np.bincount(Ti, weights=w, minlength=len(Tu)),
               np.bincount(Ti, weights=w * data["frequency"], minlength=len(Tu)))
        data["_value_sums"] = hit
    return hit[1:]


def _bg_weighted(params, data, w, m):
    """``(w @ ll, w @ grad)`` of :func:`_bg_loglik_grad`, with every term of one column summed per distinct value.

    Terms of ``x`` only (``gammaln(r+x)``, the beta functions, digammas) and of ``T`` only (``log(alpha+T)``,
    ``1/(alpha+T)``) are weighted by the counts per distinct value; per row remain the log-ratio ``d`` of the
    dropout to the alive term, its softplus and its logistic weight ``w4``, and three dot products.
    """
    r, alpha, a, b = params
    xu, xi = factorized(data, "frequency")
    tu, ti = factorized(data, "recency")
    Tu, Ti = factorized(data, "T")
    Wx, WT, WxT = _value_sums(data, w)
    rep_u = (xu > 0) | (m > 0)
    bx1 = np.where(rep_u, b + m + xu - 1, 1.0)
    la4 = np.where(rep_u, np.log(a) - np.log(bx1), -np.inf)
    lT_u, ltx_u = np.log(alpha + Tu), np.log(alpha + tu)
    iT_u, itx_u = 1.0 / (alpha + Tu), 1.0 / (alpha + tu)
    lT = lT_u[Ti]
    D = ltx_u[ti] - lT                           # log((alpha+t_x)/(alpha+T)) <= 0
    rx = r + data["frequency"]
    d = la4[xi] - rx * D                         # log of (dropout term / alive term); -inf if x == 0 (BG)
    w4 = expit(d)
    v = w * w4
    RT = r * WT + WxT                            # sum of w (r+x) per distinct T
    dab_u = digamma(a + b) - digamma(a + b + m + xu)
    ll = (Wx @ (gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + m + xu) - betaln(a, b))
          - RT @ lT_u + w @ np.logaddexp(0.0, d))
    g = np.array([
        Wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - WT @ lT_u - v @ D,
        r / alpha * Wx.sum() - RT @ iT_u - (v * rx) @ (itx_u[ti] - iT_u[Ti]),
        Wx @ dab_u + v.sum() / a,
        Wx @ (dab_u + digamma(b + m + xu) - digamma(b)) - np.bincount(xi, weights=v, minlength=len(xu)) @ (1.0 / bx1),
    ])
    return float(ll), g


class BetaGeoModel(CountDistributionMixin, BasePurchaseModel):
    """BG/NBD: Poisson purchases at rate ``lambda ~ Gamma(r, alpha)``, dropout after each
    repeat purchase with probability ``p ~ Beta(a, b)``.

    Fit by maximum likelihood with an analytic gradient on the summary columns
    ``frequency``, ``recency``, ``T`` (see :func:`crmml.clv.summarize`). ``alpha`` is in the
    summary's time unit. ``log_likelihood_`` is the total over customers on that time scale
    (the papers' scale: -9582.4 on the CDNOW sample in weeks).

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True
        Fit on distinct (frequency, recency, T) rows weighted by counts.

    Attributes
    ----------
    params_ : Series
        ``r, alpha, a, b``.
    summary_ : DataFrame
        ``coef, se, lower_95, upper_95`` per parameter (observed information, delta method).
    cov_log_ : DataFrame
        Covariance of the log-parameters.
    log_likelihood_ : float
    n_customers_, n_iter_, n_evaluations_ : int
    converged_ : bool
    max_T_ : float
        Largest customer age ``T`` in the fitted summary (default age of the P(alive) plot).

    Examples
    --------
    >>> from crmml.datasets import load_cdnow_summary
    >>> m = BetaGeoModel().fit(load_cdnow_summary())
    >>> m.params_.round(3).tolist(), round(m.log_likelihood_, 1)
    ([0.243, 4.414, 0.793, 2.426], -9582.4)
    """

    _param_names = ("r", "alpha", "a", "b")
    _columns = ("frequency", "recency", "T")

    def _init_params(self, data, weights):
        return np.array([1.0, max(float(np.mean(data["T"])), 1e-3), 1.0, 1.0])

    #: 0 for BG/NBD; 1 for MBG/NBD, where a customer may also drop out right after the first purchase
    _shift = 0

    def _loglik_grad(self, params, data):
        return _bg_loglik_grad(params, data, self._shift)

    def _weighted_loglik_grad(self, params, data, w):
        if type(self)._loglik_grad is not BetaGeoModel._loglik_grad:    # a subclass's own likelihood
            return super()._weighted_loglik_grad(params, data, w)
        return _bg_weighted(params, data, w, self._shift)

    # -- predictions ---------------------------------------------------------------------------------
    @staticmethod
    def _order():
        return 1

    def _alive_phases(self, params, x, tx, T):
        return self._p_alive(params, x, tx, T), np.ones((len(x), 1))

    @staticmethod
    def _p_alive(params, x, tx, T):
        r, alpha, a, b = params
        with np.errstate(all="ignore"):
            log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (
                np.log(alpha + T) - np.log(alpha + tx))
            return np.where(x > 0, 1.0 / (1.0 + np.exp(log_ratio)), 1.0)

    @staticmethod
    def _expected_alive(params, x, T, t):
        """E[purchases in (T, T+t] | alive at T, history]: the posterior mean of (1/p)(1-exp(-lambda p t))."""
        r, alpha, a, b = params
        t = np.asarray(t, dtype="float64")
        return np.where(t > 0, _expected(params, x, T, t), 0.0)

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer in ``(0, t]``.

        Examples
        --------
        >>> from crmml.datasets import load_cdnow_summary
        >>> round(float(BetaGeoModel().fit(load_cdnow_summary()).expected_purchases(39)), 3)
        1.195
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        prm = self._fitted(params)
        r, alpha, a, b = prm
        t = np.asarray(t, dtype="float64")
        return _expected(prm, 0.0, 0.0, t)

    @staticmethod
    def _posterior_alive(params, x, T):
        """Posterior of (lambda, p) given alive: Gamma(r+x, rate alpha+T) and Beta(a, b+x)."""
        r, alpha, a, b = params
        return {"shape": r + x, "rate": alpha + T, "pa": np.full_like(x, a), "pb": b + x}

    @staticmethod
    def _sample_cum_expected(rng, post, t_grid):
        """Latent expected cumulative purchases at ``t_grid`` for one draw per customer, if alive."""
        lam = rng.gamma(post["shape"]) / post["rate"]
        p = rng.beta(post["pa"], post["pb"])
        p = np.maximum(p, 1e-12)
        return -np.expm1(-np.outer(lam * p, t_grid)) / p[:, None]
