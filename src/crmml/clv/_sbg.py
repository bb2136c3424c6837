"""Shifted-beta-geometric (sBG) model for contractual retention (Fader & Hardie 2007, 2010).

Each customer renews at the end of every period with a constant probability ``1 - theta``,
``theta ~ Beta(gamma, delta)`` across customers. For a cohort:

- survival ``S(t) = B(gamma, delta+t) / B(gamma, delta)`` (share still active after ``t`` periods);
- churn in period ``t``: ``P(T = t) = B(gamma+1, delta+t-1) / B(gamma, delta)``;
- retention rate ``r(t) = S(t)/S(t-1) = (delta+t-1)/(gamma+delta+t-1)``, rising with ``t``
  (heterogeneity, not a change in any one customer);
- discounted expected residual lifetime of a customer who has made ``n`` renewals (Fader &
  Hardie 2010, "Customer-Base Valuation in a Contractual Setting", eq. 6 with ``n`` renewals):
  ``DERL = sum_{t > n} S(t)/S(n) (1+d)^-(t-n-1) = (delta+n)/(gamma+delta+n) 2F1(1, delta+n+1; gamma+delta+n+1; 1/(1+d))``,
  the expected number of future renewals with the next one counted in full; undiscounted
  (``d = 0``) it is ``(delta+n)/(gamma-1)``, infinite when ``gamma <= 1``.

Each cohort is fit by maximum likelihood (the shared fitter of :mod:`crmml.clv._base`: analytic
gradient, observed-information standard errors).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_number
from crmml._utils._state import check_covariance, check_positive_params, fitted_attrs
from crmml.clv._base import BaseCLVFitter
from crmml.exceptions import DataError

__all__ = ["ShiftedBetaGeometricModel"]

_MAX_PERIODS = 100_000


class _SBGCohort(BaseCLVFitter):
    """sBG on one cohort's rows ``period`` (churned in that period, or censored after it) and ``churned`` (0/1)."""

    _param_names = ("gamma", "delta")
    _columns = ("period", "churned")
    _rows_rule = "period not an integer in [0, 100000], churned not 0/1, or churned in period 0"

    @staticmethod
    def _invalid_rows(data):
        t, c = data["period"], data["churned"]
        return (t != np.round(t)) | (t < 0) | (t > _MAX_PERIODS) | ((c != 0) & (c != 1)) | ((c == 1) & (t < 1))

    def _init_params(self, data, weights):
        return np.ones(2)

    @staticmethod
    def _loglik_grad(params, data):
        g, d = params
        t, c = data["period"], data["churned"].astype(bool)
        # churned in t: B(g+1, d+t-1)/B(g, d); survived t periods: B(g, d+t)/B(g, d)
        p = np.where(c, g + 1.0, g)
        q = np.where(c, d + t - 1.0, d + t)
        dpq = digamma(p + q)
        ll = betaln(p, q) - betaln(g, d)
        dgd = digamma(g + d)
        grad = np.column_stack([digamma(p) - dpq - digamma(g) + dgd, digamma(q) - dpq - digamma(d) + dgd])
        return ll, grad


def _survivors_to_rows(counts: np.ndarray, cohort) -> pd.DataFrame:
    """Rows (period, churned, n) of one cohort's survivor counts ``n_0 >= n_1 >= ... >= n_T``."""
    lost = counts[:-1] - counts[1:]
    t = np.arange(1, len(counts))
    rows = pd.DataFrame({"period": np.r_[t, len(counts) - 1], "churned": np.r_[np.ones(len(t)), 0.0],
                         "n": np.r_[lost, counts[-1]]})
    return rows[rows["n"] > 0]


