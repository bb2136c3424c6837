"""TimeToChurnModel: a gradient-boosted discrete-time hazard model on stacked point-in-time snapshots."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._time import _short, warn_if_before_data
from crmml._utils import MAX_HORIZON_DAYS, MAX_WINDOW_DAYS, check_as_of, check_in, check_number, numeric_values, steps
from crmml._utils._state import check_str_list, fitted_attrs
from crmml._utils._xgb import check_xgb_params, xgb_errors
from crmml.churn._backtest import feature_columns
from crmml.churn._encode import category_floats, text_categories
from crmml.churn._labels import look_back_window
from crmml.churn._loaded import check_categories
from crmml.exceptions import DataError, DroppedCustomersWarning, NoHistoryError, ParameterError
from crmml.features import DEFAULT_WINDOWS, compute_features
from crmml.features._build import _check_windows
from crmml.schema import SchemaError, validate_customers, validate_events, validate_transactions

__all__ = ["TimeToChurnModel", "make_time_to_event"]

_DAY_NS = 86_400 * 10**9
_T = "period_start_days"          # the time feature of each person-period row


def _time_to_event(tx, cutoff, end, lookback_days, max_days, warn=False):
    """Population active in the lookback before ``cutoff`` and days to the next purchase in ``[cutoff, end)``;
    with ``warn``, a ``DroppedCustomersWarning`` when nobody is at risk although rows exist (as the labels say)."""
    t = tx["timestamp"].to_numpy("datetime64[ns]")
    buy = ~(tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan) < 0)
    ids = tx["customer_id"].to_numpy()
    past = buy & look_back_window(t, buy, cutoff, lookback_days, warn=warn, stacklevel=4)
    t, c = t.view(np.int64), int(cutoff.value)
    pop = pd.Index(pd.unique(ids[past])).sort_values()
    fut = buy & (t >= c) & (t < int(end.value))
    first = pd.Series(t[fut], index=ids[fut]).groupby(level=0).min().reindex(pop)
    follow = min((int(end.value) - c) / _DAY_NS, float(max_days))
    d = (first.to_numpy(dtype=np.float64) - c) / _DAY_NS
    event = np.isfinite(d) & (d < follow)
    out = pd.DataFrame({"duration_days": np.where(event, d, follow), "event": event.astype(np.int64)},
                       index=pd.Index(pop, name="customer_id"))
    return out


def make_time_to_event(transactions, as_of, *, end=None, max_days: int = 180, lookback_days: int = 365):
    """Days from ``as_of`` to each active customer's next purchase, censored at ``end`` or ``max_days``.

    The population is :func:`make_churn_labels`'s (a purchase in ``[as_of - lookback_days, as_of)``);
    a purchase is a row with ``amount >= 0`` or a missing amount. ``event`` is 1 when the next purchase
    is seen before ``min(end, as_of + max_days)`` (``end`` defaults to the day after the last
    transaction), else 0 with ``duration_days`` the follow-up. So ``churned`` at horizon ``h`` is
    ``duration_days >= h`` for every customer followed for ``h`` days. When nobody is at risk although rows
    exist (only returns in the look-back window, or no row in it), a ``DroppedCustomersWarning`` says so, as
    :func:`make_churn_labels` does.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [5.0, 5.0, 9.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-10", "2024-03-11", "2024-02-01"])})
    >>> make_time_to_event(tx, "2024-03-01", end="2024-06-01").to_dict("index")
    {1: {'duration_days': 10.0, 'event': 1}, 2: {'duration_days': 92.0, 'event': 0}}
    """
    owner = "make_time_to_event"
    as_of = check_as_of(as_of, owner)
    check_number(max_days, "max_days", owner, low=1, high=MAX_HORIZON_DAYS)
    check_number(lookback_days, "lookback_days", owner, low=1, high=MAX_WINDOW_DAYS)
    tx = validate_transactions(transactions, allow_missing_amount=True)
    end = (tx["timestamp"].max().normalize() + pd.Timedelta(days=1)) if end is None else check_as_of(end, owner, "end")
    if end <= as_of:
        raise ParameterError(f"{owner}: end ({end}) must be after as_of ({as_of}); nothing can be observed.")
    warn_if_before_data(as_of, tx["timestamp"])
    return _time_to_event(tx, as_of, end, lookback_days, max_days, warn=True)


def _expand(n_periods, start_days, period, duration=None, event=None):
    """Person-period rows: (row of the customer, period start in days, outcome) for each period.

    Without ``duration`` every customer gets ``n_periods`` rows from its start (prediction). With it, each
    customer gets the periods fully observed before censoring, or up to and including the period of its
    event (outcome 1); ``n_periods`` (or None: no cap) caps the rows per customer.
    """
    n = len(start_days)
    if duration is None:
        k = np.tile(np.arange(n_periods), n)
        who = np.repeat(np.arange(n), n_periods)
        return who, start_days[who] + k * period, None
    last = np.floor(duration / period).astype(np.int64)            # period holding the event
    n_rows = np.where(event == 1, last + 1, last)
    if n_periods is not None:
        n_rows = np.minimum(n_rows, n_periods)
    who = np.repeat(np.arange(n), n_rows)
    offsets = np.cumsum(n_rows) - n_rows
    k = np.arange(len(who)) - offsets[who]
    y = ((event[who] == 1) & (k == last[who])).astype(np.int64)
    return who, start_days[who] + k * period, y


class TimeToChurnModel(BaseEstimator):
    """Per-customer survival curves from a gradient-boosted discrete-time hazard model.

    **Transaction logs** (``fit(transactions, as_of)``): the event is the customer's *next purchase*,
    ``T`` the days from the cutoff to it. ``S(t) = P(T >= t)`` is then exactly crmml's churn probability at
    horizon ``t`` (no purchase in ``[as_of, as_of + t)``, :func:`make_churn_labels`), so one model gives the
    risk at every horizon; :meth:`predict_median` is the median days to the next purchase (``inf`` when
    the curve stays above 0.5 within ``max_days``). Training data are ``n_snapshots`` point-in-time snapshots at
    ``as_of - k * snapshot_step_days`` (k = 1..n): features from :func:`crmml.features.compute_features` as of
    each snapshot, next purchases observed only before ``as_of`` (later ones are censored), so nothing at or
    after ``as_of`` is read.

    **Subscription tables** (``fit_subscriptions(table)``): one row per customer with the tenure in days and
    a churned flag (0 = still subscribed, censored); the event is leaving, ``S(t)`` the probability of still
    being subscribed ``t`` days from now given the current tenure (``1 - S(t)`` the churn probability).

    The hazard of each period of ``period_days`` (``max_days / period_days`` periods) is one xgboost
    classifier over person-period rows (features + the period start); ``S`` is the product of ``1 - h``,
    interpolated geometrically inside a period.

    Parameters
    ----------
    period_days : int, default=15
    max_days : int, default=180
        Longest horizon modelled; ``predict_survival`` accepts days in ``(0, max_days]``.
    n_snapshots : int, default=4
    snapshot_step_days : int, default=45
    lookback_days : int, default=365
        Activity window defining who is at risk (as in :func:`make_churn_labels`).
    windows : tuple of int, default=crmml.features.DEFAULT_WINDOWS
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, colsample_bytree, reg_lambda
        xgboost settings (checked before any work).
    random_state : int, default=0
    n_jobs : int, default=1
    verbose : bool, default=False
        Show a progress bar (stderr) over the stages of ``fit``: the features of each training snapshot, the
        boosting, the features of the customers active at ``as_of``. The results are the same either way.

    Attributes
    ----------
    model_ : xgboost.XGBClassifier
    feature_names_in_ : ndarray of str
    kind_ : {"transactions", "subscriptions"}
    features_ : DataFrame
        Features of the customers scored by default (active at ``as_of`` / subscribed), as the model reads them.
    categories_ : dict
        Text feature -> its categories seen in fit (sorted). A text column (a customer attribute such as region,
        a plan in a subscription table) is read as its code among these; missing or unseen values are missing.
    start_days_ : ndarray
        Their time origin (0 for transaction logs, the current tenure for subscriptions).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=400, seed=0, with_events=False)
    >>> m = TimeToChurnModel(n_estimators=20, windows=(30, 90, 365)).fit(crm.transactions, "2024-07-01")
    >>> s = m.predict_survival(days=[45, 90])
    >>> list(s.columns), bool((s["survival_45d"] >= s["survival_90d"]).all())
    (['survival_45d', 'survival_90d'], True)
    """

    def __init__(self, period_days=15, max_days=180, n_snapshots=4, snapshot_step_days=45, lookback_days=365,
                 windows=DEFAULT_WINDOWS, n_estimators=300, learning_rate=0.05, max_depth=3, min_child_weight=10.0,
                 subsample=0.8, colsample_bytree=0.5, reg_lambda=5.0, random_state=0, n_jobs=1, verbose=False):
        self.period_days = period_days
        self.max_days = max_days
        self.n_snapshots = n_snapshots
        self.snapshot_step_days = snapshot_step_days
        self.lookback_days = lookback_days
        self.windows = windows
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- checks -----------------------------------------------------------------------------------
    def _check_params(self):
        own = "TimeToChurnModel"
        check_number(self.period_days, "period_days", own, low=1, high=MAX_HORIZON_DAYS)
        check_number(self.max_days, "max_days", own, low=self.period_days, high=MAX_HORIZON_DAYS)
        check_number(self.n_snapshots, "n_snapshots", own, low=1, high=100)
        check_number(self.snapshot_step_days, "snapshot_step_days", own, low=1, high=MAX_HORIZON_DAYS)
        check_number(self.lookback_days, "lookback_days", own, low=1, high=MAX_WINDOW_DAYS)
        check_xgb_params({k: getattr(self, k) for k in ("n_estimators", "learning_rate", "max_depth",
                                                         "min_child_weight", "subsample", "colsample_bytree",
                                                         "reg_lambda", "n_jobs")}, own)
        check_number(self.random_state, "random_state", own, low=0, high=2**32 - 1)
        check_in(self.verbose, "verbose", own, (True, False))

    @property
    def n_periods_(self):
        return int(np.ceil(self.max_days / self.period_days))

    def _check_loaded_state(self):
        import xgboost as xgb

        self._check_params()
        if not isinstance(self.model_, xgb.XGBClassifier):
            raise ValueError("model_ must be an xgboost.XGBClassifier.")
        width = self.model_.get_booster().num_features()
        if width != len(self.feature_names_in_) + 1:
            raise ValueError(f"model_ reads {width} features; feature_names_in_ (+ the period start) gives "
                             f"{len(self.feature_names_in_) + 1}.")
        if self.kind_ not in ("transactions", "subscriptions"):
            raise ValueError(f"kind_ must be 'transactions' or 'subscriptions'; it is {self.kind_!r:.40}.")
        fitted_attrs(self, ("model_", "event_types_", "channels_"))
        # absent from files saved before text features
        check_categories(getattr(self, "categories_", {}), [str(c) for c in self.feature_names_in_], exact=False)
        for name in ("event_types_", "channels_"):      # None: features were given, not built from transactions
            if getattr(self, name) is not None:
                check_str_list(getattr(self, name), name)
        names = [str(c) for c in self.feature_names_in_]
        if not isinstance(self.features_, pd.DataFrame) or [str(c) for c in self.features_.columns] != names:
            raise ValueError("features_ must be a DataFrame with the columns of feature_names_in_.")
        start = np.asarray(self.start_days_, dtype=np.float64)
        if start.shape != (len(self.features_),) or not np.isfinite(start).all() or (start < 0).any():
            raise ValueError("start_days_ must hold one finite value >= 0 per row of features_.")

    # -- fitting ----------------------------------------------------------------------------------
    def _fit_rows(self, X, start, duration, event, owner, cap):
        import xgboost as xgb

        if int(np.sum(event)) == 0:
            raise DataError(f"{owner}: no event in the training data; a survival model needs observed events "
                            "(use more snapshots or a longer history).")
        who, t, y = _expand(cap, start, self.period_days, duration, event)
        if len(np.unique(y)) < 2:
            raise DataError(f"{owner}: every training period ends in the event; lower period_days.")
        rows = X.iloc[who].reset_index(drop=True)
        rows[_T] = t
        self.model_ = xgb.XGBClassifier(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, max_depth=self.max_depth,
            min_child_weight=self.min_child_weight, subsample=self.subsample, colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda, tree_method="hist", max_bin=128, random_state=self.random_state,
            n_jobs=self.n_jobs)
        with xgb_errors(owner):
            self.model_.fit(rows.to_numpy(np.float64), y, verbose=False)
        self.n_training_rows_ = int(len(rows))
        self.event_rate_ = float(np.mean(event))

    def fit(self, transactions, as_of, events=None, customers=None):
        """Fit on snapshots of a transaction log before ``as_of``; the customers active at ``as_of`` are kept.

        Returns
        -------
        self
        """
        owner = "TimeToChurnModel.fit"
        self._check_params()
        _check_windows(self.windows, "TimeToChurnModel")
        as_of = check_as_of(as_of, owner)
        tx = validate_transactions(transactions, allow_missing_amount=True)
        ev = validate_events(events) if events is not None else None
        cu = validate_customers(customers) if customers is not None else None
        self._fit_validated(tx, ev, cu, as_of, owner)
        return self

    def _fit_validated(self, tx, ev, cu, as_of, owner, features=None):
        """``fit`` on validated frames; returns the training stack (features, time to event) for baselines.

        ``features(cutoff)``, when given, returns the feature frame at a cutoff (a cache shared by a backtest).
        """
        kw = feature_columns(tx, ev, as_of)         # the values present before as_of
        if features is None:
            def features(c):
                return compute_features(tx, c, ev, cu, tuple(self.windows), **kw)
        with steps(self.n_snapshots + 2, verbose=self.verbose, desc="TimeToChurnModel.fit") as step:
            X, tt, cuts = self._stack(tx, as_of, features, owner, step)
            self._learn_features(X)
            step(f"boosting on {len(X):,} customer snapshots")
            self._fit_rows(self._numeric(X, owner), np.zeros(len(X)), tt["duration_days"].to_numpy(),
                           tt["event"].to_numpy(), owner, self.n_periods_)
            step(f"features as of {as_of.date()}")
            active = _time_to_event(tx, as_of, as_of + pd.Timedelta(days=1), self.lookback_days, 1).index
            self.features_ = self._numeric(features(as_of).reindex(active), owner)
        self.start_days_ = np.zeros(len(self.features_))
        self.kind_ = "transactions"
        self.as_of_ = as_of.isoformat()
        self.training_cutoffs_ = [str(c.date()) for c in cuts]
        self.event_types_, self.channels_ = kw["event_types"], kw["channels"]
        return X, tt

    def _stack(self, tx, as_of, features, owner, step):
        """Training snapshots before ``as_of``: features, time to the next purchase (censored at as_of), cutoffs."""
        first = tx["timestamp"].min()
        cuts = [as_of - pd.Timedelta(days=(k + 1) * self.snapshot_step_days) for k in range(self.n_snapshots)]
        cuts = [c for c in cuts if c > first]
        if not cuts:
            raise NoHistoryError(f"{owner}: every training snapshot falls before the first transaction "
                                 f"({first.date()}); use a later as_of or a smaller snapshot_step_days.")
        parts, tte = [], []
        for c in cuts:
            step(f"snapshot {c.date()}", total=len(cuts) + 2 if c == cuts[0] else None)
            target = _time_to_event(tx, c, as_of, self.lookback_days, self.max_days)
            if len(target) == 0:
                continue
            parts.append(features(c).reindex(target.index))
            tte.append(target)
        if not parts:
            raise NoHistoryError(f"{owner}: no customer is active in the lookback before any training snapshot.")
        return pd.concat(parts), pd.concat(tte), cuts

    def fit_subscriptions(self, table, *, tenure="tenure_days", churned="churned"):
        """Fit on a subscription table: one row per customer, ``tenure`` in days (at most 36,500) and a 0/1
        ``churned`` flag.

        Every other column is a feature (numeric, boolean, or text read as its category). Customers still
        subscribed (``churned == 0``) are scored by default, from their current tenure.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> yearly = rng.random(500) < 0.5
        >>> life = rng.exponential(np.where(yearly, 900, 200))
        >>> seen = rng.uniform(0, 720, 500)
        >>> tab = pd.DataFrame({"yearly": yearly, "tenure_days": np.minimum(life, seen),
        ...                     "churned": (life < seen).astype(int)})
        >>> m = TimeToChurnModel(n_estimators=30, max_days=360, period_days=30).fit_subscriptions(tab)
        >>> p = m.predict_churn_probability(90)
        >>> bool(p[tab.loc[p.index, "yearly"]].mean() < p[~tab.loc[p.index, "yearly"]].mean())
        True
        """
        owner = "TimeToChurnModel.fit_subscriptions"
        self._check_params()
        if not isinstance(table, pd.DataFrame) or table.empty:
            raise ParameterError(f"{owner} expects a non-empty pandas DataFrame (one row per customer).")
        for c in (tenure, churned):
            if c not in table.columns:
                raise SchemaError("subscriptions", c, f"column missing (columns: {list(table.columns)[:10]})")
        ten = numeric_values(table[tenure], "subscriptions", tenure)
        bad = ~np.isfinite(ten) | (ten < 0) | (ten > MAX_WINDOW_DAYS)
        if bad.any():
            raise SchemaError("subscriptions", tenure, f"must be a finite number of days in [0, {MAX_WINDOW_DAYS}] "
                              "(a tenure in another unit?)", int(bad.sum()),
                              table.loc[bad, tenure].head(3).tolist())
        flag = numeric_values(table[churned], "subscriptions", churned)
        badf = ~np.isin(flag, (0, 1))
        if badf.any():
            raise SchemaError("subscriptions", churned, "must hold only 0 and 1", int(badf.sum()),
                              table.loc[badf, churned].head(3).tolist())
        X = table.drop(columns=[tenure, churned])
        self._learn_features(X)
        Xn = self._numeric(X, owner)
        self._fit_rows(Xn, np.zeros(len(X)), ten, flag.astype(np.int64), owner, None)
        keep = flag == 0
        self.features_ = Xn.loc[keep]
        self.start_days_ = ten[keep]
        self.kind_ = "subscriptions"
        self.as_of_ = self.event_types_ = self.channels_ = None
        return self

    def _learn_features(self, X):
        """Feature names, and the categories of the text columns (any dtype that is not numeric or boolean)."""
        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object).astype(str)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categories_ = text_categories(X)

    def _numeric(self, X, owner):
        """Features as float columns: booleans as 0/1, text columns of ``categories_`` as their category code
        (missing or unseen: NaN); text in another column is refused by name."""
        cats = getattr(self, "categories_", {})
        out = {}
        for c in X.columns:
            if str(c) in cats:
                out[str(c)] = category_floats(X[c], cats[str(c)])
            elif pd.api.types.is_bool_dtype(X[c].dtype):
                out[str(c)] = X[c].astype(np.float64).to_numpy()
            else:
                out[str(c)] = numeric_values(X[c], "X", str(c))
        return pd.DataFrame(out, index=X.index)

    # -- prediction -------------------------------------------------------------------------------
    def _survival_table(self, X, start):
        """S at the period boundaries, shape (n, n_periods + 1)."""
        K = self.n_periods_
        who, t, _ = _expand(K, np.asarray(start, dtype=np.float64), self.period_days)
        rows = X.to_numpy(np.float64)[who]
        h = self.model_.predict_proba(np.column_stack([rows, t]))[:, 1].reshape(len(X), K)
        return np.column_stack([np.ones(len(X)), np.cumprod(1.0 - h, axis=1)])

    def _inputs(self, transactions, as_of, events, customers, table, owner):
        check_is_fitted(self, "model_")
        if table is not None:
            if self.kind_ != "subscriptions":
                raise ParameterError(f"{owner}: table= is for models fitted with fit_subscriptions.")
            ten = numeric_values(table["tenure_days"] if "tenure_days" in table.columns
                                 else pd.Series(0.0, index=table.index), "subscriptions", "tenure_days")
            return self._features_for(table, owner), ten
        if transactions is None:
            if as_of is not None:
                raise ParameterError(f"{owner}: as_of needs transactions.")
            if self.kind_ == "transactions":
                self._warn_if_nobody(self.features_, self.as_of_, owner)
            return self.features_, self.start_days_
        if self.kind_ != "transactions":
            raise ParameterError(f"{owner}: this model was fitted on a subscription table; pass table=.")
        as_of = check_as_of(self.as_of_ if as_of is None else as_of, owner)
        tx = validate_transactions(transactions, allow_missing_amount=True)
        ev = validate_events(events) if events is not None else None
        cu = validate_customers(customers) if customers is not None else None
        active = _time_to_event(tx, as_of, as_of + pd.Timedelta(days=1), self.lookback_days, 1).index
        feat = compute_features(tx, as_of, ev, cu, tuple(self.windows), **self._kw()).reindex(active)
        self._warn_if_nobody(feat, as_of.isoformat(), owner)
        return self._features_for(feat, owner), np.zeros(len(feat))

    def _warn_if_nobody(self, X, as_of, owner):
        if len(X) == 0:
            warnings.warn(f"{owner}: no customer is at risk as of {_short(pd.Timestamp(as_of))} (none bought in the "
                          f"{self.lookback_days} days before it), so the result is empty; use a cut-off within the "
                          "data.", DroppedCustomersWarning, stacklevel=4)

    def _kw(self):
        return {"event_types": self.event_types_, "channels": self.channels_}

    def _features_for(self, X, owner):
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataError(f"{owner}: the data lack {len(missing)} feature column(s) seen in fit, "
                            f"e.g. {missing[:3]}.")
        return self._numeric(X[list(self.feature_names_in_)], owner)

    def _days(self, days, owner):
        try:
            d = np.atleast_1d(np.asarray(days, dtype=np.float64))
        except (TypeError, ValueError):                  # text, or lists of different lengths
            d = np.array([np.nan])
        if d.ndim != 1 or len(d) == 0 or not np.isfinite(d).all() or (d <= 0).any() or (d > self.max_days).any():
            raise ParameterError(f"{owner}: days must be numbers in (0, max_days={self.max_days}]. Got {days!r}.")
        return d

    def _interp(self, S, d):
        k = np.minimum((d // self.period_days).astype(np.int64), self.n_periods_ - 1)
        frac = (d - k * self.period_days) / self.period_days
        lo, hi = S[:, k], S[:, k + 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(lo > 0, hi / lo, 0.0)
        return lo * ratio ** frac

    def predict_survival(self, days=(45, 90, 180), *, transactions=None, as_of=None, events=None, customers=None,
                         table=None, with_median=False) -> pd.DataFrame:
        """S(t) at each of ``days``: columns ``survival_<t>d``, indexed by ``customer_id``.

        Default: the customers kept by ``fit`` (active at ``as_of`` / still subscribed). ``transactions``
        (and ``as_of``) score a log's active customers; ``table`` a subscription table (``tenure_days`` is
        the time origin). ``with_median`` adds ``median_days`` (:meth:`predict_median`).
        """
        owner = "TimeToChurnModel.predict_survival"
        X, start = self._inputs(transactions, as_of, events, customers, table, owner)
        d = self._days(days, owner)
        table_s = self._survival_table(X, start)
        S = self._interp(table_s, d)
        cols = [f"survival_{int(x)}d" if float(x).is_integer() else f"survival_{x:g}d" for x in d]
        out = pd.DataFrame(S, index=X.index, columns=cols)
        if with_median:
            out["median_days"] = self._median(table_s)
        return out

    def predict_churn_probability(self, horizon_days=45, **data) -> pd.Series:
        """Churn probability at ``horizon_days``: S(h) for a transaction log (no purchase within h days),
        1 - S(h) for subscriptions (left within h days)."""
        s = self.predict_survival([horizon_days], **data).iloc[:, 0]
        p = s if self.kind_ == "transactions" else 1.0 - s
        return p.rename("churn_probability")

    def predict_median(self, **data) -> pd.Series:
        """Median time to the event in days (``inf`` when S stays above 0.5 up to ``max_days``)."""
        X, start = self._inputs(data.get("transactions"), data.get("as_of"), data.get("events"),
                                data.get("customers"), data.get("table"), "TimeToChurnModel.predict_median")
        return pd.Series(self._median(self._survival_table(X, start)), index=X.index, name="median_days")

    def _median(self, S):
        grid = np.arange(S.shape[1]) * self.period_days
        below = S <= 0.5
        k = np.where(below.any(axis=1), below.argmax(axis=1), -1)
        out = np.full(len(S), np.inf)
        ok = k > 0
        lo, hi = S[ok, k[ok] - 1], S[ok, k[ok]]
        frac = np.where(hi < lo, np.log(0.5 / lo) / np.log(np.where(hi > 0, hi, 1e-300) / lo), 1.0)
        out[ok] = grid[k[ok] - 1] + frac * self.period_days
        return out

    def predict_expected_days(self, **data) -> pd.Series:
        """Restricted mean time to the event within ``max_days`` (area under S; trapezoidal)."""
        X, start = self._inputs(data.get("transactions"), data.get("as_of"), data.get("events"),
                                data.get("customers"), data.get("table"), "TimeToChurnModel.predict_expected_days")
        S = self._survival_table(X, start)
        area = (S[:, :-1] + S[:, 1:]).sum(axis=1) / 2 * self.period_days
        return pd.Series(area, index=X.index, name="expected_days")
