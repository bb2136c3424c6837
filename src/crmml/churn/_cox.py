"""Cox proportional hazards on recency and frequency: the survival baseline TimeToChurnModel must beat."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import numeric_values
from crmml._utils._rowdot import row_dot
from crmml.exceptions import DataError, ParameterError

__all__ = ["CoxBaseline"]


def _check_duration(time, event, n, owner):
    try:
        t = np.asarray(time, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise DataError(f"{owner}: time must hold numbers of days (finite, >= 0); it holds text or other "
                        "non-numbers.") from None
    e = np.asarray(event).ravel()
    if len(t) != n or len(e) != n:
        raise DataError(f"{owner}: time and event need one value per row of X ({n}).")
    if not np.isfinite(t).all() or (t < 0).any():
        raise DataError(f"{owner}: time must be finite and >= 0.")
    if not np.isin(e, (0, 1)).all():
        raise DataError(f"{owner}: event must hold only 0 (censored) and 1 (event).")
    if e.sum() == 0:
        raise DataError(f"{owner}: no event in the data; a survival model needs observed events.")
    return t, e.astype(np.float64)


def _neg_partial_loglik(beta, Z, event, starts):
    """Breslow negative log partial likelihood and gradient; rows sorted by time descending."""
    eta = Z @ beta
    m = eta.max()
    w = np.exp(eta - m)
    cw = np.cumsum(w)                                   # risk set sums (time descending: prefix = at risk)
    cz = np.cumsum(w[:, None] * Z, axis=0)
    # risk set of a row = all rows with time >= its time: prefix up to the last row of its tie group
    rs, rz = cw[starts], cz[starts]
    ll = np.sum(event * (eta - m - np.log(rs)))
    grad = (event[:, None] * (Z - rz / rs[:, None])).sum(axis=0)
    return -ll, -grad


class CoxBaseline(BaseEstimator):
    """Cox proportional hazards on log recency and log frequency (Breslow ties), fitted with scipy.

    The survival baseline of :class:`TimeToChurnModel`: a customer's hazard of the event (the next
    purchase for transaction logs, leaving for subscriptions) is ``h0(t) exp(beta . z)`` with ``z`` the
    standardised ``log1p`` recency and frequency.

    Parameters
    ----------
    recency : str, default="purchase_recency_all"
    frequency : str, default="purchase_count_all"
    l2 : float, default=1e-4
        Small ridge penalty (keeps the optimum finite on separable data).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"purchase_recency_all": rng.uniform(1, 300, 400), "purchase_count_all": rng.integers(1, 20, 400)})
    >>> t = rng.exponential(30 * np.log1p(X["purchase_recency_all"]))
    >>> cox = CoxBaseline().fit(X, np.minimum(t, 90), (t < 90).astype(int))
    >>> bool(cox.coef_[0] < 0)          # long recency: later next purchase, lower hazard
    True
    >>> cox.predict_survival(X.head(2), [30, 60]).shape
    (2, 2)
    """

    def __init__(self, recency="purchase_recency_all", frequency="purchase_count_all", l2=1e-4):
        self.recency = recency
        self.frequency = frequency
        self.l2 = l2

    def _design(self, X, owner):
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"{owner} expects X as a pandas DataFrame.")
        for c in (self.recency, self.frequency):
            if c not in X.columns:
                raise DataError(f"{owner}: X lacks the column {c!r}.")
        r = numeric_values(X[self.recency], "X", self.recency)
        f = numeric_values(X[self.frequency], "X", self.frequency)
        fill = getattr(self, "recency_fill_", None)
        if fill is None:
            fill = float(np.nanmax(r)) if np.isfinite(r).any() else 0.0
        r = np.where(np.isnan(r), fill, r)
        f = np.where(np.isnan(f), 0.0, f)
        return np.column_stack([np.log1p(np.clip(r, 0, None)), np.log1p(np.clip(f, 0, None))]), fill

    def fit(self, X, time, event):
        """Fit on features ``X``, durations ``time`` and event flags ``event`` (1 = event, 0 = censored)."""
        from scipy.optimize import minimize

        owner = "CoxBaseline.fit"
        for k in ("recency_fill_",):
            self.__dict__.pop(k, None)
        D, self.recency_fill_ = self._design(X, owner)
        t, e = _check_duration(time, event, len(D), owner)
        self.mean_, self.scale_ = D.mean(axis=0), D.std(axis=0)
        self.scale_ = np.where(self.scale_ > 0, self.scale_, 1.0)
        Z = (D - self.mean_) / self.scale_
        order = np.argsort(-t, kind="stable")
        Z, t, e = Z[order], t[order], e[order]
        # last row (in descending order) of each tie group: its prefix is the risk set of the group
        _, first = np.unique(-t, return_index=True)
        ends = np.r_[first[1:], len(t)] - 1
        starts = np.repeat(ends, np.diff(np.r_[first, len(t)]))
        n = len(t)

        def fun(b):
            v, g = _neg_partial_loglik(b, Z, e, starts)
            return v / n + self.l2 * b @ b, g / n + 2 * self.l2 * b

        res = minimize(fun, np.zeros(Z.shape[1]), jac=True, method="L-BFGS-B")
        self.coef_ = res.x                                   # on the standardised scale
        eta = Z @ self.coef_
        w = np.exp(eta - eta.max())
        cw = np.cumsum(w)[starts]
        # Breslow cumulative baseline hazard at the distinct event times (ascending)
        u, inv = np.unique(t, return_inverse=True)
        d = np.bincount(inv, weights=e, minlength=len(u))
        rsum = np.zeros(len(u))
        rsum[inv] = cw                                   # the same risk-set sum within a tie group
        keep = d > 0
        self.baseline_times_ = u[keep]
        self.baseline_cumhaz_ = np.cumsum(d[keep] / rsum[keep]) * np.exp(-eta.max())
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.churn._loaded``)."""
        from crmml.churn._loaded import check_cox

        check_cox(self)

    def predict_risk(self, X) -> pd.Series:
        """Relative hazard ``exp(beta . z)`` (higher: event sooner), indexed like ``X``."""
        check_is_fitted(self, "coef_")
        D, _ = self._design(X, "CoxBaseline.predict_risk")
        eta = row_dot((D - self.mean_) / self.scale_, self.coef_)     # per customer, whatever rows share the call
        return pd.Series(np.exp(eta), index=X.index, name="risk")

    def predict_survival(self, X, days) -> pd.DataFrame:
        """S(t) = exp(-H0(t) exp(beta . z)) at each of ``days`` (finite, >= 0; columns ``s_<t>d``), indexed like
        ``X``."""
        given = days
        try:
            days = np.atleast_1d(np.asarray(days, dtype=np.float64))
        except (TypeError, ValueError):
            days = np.array([np.nan])
        if days.ndim != 1 or not np.isfinite(days).all() or (days < 0).any():
            raise ParameterError(f"CoxBaseline.predict_survival: days must be finite numbers >= 0. Got {given!r}.")
        risk = self.predict_risk(X).to_numpy()
        i = np.searchsorted(self.baseline_times_, days, side="right") - 1
        h0 = np.where(i >= 0, self.baseline_cumhaz_[np.clip(i, 0, None)], 0.0)
        s = np.exp(-np.outer(risk, h0))
        return pd.DataFrame(s, index=X.index, columns=[f"s_{int(d)}d" for d in days])
