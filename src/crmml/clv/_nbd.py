"""NBD purchase model (Ehrenberg 1959): Poisson purchases at ``lambda ~ Gamma(r, alpha)``, no dropout.

The baseline of the buy-till-you-die family (BTYDplus' ``nbd.*``): every customer stays active,
so P(alive) is 1 and the forecast is the posterior mean rate times the horizon.
Likelihood of the repeat purchases ``x`` at their times over the age ``T`` (the scale of the
BG/NBD and Pareto/NBD likelihoods; the count pmf adds ``x log T - log x!``, free of parameters)::

    L = Gamma(r+x) / Gamma(r) alpha^r / (alpha+T)^(r+x)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crmml._utils import check_horizon
from crmml.clv._base import BasePurchaseModel

__all__ = ["NBDModel"]


class NBDModel(BasePurchaseModel):
    """NBD: Poisson purchases at rate ``lambda ~ Gamma(r, alpha)``, customers never drop out.

    Reads ``frequency``, ``recency`` (checked, unused) and ``T`` of a summary
    (:func:`crmml.clv.summarize`); same API and attributes as :class:`BetaGeoModel`
    (``params_``: ``r, alpha``).

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True

    Examples
    --------
    >>> from crmml.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = NBDModel().fit(s)
    >>> m.params_.index.tolist(), bool((m.conditional_probability_alive(s) == 1).all())
    (['r', 'alpha'], True)
    """

    _param_names = ("r", "alpha")
    _columns = ("frequency", "recency", "T")

    def _init_params(self, data, weights):
        return np.array([1.0, max(float(np.mean(data["T"])), 1e-3)])

    @staticmethod
    def _loglik_grad(params, data):
        r, alpha = params
        x, T = data["frequency"], data["T"]
        la, laT = np.log(alpha), np.log(alpha + T)
        ll = gammaln(r + x) - gammaln(r) + r * la - (r + x) * laT
        g = np.column_stack([digamma(r + x) - digamma(r) + la - laT, r / alpha - (r + x) / (alpha + T)])
        return ll, g

    @staticmethod
    def _p_alive(params, x, tx, T):
        return np.ones(np.shape(np.asarray(x)), dtype="float64")

    @staticmethod
    def _expected_alive(params, x, T, t):
        r, alpha = params
        return (r + x) / (alpha + T) * np.asarray(t, dtype="float64")

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer in ``(0, t]``: ``r t / alpha``.

        Examples
        --------
        >>> round(float(NBDModel().expected_purchases(39, params=(0.4, 10.0))), 2)
        1.56
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        r, alpha = self._fitted(params)
        return r / alpha * np.asarray(t, dtype="float64")

    def probability_of_purchases(self, t: float, n, *, params=None) -> np.ndarray:
        """``P(X(t) = n)``: the negative binomial pmf.

        Examples
        --------
        >>> round(float(NBDModel().probability_of_purchases(10.0, 0, params=(1.0, 10.0))), 3)
        0.5
        """
        t = check_horizon(t, f"{type(self).__name__}.probability_of_purchases")
        r, alpha = self._fitted(params)
        from scipy.stats import nbinom

        return nbinom.pmf(np.asarray(n), r, alpha / (alpha + float(t)))

    def conditional_probability_of_purchases(self, summary, t: float, n, *, params=None) -> pd.DataFrame:
        """``P(X(T, T+t) = n | x, T)``: negative binomial with ``r + x``, ``alpha + T``."""
        t = check_horizon(t, f"{type(self).__name__}.conditional_probability_of_purchases")
        from scipy.stats import nbinom

        d = self._check_summary(summary, "conditional_probability_of_purchases")
        r, alpha = self._fitted(params)
        n = np.atleast_1d(np.asarray(n))
        q = (alpha + d["T"]) / (alpha + d["T"] + float(t))
        out = nbinom.pmf(n[None, :], (r + d["frequency"])[:, None], q[:, None])
        return pd.DataFrame(out, index=summary.index, columns=pd.Index(n.astype(int), name="purchases"))

    @staticmethod
    def _posterior_alive(params, x, T):
        r, alpha = params
        return {"shape": r + x, "rate": alpha + T}

    @staticmethod
    def _sample_cum_expected(rng, post, t_grid):
        lam = rng.gamma(post["shape"]) / post["rate"]
        return np.outer(lam, t_grid)