class ShiftedBetaGeometricModel(BaseEstimator):
    """Shifted-beta-geometric retention model per cohort (contractual / subscription data).

    Parameters
    ----------
    max_iter : int, default=500
    tol : float, default=1e-7

    Attributes
    ----------
    params_ : DataFrame
        ``gamma, delta`` per cohort (index: the cohorts, the columns of the survivor table).
    summary_ : DataFrame
        ``coef, se, lower_95, upper_95`` indexed by (cohort, param).
    cov_log_ : DataFrame
        Covariance of ``log gamma, log delta``, indexed by (cohort, param).
    log_likelihood_ : Series
        Per cohort.
    n_customers_ : Series
        Cohort sizes (period-0 counts).

    Examples
    --------
    Fader & Hardie (2007), the "regular" and "high end" cohorts of 1,000 customers over 7 years:

    >>> import pandas as pd
    >>> surv = pd.DataFrame({"regular": [1000, 631, 468, 382, 326, 289, 262, 241],
    ...                      "highend": [1000, 869, 743, 653, 593, 551, 517, 491]})
    >>> m = ShiftedBetaGeometricModel().fit(surv)
    >>> m.params_.round(3)
             gamma  delta
    cohort
    regular  0.704  1.182
    highend  0.668  3.806
    >>> m.retention_curve(12).loc[12].round(3).tolist()      # published actuals: 0.173, 0.394
    [0.17, 0.378]
    """

    def __init__(self, *, max_iter: int = 500, tol: float = 1e-7):
        self.max_iter = max_iter
        self.tol = tol

    def fit(self, survivors: pd.DataFrame):
        """Fit each cohort on its survivor counts.

        Parameters
        ----------
        survivors : DataFrame
            One column per cohort, one row per period: row ``t`` holds the customers of the cohort
            still active after ``t`` periods (row 0 the cohort size). Counts are non-negative
            integers, non-increasing down a column; a cohort observed for fewer periods has NaN
            after its last observed period.

        Returns
        -------
        self
        """
        name = type(self).__name__
        if not isinstance(survivors, pd.DataFrame) or survivors.shape[1] == 0 or len(survivors) < 2:
            raise DataError(f"{name}.fit expects a DataFrame of survivor counts with one column per cohort "
                            "and at least 2 rows (period 0 = cohort size, then each period's survivors).")
        if len(survivors) > _MAX_PERIODS + 1:
            raise DataError(f"{name}.fit: the survivor table has {len(survivors)} periods; the limit is "
                            f"{_MAX_PERIODS}.")
        fits, rows_ll, sizes, summaries, covs = {}, {}, {}, [], []
        for cohort in survivors.columns:
            col = pd.to_numeric(survivors[cohort], errors="coerce").to_numpy(dtype="float64")
            n_obs = len(col) if not np.isnan(col).any() else int(np.argmax(np.isnan(col)))
            counts = col[:n_obs]
            problem = None
            text = np.isnan(col) & survivors[cohort].notna().to_numpy()
            if text.any():
                problem = (f"holds {int(text.sum())} non-numeric values (e.g. "
                           f"{survivors[cohort][text].head(3).tolist()}); use NaN only after the last observed period")
            elif n_obs < 2 or np.isnan(col[n_obs:]).sum() != len(col) - n_obs:
                problem = "needs period 0 and at least one more period, with NaN only after the last observed one"
            elif (counts < 0).any() or (counts != np.round(counts)).any() or np.isinf(counts).any():
                problem = "holds counts that are not non-negative integers"
            elif (np.diff(counts) > 0).any():
                problem = "has survivor counts that increase from one period to the next"
            elif counts[0] < 1:
                problem = "has no customer in period 0"
            if problem:
                raise DataError(f"{name}.fit: the cohort {cohort!r} {problem} (values {col[:8].tolist()}...). "
                                "Pass customers still active after each period, row 0 the cohort size.")
            rows = _survivors_to_rows(counts, cohort)
            m = _SBGCohort(max_iter=self.max_iter, tol=self.tol, compress=False)
            if len(rows) < 2:
                raise DataError(f"{name}.fit: the cohort {cohort!r} has no churn or no survivor in its "
                                "observed periods; gamma and delta are not identified.")
            m.fit(rows[["period", "churned"]], sample_weight=rows["n"].to_numpy())
            fits[cohort] = m
            rows_ll[cohort] = m.log_likelihood_
            sizes[cohort] = int(counts[0])
            summaries.append(m.summary_.assign(cohort=cohort).set_index("cohort", append=True))
            covs.append(m.cov_log_.assign(cohort=cohort).set_index("cohort", append=True))
        idx = pd.Index(list(fits), name="cohort")
        self.params_ = pd.DataFrame([f.params_.to_numpy() for f in fits.values()], index=idx,
                                    columns=pd.Index(["gamma", "delta"]))
        self.summary_ = pd.concat(summaries).reorder_levels(["cohort", "param"])
        self.cov_log_ = pd.concat(covs).reorder_levels(["cohort", "param"])
        self.log_likelihood_ = pd.Series(rows_ll, name="log_likelihood").rename_axis("cohort")
        self.n_customers_ = pd.Series(sizes, name="n_customers").rename_axis("cohort")
        self.converged_ = pd.Series({c: f.converged_ for c, f in fits.items()}, name="converged").rename_axis("cohort")
        return self

    def _check_loaded_state(self):
        """Called by :func:`crmml.persistence.load`: parameters, covariances and cohort labels agree."""
        if not fitted_attrs(self, ("params_", "cov_log_")):
            return
        check_positive_params(self.params_, "params_", ["gamma", "delta"])
        cohorts = list(self.params_.index)
        cov = self.cov_log_
        if (not isinstance(cov, pd.DataFrame) or list(cov.columns) != ["gamma", "delta"]
                or cov.index.nlevels != 2 or list(cov.index) != [(c, p) for c in cohorts for p in ("gamma", "delta")]):
            raise ValueError("cov_log_ must hold a 2 x 2 block (rows gamma, delta) for each cohort of params_, "
                             "in the same order.")
        for j in range(len(cohorts)):
            check_covariance(cov.to_numpy()[2 * j:2 * j + 2], f"cov_log_ of cohort {cohorts[j]!r}", 2)

    # -- predictions --------------------------------------------------------------------------------------
    def _params(self):
        check_is_fitted(self, "params_")
        return self.params_["gamma"].to_numpy(), self.params_["delta"].to_numpy()

    def _periods(self, periods, owner):
        return int(check_number(periods, "periods", f"{type(self).__name__}.{owner}", low=0, high=_MAX_PERIODS))

    def retention_curve(self, periods: int) -> pd.DataFrame:
        """Survival ``S(t)``, the share of a cohort still active after ``t`` periods, ``t = 0..periods``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeometricModel().fit(pd.DataFrame({"a": [100, 60, 45, 38]}))
        >>> m.retention_curve(3)["a"].round(2).tolist()
        [1.0, 0.6, 0.46, 0.38]
        """
        g, d = self._params()
        t = np.arange(self._periods(periods, "retention_curve") + 1, dtype="float64")
        s = np.exp(betaln(g[None, :], d[None, :] + t[:, None]) - betaln(g, d)[None, :])
        return pd.DataFrame(s, index=pd.Index(t.astype(int), name="period"), columns=self.params_.index)

    def retention_rates(self, periods: int) -> pd.DataFrame:
        """Retention rate ``r(t) = S(t)/S(t-1) = (delta+t-1)/(gamma+delta+t-1)`` for ``t = 1..periods``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeometricModel().fit(pd.DataFrame({"a": [100, 60, 45, 38]}))
        >>> bool(m.retention_rates(5)["a"].is_monotonic_increasing)
        True
        """
        g, d = self._params()
        t = np.arange(1, self._periods(periods, "retention_rates") + 1, dtype="float64")
        r = (d[None, :] + t[:, None] - 1) / (g[None, :] + d[None, :] + t[:, None] - 1)
        return pd.DataFrame(r, index=pd.Index(t.astype(int), name="period"), columns=self.params_.index)

    def expected_residual_lifetime(self, renewals: int = 0, *, discount_rate: float = 0.0) -> pd.Series:
        """Expected (discounted) number of future renewals of an active customer, per cohort.

        ``sum_{t > n} S(t)/S(n) (1+d)^-(t-n-1)`` for a customer who has made ``n = renewals``
        renewals: the next renewal counts in full, each later one is discounted by ``1 + d`` per
        period (Fader & Hardie 2010's DERL). Multiply by the margin per period for a residual value.
        With ``discount_rate=0`` it is ``(delta+n)/(gamma-1)``, and ``inf`` when ``gamma <= 1``
        (a heavy tail of customers who almost never churn).

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeometricModel().fit(pd.DataFrame({"a": [1000, 631, 468, 382, 326, 289, 262, 241]}))
        >>> float(m.expected_residual_lifetime(0).iloc[0])
        inf
        >>> round(float(m.expected_residual_lifetime(0, discount_rate=0.1).iloc[0]), 2)
        2.96
        """
        owner = f"{type(self).__name__}.expected_residual_lifetime"
        n = check_number(renewals, "renewals", owner, low=0, high=_MAX_PERIODS)
        disc = check_number(discount_rate, "discount_rate", owner, kind="float", low=0, high=100)
        g, d = self._params()
        with np.errstate(all="ignore"):
            if disc == 0:
                out = np.where(g > 1, (d + n) / (g - 1), np.inf)
            else:
                out = (d + n) / (g + d + n) * hyp2f1(1.0, d + n + 1, g + d + n + 1, 1.0 / (1.0 + disc))
        return pd.Series(out, index=self.params_.index, name="expected_residual_lifetime")

    def retention_interval(self, periods: int, *, level: float = 0.9, n_draws: int = 1000,
                           random_state=None) -> pd.DataFrame:
        """Intervals on ``S(t)`` from the parameters' sampling distribution (normal on the log parameters).

        Returns a frame indexed by period with columns ``(cohort, "lower")`` and ``(cohort, "upper")``.

        Examples
        --------
        >>> import pandas as pd
        >>> m = ShiftedBetaGeometricModel().fit(pd.DataFrame({"a": [1000, 631, 468, 382, 326]}))
        >>> iv = m.retention_interval(10, random_state=0)
        >>> bool((iv[("a", "lower")] <= m.retention_curve(10)["a"]).all())
        True
        """
        owner = f"{type(self).__name__}.retention_interval"
        check_number(level, "level", owner, kind="float", low=0, high=1, low_inclusive=False, high_inclusive=False)
        check_number(n_draws, "n_draws", owner, low=10, high=1_000_000)
        g0, d0 = self._params()
        t = np.arange(self._periods(periods, "retention_interval") + 1, dtype="float64")
        rng = np.random.default_rng(random_state)
        q = [(1 - level) / 2, (1 + level) / 2]
        cols = {}
        for j, cohort in enumerate(self.params_.index):
            cov = self.cov_log_.loc[cohort].to_numpy()
            mean = np.log([g0[j], d0[j]])
            draws = np.exp(rng.multivariate_normal(mean, cov, size=n_draws, method="eigh")) \
                if np.all(np.isfinite(cov)) else np.exp(np.tile(mean, (n_draws, 1)))
            s = np.exp(betaln(draws[:, :1], draws[:, 1:] + t[None, :]) - betaln(draws[:, :1], draws[:, 1:]))
            lo, hi = np.quantile(s, q, axis=0)
            cols[(cohort, "lower")], cols[(cohort, "upper")] = lo, hi
        return pd.DataFrame(cols, index=pd.Index(t.astype(int), name="period"))
