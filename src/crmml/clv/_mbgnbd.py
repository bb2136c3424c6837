"""MBG/NBD purchase model (Batislam, Denizel & Filiztekin 2007; lifetimes' ``ModifiedBetaGeoFitter``).

BG/NBD with one change: the customer may also drop out right after the first purchase (a coin
with probability ``p`` is tossed after every purchase, the first included). A customer with no
repeat purchase is then not certainly alive, which removes BG/NBD's ``P(alive) = 1`` for
one-time buyers. Every formula is BG/NBD's with ``b`` replaced by ``b + 1`` in the
posterior of ``p`` given alive (``Beta(a, b + x + 1)``), times the probability of being alive.
"""

from __future__ import annotations

import numpy as np

from crmml._utils import check_horizon
from crmml.clv._bgnbd import BetaGeoModel, _expected

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD: Poisson purchases at rate ``lambda ~ Gamma(r, alpha)``, dropout after every
    purchase, the first included, with probability ``p ~ Beta(a, b)``.

    Same API, columns and attributes as :class:`BetaGeoModel` (``params_``: ``r, alpha, a, b``).
    Unlike BG/NBD, a customer without repeat purchases has ``P(alive) = 1 / (1 + a/b
    ((alpha+T)/alpha)^r) < 1``.

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7
    compress : bool, default=True

    Examples
    --------
    >>> from crmml.datasets import load_cdnow_summary
    >>> s = load_cdnow_summary()
    >>> m = ModifiedBetaGeoModel().fit(s)
    >>> m.params_.round(3).tolist()
    [0.525, 6.183, 0.891, 1.614]
    >>> round(float(m.conditional_probability_alive(s).iloc[1]), 3)
    0.171
    """

    _shift = 1

    @staticmethod
    def _p_alive(params, x, tx, T):
        r, alpha, a, b = params
        with np.errstate(all="ignore"):
            log_ratio = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + tx))
            return 1.0 / (1.0 + np.exp(log_ratio))

    @staticmethod
    def _expected_alive(params, x, T, t):
        """BG/NBD's expectation given alive with ``b + 1`` (the posterior of ``p`` is Beta(a, b+x+1))."""
        r, alpha, a, b = params
        t = np.asarray(t, dtype="float64")
        return np.where(t > 0, _expected((r, alpha, a, b + 1.0), x, T, t), 0.0)

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer in ``(0, t]``.

        Examples
        --------
        >>> from crmml.datasets import load_cdnow_summary
        >>> round(float(ModifiedBetaGeoModel().fit(load_cdnow_summary()).expected_purchases(39)), 3)
        1.182
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        prm = self._fitted(params)
        zero = np.zeros(1)
        return self._p_alive(prm, zero, zero, zero)[0] * self._expected_alive(prm, 0.0, 0.0, t)

    @staticmethod
    def _posterior_alive(params, x, T):
        """Posterior of (lambda, p) given alive: Gamma(r+x, rate alpha+T) and Beta(a, b+x+1)."""
        r, alpha, a, b = params
        return {"shape": r + x, "rate": alpha + T, "pa": np.full_like(x, a), "pb": b + x + 1.0}
