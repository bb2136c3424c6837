"""Purchase-count distributions of the BG/NBD family: ``P(X(t) = x)``, unconditional and given a history.

One formula serves BG/NBD (``k=1, m=0``), MBG/NBD (``k=1, m=1``) and the (M)BG/CNBD-k models. With
``N(t)`` the events of the Poisson clock in ``(0, t]`` (negative binomial when ``lambda ~ Gamma(r,
alpha)``), purchases are every k-th event and the customer drops out after a purchase (after the
first too when ``m=1``) with probability ``p ~ Beta(a, b)``::

    P(X(t) = x) = B(a, b+m+x)/B(a, b) P(kx <= N(t) < k(x+1))                # alive after x purchases
                + 1{x>0 or m=1} B(a+1, b+m+x-1)/B(a, b) P(N(t) >= kx)      # dropped out after the x-th

``P(N(t) >= s) = I_{t/(alpha+t)}(s, r)`` (regularized incomplete beta). Given a calibration history
``(x, t_x, T)`` the same formula holds for the next ``t`` with ``r + kx + j, alpha + T, b + x + m``
(phase ``j`` of the clock, ``m=0`` as the customer is known to be alive), weighted by P(alive) and by
the posterior of the phase, plus ``1 - P(alive)`` at zero.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln

from crmml._utils import check_horizon


def _tail(s, shape, z):
    """P(N >= s) for N negative binomial with ``P(N >= s) = I_z(s, shape)``; 1 for s <= 0."""
    s = np.asarray(s, dtype="float64")
    return np.where(s <= 0, 1.0, betainc(np.maximum(s, 1e-300), shape, z))


def bg_family_pmf(n, t, r, alpha, a, b, k=1, m=0, j=0):
    """``P(X(t) = n)`` of the formula in the module notes (broadcasting over ``n`` and the parameters).

    >>> round(float(bg_family_pmf(0, 39.0, 0.243, 4.414, 0.793, 2.426)), 4)
    0.5738
    """
    n = np.asarray(n, dtype="float64")
    z = t / (alpha + t)
    with np.errstate(all="ignore"):
        alive = np.exp(betaln(a, b + m + n) - betaln(a, b)) * (
            _tail(k * n - j, r, z) - _tail(k * (n + 1) - j, r, z))
        drop = np.where((n > 0) | (m > 0),
                        np.exp(betaln(a + 1, b + m + n - 1) - betaln(a, b)) * _tail(k * n - j, r, z), 0.0)
    return alive + drop


class CountDistributionMixin:
    """``probability_of_purchases`` and ``conditional_probability_of_purchases`` for the BG/NBD family.

    The model provides ``_shift`` (``m``), ``_order()`` (``k``) and ``_alive_phases(params, x, t_x, T)``
    (P(alive) and the posterior weights of the clock's phase given alive, shape ``(n, k)``).
    """

    def probability_of_purchases(self, t: float, n, *, params=None) -> np.ndarray:
        """``P(X(t) = n)``: probability that a new customer makes ``n`` repeat purchases in ``(0, t]``.

        Examples
        --------
        >>> from crmml.clv import BetaGeoModel
        >>> from crmml.datasets import load_cdnow_summary
        >>> m = BetaGeoModel().fit(load_cdnow_summary())
        >>> p = m.probability_of_purchases(39.0, np.arange(200))
        >>> round(float(p[0]), 3), round(float(p.sum()), 6)
        (0.574, 1.0)
        """
        t = check_horizon(t, f"{type(self).__name__}.probability_of_purchases")
        r, alpha, a, b = self._fitted(params)
        return bg_family_pmf(np.asarray(n, dtype="float64"), float(t), r, alpha, a, b, k=self._order(), m=self._shift)

    def conditional_probability_of_purchases(self, summary, t: float, n, *, params=None):
        """``P(X(T, T+t) = n | history)`` per customer: a DataFrame with one column per ``n``.

        Examples
        --------
        >>> from crmml.clv import BetaGeoModel
        >>> from crmml.datasets import load_cdnow_summary
        >>> s = load_cdnow_summary().iloc[:3]
        >>> m = BetaGeoModel().fit(load_cdnow_summary())
        >>> bool(np.allclose(m.conditional_probability_of_purchases(s, 39.0, np.arange(300)).sum(axis=1), 1.0))
        True
        """
        t = check_horizon(t, f"{type(self).__name__}.conditional_probability_of_purchases")
        import pandas as pd

        d = self._check_summary(summary, "conditional_probability_of_purchases")
        prm = self._fitted(params)
        r, alpha, a, b = prm
        k, m = self._order(), self._shift
        x, tx, T = d["frequency"], d["recency"], d["T"]
        n = np.atleast_1d(np.asarray(n, dtype="float64"))
        alive, phase = self._alive_phases(prm, x, tx, T)
        out = np.zeros((len(x), len(n)))
        for j in range(k):
            out += (alive * phase[:, j])[:, None] * bg_family_pmf(
                n[None, :], float(t), (r + k * x + j)[:, None], (alpha + T)[:, None], a, (b + x + m)[:, None],
                k=k, m=0, j=j)
        out[:, n == 0] += (1.0 - alive)[:, None]
        return pd.DataFrame(out, index=summary.index, columns=pd.Index(n.astype(int), name="purchases"))
