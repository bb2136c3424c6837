"""BG/BB purchase model for discrete transaction opportunities (Fader, Hardie & Shang 2010).

At each of ``n`` opportunities after the first purchase, an alive customer buys with probability
``p ~ Beta(alpha, beta)``, then drops out with probability ``theta ~ Beta(gamma, delta)``
(before the next opportunity). A summary row is ``frequency`` x (repeat purchases),
``recency`` t_x (the opportunity of the last one, 0 if none) and ``n_periods`` n. Likelihood
(eq. 5 of the paper)::

    L = B(alpha+x, beta+n-x)/B(alpha, beta) B(gamma, delta+n)/B(gamma, delta)
        + sum_{i=0}^{n-t_x-1} B(alpha+x, beta+t_x-x+i)/B(alpha, beta) B(gamma+1, delta+t_x+i)/B(gamma, delta)

summed in logs, with the analytic gradient of every term.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, gammaln

from crmml._utils import check_horizon
from crmml._utils._rowdot import row_dot
from crmml.clv._base import BasePurchaseModel

__all__ = ["BetaGeoBetaBinomModel"]


def _dbetaln(p, q):
    """(d/dp, d/dq) of log B(p, q)."""
    dpq = digamma(p + q)
    return digamma(p) - dpq, digamma(q) - dpq


def _loglik_grad(params, x, tx, n):
    al, be, ga, de = params
    da_ab, db_ab = _dbetaln(al, be)
    dg_gd, dd_gd = _dbetaln(ga, de)
    base = -betaln(al, be) - betaln(ga, de)
    # term 0: alive through the n opportunities; terms 1..J: dropped out after opportunity t_x + i
    J = int(np.max(n - tx)) if len(n) else 0
    logs = np.full((len(x), J + 1), -np.inf)
    grads = np.zeros((len(x), J + 1, 4))
    p, q = al + x, be + n - x
    logs[:, 0] = betaln(p, q) + betaln(ga, de + n)
    dp, dq = _dbetaln(p, q)
    dg, dd = _dbetaln(ga, de + n)
    grads[:, 0] = np.column_stack([dp, dq, dg, dd])
    for i in range(J):
        on = n - tx - 1 >= i
        q = be + tx - x + i
        logs[on, i + 1] = (betaln(p, q) + betaln(ga + 1, de + tx + i))[on]
        dp, dq = _dbetaln(p, q)
        dg, dd = _dbetaln(ga + 1, de + tx + i)
        grads[on, i + 1] = np.column_stack([dp, dq, dg, dd])[on]
    top = logs.max(axis=1)
    w = np.exp(logs - top[:, None])
    tot = row_dot(w, np.ones(J + 1))           # column by column: a row's sum does not depend on the batch's J
    ll = base + top + np.log(tot)
    g = np.einsum("ij,ijk->ik", w / tot[:, None], grads)
    g += np.array([da_ab * -1.0, db_ab * -1.0, dg_gd * -1.0, dd_gd * -1.0])
    return ll, g


def _future_alive_sum(gamma, delta, n, m):
    """``sum_{j=1}^{m} B(gamma, delta+n+j) / B(gamma, delta+n)``: expected future opportunities alive."""
    dn = delta + n
    with np.errstate(all="ignore"):
        L = gammaln(gamma + dn) - gammaln(1 + dn) + gammaln(1 + dn + m) - gammaln(gamma + dn + m)
        if abs(gamma - 1.0) < 1e-8:
            return dn * (digamma(1 + dn + m) - digamma(1 + dn))
        return dn / (gamma - 1.0) * -np.expm1(L)


class BetaGeoBetaBinomModel(BasePurchaseModel):
    """BG/BB: discrete-opportunity purchases (``p ~ Beta(alpha, beta)``) and dropout
    (``theta ~ Beta(gamma, delta)``), Fader, Hardie & Shang (2010).

    Fit on a summary with ``frequency``, ``recency`` (opportunity index of the last repeat
    purchase, 0 without one) and ``n_periods`` (opportunities observed), each an integer with
    ``0 <= frequency <= recency <= n_periods``. Predictions are per opportunity: ``t`` in
    :meth:`conditional_expected_purchases` counts future opportunities.

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True

    Attributes
    ----------
    params_ : Series
        ``alpha, beta, gamma, delta``.
    summary_, cov_log_, log_likelihood_, n_customers_, n_iter_, converged_
        As in :class:`BetaGeoModel`.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [0, 1, 2, 3, 6, 6, 4, 1], "recency": [0, 1, 4, 5, 6, 6, 6, 6],
    ...                   "n_periods": 6})
    >>> w = [300, 80, 40, 30, 60, 40, 50, 20]
    >>> m = BetaGeoBetaBinomModel().fit(s, sample_weight=w)
    >>> list(m.params_.index)
    ['alpha', 'beta', 'gamma', 'delta']
    >>> bool((m.conditional_probability_alive(s) <= 1).all())
    True
    """

    _param_names = ("alpha", "beta", "gamma", "delta")
    _columns = ("frequency", "recency", "n_periods")
    _rows_rule = ("frequency, recency or n_periods not integers with 0 <= frequency <= recency <= n_periods, "
                  "or recency != 0 with frequency 0")

    @staticmethod
    def _invalid_rows(data):
        x, tx, n = data["frequency"], data["recency"], data["n_periods"]
        bad = (x != np.round(x)) | (tx != np.round(tx)) | (n != np.round(n))
        return bad | (x < 0) | (x > tx) | (tx > n) | ((x == 0) & (tx != 0)) | ((x > 0) & (tx < 1)) | (n > 100_000)

    def _init_params(self, data, weights):
        return np.ones(4)

    @staticmethod
    def _loglik_grad(params, data):
        return _loglik_grad(params, data["frequency"], data["recency"], data["n_periods"])

    # -- predictions ---------------------------------------------------------------------------------
    @staticmethod
    def _p_alive(params, x, tx, n):
        """P(alive after opportunity n | x, t_x, n) (lifetimes' ``conditional_probability_alive`` with m=0)."""
        al, be, ga, de = params
        x, tx, n = (np.atleast_1d(np.asarray(v, dtype="float64")) for v in (x, tx, n))
        x, tx, n = np.broadcast_arrays(x, tx, n)
        with np.errstate(all="ignore"):
            ll, _ = _loglik_grad(params, x, tx, n)
            alive = betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n) - betaln(ga, de)
            return np.minimum(np.exp(alive - ll), 1.0)

    @staticmethod
    def _expected_alive(params, x, n, t):
        """Expected purchases in the next ``t`` opportunities given alive after opportunity n:
        ``E[p | x, n] * sum_j E[(1-theta)^j | alive]`` with ``p ~ Beta(alpha+x, beta+n-x)``."""
        al, be, ga, de = params
        return (al + x) / (al + be + n) * _future_alive_sum(ga, de, n, np.asarray(t, dtype="float64"))

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer over the first ``t`` opportunities.

        Examples
        --------
        >>> import pandas as pd
        >>> m = BetaGeoBetaBinomModel()
        >>> round(float(m.expected_purchases(6, params=(1.204, 0.750, 0.657, 2.783))), 3)
        2.22
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        return self._expected_alive(self._fitted(params), 0.0, 0.0, t)

    @staticmethod
    def _posterior_alive(params, x, n):
        """Posterior of (p, theta) given alive after opportunity n: Beta(alpha+x, beta+n-x), Beta(gamma, delta+n)."""
        al, be, ga, de = params
        return {"pa": al + x, "pb": be + n - x, "ga": np.full_like(x, ga), "gb": de + n}

    @staticmethod
    def _sample_cum_expected(rng, post, t_grid):
        """Expected purchases over the next ``t`` opportunities for one draw of (p, theta) per customer."""
        p = rng.beta(post["pa"], post["pb"])
        theta = np.maximum(rng.beta(post["ga"], post["gb"]), 1e-12)
        s = 1.0 - theta
        return (p * s / theta)[:, None] * -np.expm1(np.outer(np.log(s), t_grid))
