"""Probability calibration with plain-array state (saveable without pickle)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

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
        value and every probability is the base rate of ``y``.

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

    def fit(self, scores, y):
        check_in(self.method, "method", "ProbabilityCalibrator", ("isotonic", "sigmoid"))
        s = np.asarray(scores, dtype=float).ravel()
        y = np.asarray(y, dtype=float).ravel()
        if self.method == "isotonic":
            iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(s, y)
            self.x_, self.y_ = np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float)
        else:
            z = self._logit(s)
            lr = LogisticRegression(C=1e6).fit(z[:, None], y)
            self.coef_, self.intercept_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
            if not self.coef_ > 0:
                # the scores do not rank these outcomes (e.g. out of time after a drift): a negative slope
                # would reverse the model's order. Monotone Platt scaling (slope >= 0) puts the slope on its
                # bound: every probability is the base rate, a vanishing slope keeps the order for ties.
                rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
                self.coef_ = 1e-6
                self.intercept_ = float(np.log(rate / (1 - rate)) - self.coef_ * z.mean())
        return self

    def transform(self, scores):
        """Calibrated probabilities for raw ``scores`` (same shape, 1-D)."""
        check_is_fitted(self, "x_" if self.method == "isotonic" else "coef_")
        s = np.asarray(scores, dtype=float).ravel()
        if self.method == "isotonic":
            return np.interp(s, self.x_, self.y_)
        return 1.0 / (1.0 + np.exp(-(self.coef_ * self._logit(s) + self.intercept_)))
