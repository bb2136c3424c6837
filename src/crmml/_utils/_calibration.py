"""Probability calibration with plain-array state (saveable without pickle)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from crmml._utils._blas import one_blas_thread
from crmml._utils._validation import check_in


class ProbabilityCalibrator(BaseEstimator):
    """Map raw scores to calibrated probabilities.

    Parameters
    ----------
    method : {"isotonic", "sigmoid"}, default="isotonic"
        ``"isotonic"`` fits a monotone step function (needs a few hundred
        events to be stable); ``"sigmoid"`` fits Platt scaling
        ``1 / (1 + exp(-(a * logit(s) + b)))`` and suits small samples.
        Both are increasing, so they never reverse the order of the scores: when the
        scores rank the outcomes backwards (Platt slope ``a <= 0``, e.g. a model
        validated out of time after a drift), ``a`` is set to a vanishing positive
        value and every probability is the base rate of ``y``. With ``periods``
        (forward folds), the slope is fitted within periods and the level over all.

    Attributes
    ----------
    x_ , y_ : ndarray
        Isotonic knots (``np.interp`` between them), for ``method="isotonic"``.
    coef_ , intercept_ : float
        Platt parameters on the logit of the score, for ``method="sigmoid"``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> s = rng.random(2000); y = (rng.random(2000) < s ** 2).astype(int)
    >>> cal = ProbabilityCalibrator().fit(s, y)
    >>> bool(abs(cal.transform(np.array([0.5]))[0] - 0.25) < 0.08)
    True
    """

    def __init__(self, method: str = "isotonic"):
        self.method = method

    @staticmethod
    def _logit(s):
        s = np.clip(np.asarray(s, dtype=float), 1e-6, 1 - 1e-6)
        return np.log(s / (1 - s))

    def fit(self, scores, y, periods=None):
        """Fit on raw ``scores`` and 0/1 outcomes ``y``.

        ``periods`` (optional, sigmoid only; integers, later periods larger): the period of each score, e.g.
        the forward fold its out-of-time prediction came from. One slope is fitted with one intercept per
        period (``period_intercepts_``): the slope then measures how well the scores rank the outcomes *within*
        a period, not how well they guessed each period's level, which drifts (a pooled fit after a strong
        drift can find a negative slope for a model that ranks well in every period). ``intercept_`` is then
        set so that the mean probability over all periods equals their conversion rate. Without ``periods``,
        plain Platt scaling. Isotonic calibration pools the periods.
        """
        check_in(self.method, "method", "ProbabilityCalibrator", ("isotonic", "sigmoid"))
        s = np.asarray(scores, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        if self.method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
            self.x_, self.y_ = np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)
            return self
        z = self._logit(s)
        g = np.zeros(len(z), dtype=np.int64) if periods is None else np.asarray(periods, dtype=np.int64).ravel()
        self.periods_ = np.unique(g)
        if len(self.periods_) == 1:
            with one_blas_thread():            # the same slope for any core count
                lr = LogisticRegression(C=1e6).fit(z[:, None], y)
            self.coef_, self.period_intercepts_ = float(lr.coef_[0, 0]), np.asarray(lr.intercept_, dtype=float)
        else:
            D = np.column_stack([z] + [(g == k).astype(float) for k in self.periods_])
            with one_blas_thread():
                lr = LogisticRegression(C=1e6, fit_intercept=False, max_iter=1000).fit(D, y)
            self.coef_ = float(lr.coef_[0, 0])
            self.period_intercepts_ = np.asarray(lr.coef_[0, 1:], dtype=float)
        if not self.coef_ > 0:
            # the scores do not rank these outcomes (e.g. out of time after a drift): a negative slope
            # would reverse the model's order. Monotone Platt scaling (slope >= 0) puts the slope on its
            # bound: every probability is its period's base rate; a vanishing slope keeps the order for ties.
            self.coef_ = 1e-6
            rates = np.array([np.clip(y[g == k].mean(), 1e-6, 1 - 1e-6) for k in self.periods_])
            self.period_intercepts_ = np.log(rates / (1 - rates)) - self.coef_ * np.array(
                [z[g == k].mean() for k in self.periods_])
        if len(self.periods_) == 1:
            self.intercept_ = float(self.period_intercepts_[0])
        else:   # the level of all periods together, given the shared slope
            self.match_rate(s, y)
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load``: the fitted numbers make probabilities in [0, 1] (never NaN)."""
        from crmml._utils._state import check_codes, check_finite

        if self.method == "isotonic":
            if not hasattr(self, "x_"):
                return
            x = check_finite(self.x_, "x_", shape=(-1,))
            check_finite(self.y_, "y_", shape=x.shape, low=0.0, high=1.0)
            if not len(x) or np.any(np.diff(x) < 0):
                raise ValueError("x_ must be non-empty and non-decreasing.")
            return
        if self.method != "sigmoid":
            raise ValueError(f"method must be 'isotonic' or 'sigmoid'; it is {self.method!r:.40}.")
        if not hasattr(self, "coef_"):
            return
        check_finite(self.coef_, "coef_")
        check_finite(getattr(self, "intercept_", None), "intercept_")
        if hasattr(self, "periods_"):            # absent from files saved before per-period intercepts
            periods = check_codes(self.periods_, "periods_", -2**62, 2**62)
            check_finite(self.period_intercepts_, "period_intercepts_", shape=periods.shape)
            if not len(periods) or np.any(np.diff(periods) <= 0):
                raise ValueError("periods_ must be non-empty and increasing.")

    def match_rate(self, scores, y):
        """Set the Platt level so the mean calibrated probability of ``scores`` equals the rate of ``y``.

        The slope is kept (how the scores rank); only ``intercept_`` moves. Isotonic calibrators are left as
        they are.
        """
        if self.method != "sigmoid":
            return self
        check_is_fitted(self, "coef_")
        z = self._logit(scores)
        rate = float(np.mean(y))
        self.intercept_ = float(brentq(lambda b: expit(self.coef_ * z + b).mean() - rate, -50.0, 50.0))
        return self

    def transform(self, scores, periods=None):
        """Calibrated probabilities for raw ``scores`` (same shape, 1-D).

        ``periods``: use each period's own intercept (for the out-of-fold scores ``fit`` saw); otherwise
        ``intercept_``.
        """
        check_is_fitted(self, "x_" if self.method == "isotonic" else "coef_")
        s = np.asarray(scores, dtype=float).ravel()
        if self.method == "isotonic":
            return np.interp(s, self.x_, self.y_)
        b = self.intercept_
        if periods is not None and hasattr(self, "periods_"):
            pos = np.searchsorted(self.periods_, np.asarray(periods, dtype=np.int64).ravel())
            pos = np.clip(pos, 0, len(self.periods_) - 1)
            b = self.period_intercepts_[pos]
        return 1.0 / (1.0 + np.exp(-(self.coef_ * self._logit(s) + b)))


def check_calibrator(cal, name: str = "calibrator_") -> None:
    """For an owner's ``_check_loaded_state``: ``cal`` is a fitted :class:`ProbabilityCalibrator` (its numbers are
    checked by its own hook when loaded)."""
    if not isinstance(cal, ProbabilityCalibrator) or not hasattr(cal, "x_" if cal.method == "isotonic" else "coef_"):
        raise ValueError(f"{name} must be a fitted ProbabilityCalibrator; it is {type(cal).__name__}.")
