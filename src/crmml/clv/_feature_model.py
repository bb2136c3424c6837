"""FeatureCLVModel: gradient boosting on point-in-time features plus probabilistic-model forecasts.

Training is out of time: features at ``as_of - horizon_days`` (rows before it only), targets over
the following ``horizon_days`` (up to ``as_of``, never past it). Scoring uses features at ``as_of``.
Both feature sets hold :func:`crmml.features.build_features` plus the forecasts of a BG/NBD +
Gamma-Gamma model fitted on the summary at the same cutoff (``pm_*`` columns). Targets:

- purchases (occasions, as in :func:`crmml.clv.summarize`) with a Poisson objective;
- revenue (purchase amounts net of returns, floored at 0) with a Tweedie objective
  (zero-inflated and heavy-tailed: a point mass at 0 and a gamma-like tail);
- the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of revenue (quantile objective) for intervals.

``clv`` discounts ``expected_revenue`` assuming it arrives evenly over the horizon, at the annual
``discount_rate``: ``clv = expected_revenue * mean_k (1 + d)^-(t_k / 365.25)`` over monthly ``t_k``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import MAX_HORIZON_DAYS, check_as_of, check_number
from crmml.clv._bgnbd import BetaGeoModel
from crmml.clv._gammagamma import GammaGammaModel
from crmml.clv._summary import summarize
from crmml.exceptions import DroppedCustomersWarning, NoHistoryError
from crmml.schema import validate_transactions

__all__ = ["FeatureCLVModel"]

_DAYS_PER_YEAR = 365.25


def _targets(tx, start, end, ids):
    """Purchase occasions (distinct days with a purchase line) and net revenue in [start, end) per customer."""
    w = tx[(tx["timestamp"] >= start) & (tx["timestamp"] < end)]
    buys = w[~(w["amount"] < 0)]
    n = buys.assign(day=buys["timestamp"].dt.normalize()).groupby("customer_id")["day"].nunique()
    rev = w.groupby("customer_id")["amount"].sum().clip(lower=0.0)
    return (n.reindex(ids, fill_value=0).to_numpy(dtype="float64"),
            rev.reindex(ids, fill_value=0.0).to_numpy(dtype="float64"))


class FeatureCLVModel(BaseEstimator):
    """Feature-based CLV: expected purchases and revenue over a horizon, by gradient boosting.

    Parameters
    ----------
    horizon_days : int, default=365
        Forecast horizon, in [1, 3650]; the history before ``as_of`` must be longer (training uses
        the horizon just before ``as_of`` as target window).
    discount_rate : float, optional
        Annual discount rate; adds a ``clv`` column.
    windows : tuple of int, default=(30, 90, 180, 365)
        Feature windows of :func:`crmml.features.build_features`.
    n_estimators, learning_rate, max_depth, min_child_weight : xgboost settings
    level : float, default=0.9
        Central coverage of the revenue interval.
    random_state : int, default=0
    n_jobs : int, default=1

    Attributes
    ----------
    feature_names_ : list of str
    train_cutoff_, as_of_ : str
    n_train_ : int
        Customers in the training snapshot.

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=300, seed=1, with_events=False)
    >>> m = FeatureCLVModel(horizon_days=90, n_estimators=20).fit(crm.transactions, "2024-07-01")
    >>> pred = m.predict(crm.transactions)
    >>> list(pred.columns)
    ['expected_purchases', 'expected_revenue', 'revenue_lower', 'revenue_upper']
    >>> bool((pred["revenue_lower"] <= pred["revenue_upper"]).all())
    True
    """

    def __init__(self, horizon_days: int = 365, *, discount_rate: float | None = None,
                 windows=(30, 90, 180, 365), n_estimators: int = 300, learning_rate: float = 0.05,
                 max_depth: int = 4, min_child_weight: float = 5.0, level: float = 0.9, random_state: int = 0,
                 n_jobs: int = 1):
        self.horizon_days = horizon_days
        self.discount_rate = discount_rate
        self.windows = windows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.level = level
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _check(self):
        owner = "FeatureCLVModel"
        check_number(self.horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
        if self.discount_rate is not None:
            check_number(self.discount_rate, "discount_rate", owner, kind="float", low=0, high=10)
        check_number(self.level, "level", owner, kind="float", low=0, high=1, low_inclusive=False,
                     high_inclusive=False)
        check_number(self.n_estimators, "n_estimators", owner, low=1, high=100_000)
        check_number(self.learning_rate, "learning_rate", owner, kind="float", low=0, high=1, low_inclusive=False)
        check_number(self.max_depth, "max_depth", owner, low=1, high=20)
        check_number(self.min_child_weight, "min_child_weight", owner, kind="float", low=0)

    def _prob_models(self, tx, cut):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = summarize(tx, cut)
            pm = BetaGeoModel().fit(s)
            sm = GammaGammaModel().fit(s) if ((s["frequency"] > 0) & (s["monetary_value"] > 0)).sum() >= 3 else None
        return pm, sm

    def _design(self, tx, cut, events, customers, pm, sm):
        from crmml.features import build_features

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedCustomersWarning)
            X = build_features(tx, cut, events=events, customers=customers, windows=tuple(self.windows), n_jobs=1)
            s = summarize(tx, cut)
        X = X.select_dtypes("number")
        h = self.horizon_days
        p = pd.DataFrame(index=s.index)
        p["pm_p_alive"] = pm.conditional_probability_alive(s).to_numpy()
        p["pm_expected_purchases"] = pm.conditional_expected_purchases(s, float(h)).to_numpy()
        spend = sm.conditional_expected_spend(s).to_numpy() if sm is not None else np.zeros(len(s))
        p["pm_expected_spend"] = spend
        p["pm_expected_revenue"] = p["pm_expected_purchases"] * np.maximum(spend, 0.0)
        return X.join(p, how="left")

    def _xgb(self, objective, **extra):
        import xgboost as xgb

        return xgb.XGBRegressor(objective=objective, n_estimators=self.n_estimators, learning_rate=self.learning_rate,
                                max_depth=self.max_depth, min_child_weight=self.min_child_weight, subsample=0.8,
                                colsample_bytree=0.8, random_state=self.random_state, n_jobs=self.n_jobs,
                                tree_method="hist", **extra)

    def fit(self, transactions: pd.DataFrame, as_of, events=None, customers=None, *, columns=None):
        """Fit on features at ``as_of - horizon_days`` and targets over ``[as_of - horizon_days, as_of)``.

        Only rows before ``as_of`` are read.

        Returns
        -------
        self
        """
        self._check()
        as_of = check_as_of(as_of, "FeatureCLVModel.fit")
        tx = validate_transactions(transactions, columns)
        tx = tx[tx["timestamp"] < as_of]
        cut = as_of - pd.Timedelta(days=int(self.horizon_days))
        if not (tx["timestamp"] < cut).any():
            first = tx["timestamp"].min() if len(tx) else None
            raise NoHistoryError(f"FeatureCLVModel.fit trains on features at as_of - horizon_days = {cut.date()} and "
                                 f"targets up to as_of; the transactions start at {first}. Use a later as_of or a "
                                 "shorter horizon_days.")
        ev = None if events is None else events[events["timestamp"] < as_of]
        pm_t, sm_t = self._prob_models(tx, cut)
        X = self._design(tx, cut, ev, customers, pm_t, sm_t)
        y_n, y_rev = _targets(tx, cut, as_of, X.index)
        self.feature_names_ = list(X.columns)
        q = [(1 - self.level) / 2, (1 + self.level) / 2]
        self.purchases_model_ = self._xgb("count:poisson").fit(X, y_n)
        self.revenue_model_ = self._xgb("reg:tweedie", tweedie_variance_power=1.5).fit(X, y_rev)
        self.interval_model_ = self._xgb("reg:quantileerror", quantile_alpha=np.array(q)).fit(X, y_rev)
        self.purchase_model_, self.spend_model_ = self._prob_models(tx, as_of)
        self.n_train_ = len(X)
        self.train_cutoff_, self.as_of_ = cut.isoformat(), as_of.isoformat()
        return self

    def predict(self, transactions: pd.DataFrame, events=None, customers=None, *, columns=None) -> pd.DataFrame:
        """Per customer with a purchase before ``as_of``: expected purchases and revenue over the horizon.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``: ``expected_purchases``, ``expected_revenue``, ``revenue_lower``,
            ``revenue_upper`` (``level`` interval of the revenue) and ``clv`` when ``discount_rate`` is set.
        """
        check_is_fitted(self, "revenue_model_")
        as_of = pd.Timestamp(self.as_of_)
        tx = validate_transactions(transactions, columns)
        tx = tx[tx["timestamp"] < as_of]
        ev = None if events is None else events[events["timestamp"] < as_of]
        X = self._design(tx, as_of, ev, customers, self.purchase_model_, self.spend_model_)
        X = X.reindex(columns=self.feature_names_)
        out = pd.DataFrame(index=X.index)
        out["expected_purchases"] = self.purchases_model_.predict(X).astype("float64")
        out["expected_revenue"] = self.revenue_model_.predict(X).astype("float64")
        iv = np.sort(np.asarray(self.interval_model_.predict(X), dtype="float64").reshape(len(X), -1), axis=1)
        out["revenue_lower"], out["revenue_upper"] = np.maximum(iv[:, 0], 0.0), np.maximum(iv[:, -1], 0.0)
        if self.discount_rate is not None:
            month = _DAYS_PER_YEAR / 12
            k = math.ceil(self.horizon_days / month - 1e-9)
            days = np.minimum(np.arange(1, k + 1) * month, self.horizon_days)
            out["clv"] = out["expected_revenue"] * float(np.mean((1 + self.discount_rate) ** (-days / _DAYS_PER_YEAR)))
        return out
