"""RecencyFrequencyBaseline (logistic regression on recency and frequency, the bar a churn model must beat) and
the checks of a churn training frame and its labels shared with :class:`crmml.churn.ChurnModel`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_aligned, check_feature_frame, numeric_values
from crmml._utils._blas import one_blas_thread
from crmml.churn._loaded import check_recency_frequency
from crmml.exceptions import DataError, ParameterError

__all__ = ["RecencyFrequencyBaseline", "check_frame", "check_y"]


def check_frame(X, owner):
    if not isinstance(X, pd.DataFrame):
        raise ParameterError(f"{owner} expects X as a pandas DataFrame (one row per customer). "
                             f"Got {type(X).__name__} instead.")
    if X.shape[0] == 0:
        raise DataError(f"{owner}: X has no rows.")
    check_feature_frame(X, owner)


def check_y(y, X, owner):
    check_aligned(y, X, "y", owner)
    y = np.asarray(y).ravel()
    if len(y) != len(X):
        raise DataError(f"{owner}: y has {len(y)} values but X has {len(X)} rows.")
    if not np.isin(y, (0, 1)).all():
        raise DataError(f"{owner}: y must contain only 0 and 1.")
    if len(np.unique(y)) < 2:
        raise DataError(f"{owner}: y has a single class; churn models need churners and non-churners.")
    return y.astype(np.int64)



class RecencyFrequencyBaseline(ClassifierMixin, BaseEstimator):
    """Logistic regression on log recency and log frequency only: the baseline a churn model must beat.

    Parameters
    ----------
    recency : str, default="purchase_recency_all"
        Column with days since the last purchase.
    frequency : str, default="purchase_count_all"
        Column with the number of purchases.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.churn import RecencyFrequencyBaseline
    >>> X = pd.DataFrame({"purchase_recency_all": [5.0, 200, 10, 300], "purchase_count_all": [9.0, 1, 5, 2]})
    >>> b = RecencyFrequencyBaseline().fit(X, [0, 1, 0, 1])
    >>> bool(b.predict_proba(X)[1, 1] > b.predict_proba(X)[0, 1])
    True
    """

    def __init__(self, recency="purchase_recency_all", frequency="purchase_count_all"):
        self.recency = recency
        self.frequency = frequency

    def _xy(self, X, owner):
        check_frame(X, owner)
        for c in (self.recency, self.frequency):
            if c not in X.columns:
                raise DataError(f"{owner}: X lacks the column {c!r}.")
        r = numeric_values(X[self.recency], "X", self.recency)
        f = numeric_values(X[self.frequency], "X", self.frequency)
        return r, f

    def _design(self, r, f):
        r = np.where(np.isnan(r), self.recency_fill_, r)
        f = np.where(np.isnan(f), 0.0, f)
        return np.column_stack([np.log1p(np.clip(r, 0, None)), np.log1p(np.clip(f, 0, None))])

    def fit(self, X, y, *, time=None):
        """Fit the logistic regression (``time`` is accepted for API symmetry and ignored)."""
        r, f = self._xy(X, "RecencyFrequencyBaseline.fit")
        y = check_y(y, X, "RecencyFrequencyBaseline.fit")
        self.recency_fill_ = float(np.nanmax(r)) if np.isfinite(r).any() else 0.0
        D = self._design(r, f)
        self.scaler_ = StandardScaler().fit(D)
        with one_blas_thread():                # the same coefficients for any core count
            self.model_ = LogisticRegression(C=1.0, max_iter=1000).fit(self.scaler_.transform(D), y)
        self.classes_ = np.array([0, 1])
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.churn._loaded``)."""
        check_recency_frequency(self)

    def contributions(self, X) -> np.ndarray:
        """Log-odds terms of recency and frequency per row (``n x 2``), relative to the average training row."""
        check_is_fitted(self, "model_")
        r, f = self._xy(X, "RecencyFrequencyBaseline.contributions")
        return self.scaler_.transform(self._design(r, f)) * self.model_.coef_[0]

    def predict_proba(self, X):
        check_is_fitted(self, "model_")
        # element-wise (no matrix product): a row's probability does not depend on the other rows
        t = self.contributions(X)
        p = expit(t[:, 0] + t[:, 1] + self.model_.intercept_[0])
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """1 where the churn probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def predict_risk(self, X) -> pd.Series:
        """Churn probability as a Series indexed like ``X``."""
        return pd.Series(self.predict_proba(X)[:, 1], index=X.index, name="churn_probability")
