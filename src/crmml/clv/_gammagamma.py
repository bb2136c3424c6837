"""Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Colombo & Jiang 1999)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from crmml.clv._base import BaseCLVFitter
from crmml.clv._rows import factorized

__all__ = ["GammaGammaModel"]


class GammaGammaModel(BaseCLVFitter):
    """Gamma-Gamma: each transaction's value ~ Gamma(p, nu), ``nu ~ Gamma(q, gamma)`` per customer.

    Fit on customers with ``frequency > 0`` and ``monetary_value > 0`` (the mean value of
    their repeat purchases, see :func:`crmml.clv.summarize`); other rows are ignored in
    ``fit``. The likelihood is that of the mean spend ``m`` over ``x`` transactions (as in
    the paper and lifetimes). Assumes spend is independent of purchase frequency.

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True

    Attributes
    ----------
    params_ : Series
        ``p, q, gamma``.
    summary_, cov_log_, log_likelihood_, n_customers_, n_iter_, converged_
        As in :class:`BetaGeoModel`; ``n_customers_`` counts the repeat buyers used.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = GammaGammaModel().fit(s)
    >>> m.params_.round(2).tolist(), m.n_customers_
    ([6.25, 3.74, 15.45], 946)
    """

    _param_names = ("p", "q", "gamma")
    _columns = ("frequency", "monetary_value")
    _rows_used = "repeat buyers (frequency > 0) with monetary_value > 0"

    def _select(self, summary):
        return (summary["frequency"].to_numpy("float64") > 0) & (summary["monetary_value"].to_numpy("float64") > 0)

    def _init_params(self, data, weights):
        return np.array([1.0, 1.0, max(float(np.mean(data["monetary_value"])), 1e-3)])

    @staticmethod
    def _loglik_grad(params, data):
        p, q, g = params
        x, m = data["frequency"], data["monetary_value"]
        xu, xi = factorized(data, "frequency")
        if "_logm" not in data:
            data["_logm"] = np.log(m)
        logm = data["_logm"]
        pxu = p * xu
        lxm = np.log(x * m + g)
        px = p * x
        ll = ((gammaln(pxu + q) - gammaln(pxu) + pxu * np.log(xu))[xi] - gammaln(q) + q * np.log(g)
              + (px - 1) * logm - (px + q) * lxm)
        grad = np.empty((len(x), 3))
        dpq_u = digamma(pxu + q)
        grad[:, 0] = (xu * (dpq_u - digamma(pxu) + np.log(xu)))[xi] + x * (logm - lxm)
        grad[:, 1] = dpq_u[xi] - digamma(q) + np.log(g) - lxm
        grad[:, 2] = q / g - (px + q) / (x * m + g)
        return ll, grad

    def conditional_expected_spend(self, summary: pd.DataFrame, *, params=None) -> pd.Series:
        """Expected mean transaction value per customer: ``(gamma + x m) p / (p x + q - 1)``.

        Rows with ``frequency == 0`` (or ``monetary_value <= 0``) get the population mean
        ``p gamma / (q - 1)``, the model's expectation with no spend observed.

        Examples
        --------
        >>> from crmml.datasets import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> GammaGammaModel().fit(s).conditional_expected_spend(s).round(2).iloc[:3].tolist()
        [24.66, 18.91, 35.17]
        """
        d = self._check_summary(summary, "conditional_expected_spend")
        p, q, g = self._fitted(params)
        x, m = d["frequency"], d["monetary_value"]
        use = (x > 0) & (m > 0)
        x0, m0 = np.where(use, x, 0.0), np.where(use, m, 0.0)
        den = p * x0 + q - 1
        out = p * g / den + p * (x0 / den) * m0     # = p (g + x m) / den, without overflowing x * m
        return pd.Series(out, index=summary.index, name="expected_spend")

    def population_mean_spend(self, *, params=None) -> float:
        """Mean transaction value of a customer drawn from the population, ``p gamma / (q - 1)``
        (infinite when ``q <= 1``)."""
        p, q, g = self._fitted(params)
        return float(p * g / (q - 1)) if q > 1 else float("inf")

    @staticmethod
    def _sample_mean_spend(rng, params, x, m):
        """One posterior draw per customer of the mean transaction value ``p / nu``."""
        p, q, g = params
        use = (x > 0) & (m > 0)
        x0, m0 = np.where(use, x, 0.0), np.where(use, m, 0.0)
        nu = rng.gamma(q + p * x0) / (g + x0 * m0)
        return p / np.maximum(nu, 1e-300)
