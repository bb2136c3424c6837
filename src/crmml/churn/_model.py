"""ChurnModel: calibrated xgboost with SHAP drivers (its baseline is in ``crmml.churn._baseline``)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from crmml._utils import ProbabilityCalibrator, check_in, check_number, numeric_values, steps
from crmml._utils._xgb import check_xgb_params, xgb_errors
# RecencyFrequencyBaseline stays importable from here: files saved before it moved name this module
from crmml.churn._baseline import RecencyFrequencyBaseline, check_frame, check_y
from crmml.churn._encode import category_codes, check_columns, churn_scores, text_categories
from crmml.churn._loaded import check_churn_model
from crmml.churn._selection import BASELINE, boost_until_stopped, compare_with_baseline, forward_fold_scores
from crmml.exceptions import DataError, InsufficientDataWarning

__all__ = ["ChurnModel", "RecencyFrequencyBaseline"]

#: below this many rows in the smaller class (churners or not), fit warns (as LeadScorer's min_conversions)
_MIN_CLASS = 20


class ChurnModel(ClassifierMixin, BaseEstimator):
    """Calibrated gradient-boosted churn classifier with per-customer risk drivers.

    Works on the output of :func:`crmml.features.build_features` (joined to
    labels) and on any prepared frame, for example a subscription table with
    contract attributes: numeric and boolean columns are used as numbers,
    every other column as a categorical (xgboost's native categorical
    support); missing values are allowed; categories unseen in ``fit`` are
    treated as missing when scoring.

    **Validation split** (early stopping and calibration): when ``fit`` gets
    ``time`` (the snapshot cutoff of each row) with at least two distinct
    values, the rows of the latest cutoff validate and the earlier ones train,
    so the model is never validated on the past of its own training data;
    otherwise a stratified random holdout of ``validation_fraction`` of the
    rows is used, which suits one prepared snapshot (one row per customer at
    a single date), never a stack of snapshots over time.

    **What it ships** (details in ``crmml.churn._selection``): early stopping
    on the validation split picks the number of trees, and when it has not
    stopped by ``n_estimators`` the learning rate is doubled (at most twice,
    ``learning_rate_``); the last fit is kept even if the cap still ended it. When ``X`` has
    ``purchase_recency_all`` and ``purchase_count_all``,
    :class:`RecencyFrequencyBaseline` is fitted on the same training rows and
    compared on the validation rows; if it ranks them better, the fitted
    model predicts and explains with the baseline and warns
    (``selection_``, ``chosen_``): it never ships something its own
    validation found worse than the baseline. With snapshot cutoffs, the
    chosen model is then refitted on every row (the latest snapshot is the
    freshest data) with the validated number of trees, and the calibrator
    keeps its out-of-time slope (pooled over the forward folds: each snapshot
    after the first predicted by a model trained on the earlier ones only)
    and takes its level from all snapshots (mean probability = their churn
    rate).

    **Defaults** are chosen for what churn data usually is: a few thousand
    customers, noisy labels, and hundreds of strongly correlated features
    (the same measure over 7 windows). They favour many weak, heavily
    regularised trees over a few deep ones, following the usual guidance for
    boosting on small tabular data (Hastie, Tibshirani & Friedman, *Elements
    of Statistical Learning*, sec. 10.11-10.12: few leaves per tree, shrinkage
    with early stopping, row subsampling; xgboost's "control overfitting"
    notes: ``max_depth``, ``min_child_weight``, ``subsample``,
    ``colsample_bytree``, ``lambda``): depth-2 trees (4 leaves, pairwise
    interactions at most), a leaf needs a hessian mass of 20 (about 200
    customers at a 90% churn rate, 80 at 50%), half of the columns per tree
    (decorrelates the redundant window variants), L2 penalty 5 on leaf values,
    learning rate 0.05 with early stopping on the validation log-loss. Measured
    on the real backtests (README, section churn) they raised the model's lead
    over the recency-frequency baseline on every dataset compared with deeper,
    less regularised trees. On large data with strong interactions raise
    ``max_depth`` (4-6) and lower ``min_child_weight``.

    **Minimum data**: when the fitted model gives every customer the same
    probability (no tree found a split: typical below a few hundred customers
    with the default ``min_child_weight``) or the smaller class has fewer than
    20 rows, ``fit`` issues :class:`crmml.exceptions.InsufficientDataWarning`
    with the counts and what to change. Hyper-parameters are checked before
    any work (:class:`crmml.exceptions.ParameterError`); text or infinite
    values in a numeric column raise :class:`crmml.SchemaError`.

    Parameters
    ----------
    n_estimators : int, default=500
        Maximum boosting rounds (early stopping picks the number used).
    learning_rate : float, default=0.05
    max_depth : int, default=2
    min_child_weight : float, default=20.0
        Minimum hessian sum per leaf (``p (1 - p)`` summed over its rows).
    subsample : float, default=0.8
    colsample_bytree : float, default=0.5
    reg_lambda : float, default=5.0
    early_stopping_rounds : int, default=50
    validation_fraction : float, default=0.2
        Share of rows held out when no ``time`` is given.
    calibration : {"sigmoid", "isotonic"}, default="sigmoid"
        Calibration of the validation-set scores by
        :class:`crmml._utils.ProbabilityCalibrator`. ``"sigmoid"`` (Platt) is
        monotone, so rankings and ROC-AUC are those of the raw model.
    random_state : int, default=0
    n_jobs : int, default=1
        xgboost threads. 1 is the safe default on shared machines: OpenMP threads
        competing for busy cores can slow training down many times.
    verbose : bool, default=False
        Show a progress bar (stderr) over the stages of ``fit``: the early-stopped boosting, each forward fold,
        the refit on every row. The results are the same either way.

    Attributes
    ----------
    model_ : xgboost.XGBClassifier
    calibrator_ : ProbabilityCalibrator
    feature_names_in_ : ndarray of str
    numeric_features_, categorical_features_ : list of str
    categories_ : dict
        Categories learned per categorical column.
    best_iteration_ : int
    learning_rate_ : float
        The learning rate used (``learning_rate``, doubled when the round cap stopped the boosting).
    validation_ : str
        Which split was used ("latest cutoff ..." or "stratified holdout ..."), and with three or more
        snapshot cutoffs how many forward folds the calibration slope pooled.
    selection_ : DataFrame
        Per candidate (``churn_model``, ``recency_frequency_baseline`` when its columns exist):
        ``validation_roc_auc``, ``validation_log_loss``, ``chosen``.
    chosen_ : str
        The candidate that predicts.
    baseline_ : RecencyFrequencyBaseline or None
        The fitted baseline when it was chosen.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmml.churn import ChurnModel
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"tenure_months": rng.integers(1, 72, 600).astype(float),
    ...                   "contract": rng.choice(["monthly", "yearly"], 600)})
    >>> y = (rng.random(600) < np.where(X["contract"] == "monthly", 0.5, 0.1)).astype(int)
    >>> m = ChurnModel(n_estimators=50).fit(X, y)
    >>> m.predict_proba(X.head(2)).shape, list(m.explain(X.head(1), top_n=1).columns[:2])
    ((2, 2), ['churn_probability', 'driver_1'])
    """

    def __init__(self, n_estimators=500, learning_rate=0.05, max_depth=2, min_child_weight=20.0, subsample=0.8,
                 colsample_bytree=0.5, reg_lambda=5.0, early_stopping_rounds=50, validation_fraction=0.2,
                 calibration="sigmoid", random_state=0, n_jobs=1, verbose=False):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.early_stopping_rounds = early_stopping_rounds
        self.validation_fraction = validation_fraction
        self.calibration = calibration
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- encoding ---------------------------------------------------------------------------------
    def _encode(self, X):
        check_columns(X, self.feature_names_in_)
        num = list(self.numeric_features_)
        if all(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in X[num].dtypes):
            # one block conversion (the usual case: build_features output): cheap per scoring batch
            arr = X[num].to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isinf(arr).any():                       # refused by name, column by column
                for c in num:
                    numeric_values(X[c], "X", c)
            block = pd.DataFrame(arr, index=X.index, columns=num)
            if not self.categorical_features_:
                return block[list(self.feature_names_in_)]
            out = dict(block.items())
        else:
            out = {c: numeric_values(X[c], "X", c) for c in num}
        for c in self.categorical_features_:
            # unseen categories count as missing (code -1)
            out[c] = pd.Categorical.from_codes(category_codes(X[c], self.categories_[c]), self.categories_[c])
        return pd.DataFrame(out, index=X.index)[list(self.feature_names_in_)]

    def fit(self, X, y, *, time=None):
        """Fit on a frame ``X`` (one row per customer and snapshot) and 0/1 labels ``y``.

        Parameters
        ----------
        X : DataFrame
        y : array-like of 0/1 (1 = churned)
        time : array-like, optional
            Snapshot cutoff of each row; the latest cutoff becomes the validation set.
        """
        with steps(1, verbose=self.verbose, desc="ChurnModel.fit") as step:
            return self._fit(X, y, time, step)

    def _fit(self, X, y, time, step):
        owner = "ChurnModel.fit"
        self._check_params()
        check_frame(X, owner)
        y = check_y(y, X, owner)
        import xgboost as xgb

        self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object).astype(str)
        X = X.set_axis(self.feature_names_in_, axis=1)
        self.categories_ = text_categories(X)
        self.categorical_features_ = list(self.categories_)
        self.numeric_features_ = [str(c) for c in self.feature_names_in_ if c not in self.categories_]
        self.n_features_in_ = len(self.feature_names_in_)
        Xe = self._encode(X)

        idx = np.arange(len(X))
        t = None if time is None else pd.to_datetime(np.asarray(time).reshape(-1))   # a scalar: 1 value
        if t is not None and len(t) != len(X):
            raise DataError(f"{owner}: time has {len(t)} values but X has {len(X)} rows.")
        by_time = t is not None and len(np.unique(t)) >= 2
        if by_time:
            va_mask = np.asarray(t == t.max())
            tr, va = idx[~va_mask], idx[va_mask]
            self.validation_ = f"latest cutoff {pd.Timestamp(t.max()).date()} ({len(va)} rows)"
        else:
            tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=y,
                                      random_state=self.random_state)
            self.validation_ = f"stratified holdout of {len(va)} rows"
        if len(np.unique(y[tr])) < 2 or len(np.unique(y[va])) < 2:
            raise DataError(f"{owner}: the training or validation split has a single class.")
        def make(rate, rounds=self.n_estimators, stop=self.early_stopping_rounds):
            return xgb.XGBClassifier(
                n_estimators=rounds, learning_rate=rate, max_depth=self.max_depth,
                min_child_weight=self.min_child_weight, subsample=self.subsample,
                colsample_bytree=self.colsample_bytree, reg_lambda=self.reg_lambda, tree_method="hist",
                enable_categorical=True, max_cat_to_onehot=8, max_bin=128, early_stopping_rounds=stop,
                eval_metric="logloss", random_state=self.random_state, n_jobs=self.n_jobs)

        def fit_validated(m):
            with xgb_errors(owner):  # backstop: parameters and data are checked above
                return m.fit(Xe.iloc[tr], y[tr], eval_set=[(Xe.iloc[va], y[va])], verbose=False)

        step("early-stopped boosting", total=len(np.unique(t)) if by_time else 1)   # + forward folds, refit
        self.model_, self.learning_rate_ = boost_until_stopped(make, fit_validated, self.n_estimators,
                                                               self.learning_rate)
        self.best_iteration_ = int(self.model_.best_iteration)
        raw = self.model_.predict_proba(Xe.iloc[va])[:, 1]
        cal = (raw, y[va], None)
        if by_time:     # calibration slope pooled over every forward fold (crmml.churn._selection)
            def fit_fixed(Xf, yf):
                step(f"forward fold on {len(Xf):,} rows")
                with xgb_errors(owner):
                    return make(self.learning_rate_, self.best_iteration_ + 1, None).fit(Xf, yf, verbose=False)

            cal = forward_fold_scores(fit_fixed, Xe, y, t, raw)
            if len(np.unique(cal[2])) > 1:
                self.validation_ += f"; calibration slope pooled over {len(np.unique(cal[2]))} forward folds " \
                                    f"({len(cal[1])} rows)"
        self.calibrator_ = ProbabilityCalibrator(method=self.calibration).fit(*cal[:2], periods=cal[2])
        self.selection_, self.baseline_ = compare_with_baseline(
            RecencyFrequencyBaseline(), X, y, tr, va, raw, self.calibrator_.transform(raw), owner)
        self.chosen_ = str(self.selection_.index[self.selection_["chosen"]][0])
        if by_time:
            # the latest snapshot is the freshest data: refit on every row with the validated number of rounds,
            # the calibrator keeping its out-of-time slope and taking the level of all snapshots together
            step(f"refit on all {len(y):,} rows")
            with xgb_errors(owner):
                self.model_ = make(self.learning_rate_, self.best_iteration_ + 1, None).fit(Xe, y, verbose=False)
            self.calibrator_.match_rate(self.model_.predict_proba(Xe)[:, 1], y)
            if self.baseline_ is not None:
                self.baseline_ = RecencyFrequencyBaseline().fit(X, y)
        self._warn_if_cannot_learn(Xe, y)
        self.classes_ = np.array([0, 1])
        return self

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.churn._loaded``)."""
        check_churn_model(self)

    def _check_params(self):
        """Bounds of every hyper-parameter, checked before any work (nothing invalid reaches xgboost)."""
        own = "ChurnModel"
        check_xgb_params({k: getattr(self, k) for k in ("n_estimators", "learning_rate", "max_depth",
                                                         "min_child_weight", "subsample", "colsample_bytree",
                                                         "reg_lambda", "early_stopping_rounds")}, own)
        check_number(self.validation_fraction, "validation_fraction", own, kind="float", low=0, high=1,
                     low_inclusive=False, high_inclusive=False)
        check_in(self.calibration, "calibration", own, ("sigmoid", "isotonic"))
        check_in(self.verbose, "verbose", own, (True, False))
        if self.random_state is not None:
            check_number(self.random_state, "random_state", own, low=0, high=2**32 - 1)
        if self.n_jobs != -1:
            check_xgb_params({"n_jobs": self.n_jobs}, own)

    def _warn_if_cannot_learn(self, Xe, y):
        """InsufficientDataWarning when the boosted model predicts one value for everyone or has few churners."""
        n, n_pos = len(y), int(y.sum())
        n_min = min(n_pos, n - n_pos)
        constant = np.ptp(self.model_.predict_proba(Xe)[:, 1]) == 0
        if not constant and n_min >= _MIN_CLASS:
            return
        what = ("every customer gets the same churn probability (no tree found a split)" if constant
                else f"fewer than {_MIN_CLASS} rows in the smaller class make the model unstable")
        warnings.warn(f"ChurnModel.fit: {n} rows with {n_pos} churners and {n - n_pos} non-churners: {what}. "
                      "Train on more customers (e.g. stack snapshots at several cutoffs, passing time=), lower "
                      "min_child_weight (e.g. 1) and n_estimators, or use RecencyFrequencyBaseline.",
                      InsufficientDataWarning, stacklevel=4)

    # -- prediction -------------------------------------------------------------------------------
    def _prepare(self, X, owner):
        check_is_fitted(self, "model_")
        check_frame(X, owner)
        return self._encode(X.set_axis([str(c) for c in X.columns], axis=1))

    def predict_proba(self, X):
        """Calibrated probabilities, shape ``(n, 2)``: column 1 is the churn probability."""
        check_is_fitted(self, "model_")
        check_frame(X, "ChurnModel.predict_proba")
        X = X.set_axis([str(c) for c in X.columns], axis=1)
        if self._uses_baseline():
            check_columns(X, self.feature_names_in_)
            p = self.baseline_.predict_proba(X)[:, 1]
        else:
            # straight into xgboost's float32 block, a batch of rows at a time (see _encode.py): no frame rebuilt
            p = self.calibrator_.transform(churn_scores(self, X))
        return np.column_stack([1.0 - p, p])

    def _uses_baseline(self) -> bool:
        if getattr(self, "chosen_", None) != BASELINE:      # files saved before selection: the boosted model
            return False
        if not isinstance(getattr(self, "baseline_", None), RecencyFrequencyBaseline):
            raise ValueError("ChurnModel: the model says it predicts with the baseline but holds none; the file "
                             "is damaged or was edited. Refit and save it again.")
        return True

    def predict(self, X):
        """1 where the calibrated churn probability is at least 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def predict_risk(self, X) -> pd.Series:
        """Churn probability as a Series indexed like ``X`` (``customer_id``)."""
        return pd.Series(self.predict_proba(X)[:, 1], index=X.index, name="churn_probability")

    def _contribs(self, Xe):
        import xgboost as xgb

        booster = self.model_.get_booster()
        dm = xgb.DMatrix(Xe, enable_categorical=True)
        rng = (0, self.best_iteration_ + 1)
        return booster.predict(dm, pred_contribs=True, iteration_range=rng)

    def global_importance(self, X=None) -> pd.DataFrame:
        """Global feature importance, most important first.

        Columns ``gain`` (share of total split gain) and, when ``X`` is given,
        ``mean_abs_shap`` (mean absolute SHAP value, log-odds).
        """
        check_is_fitted(self, "model_")
        score = self.model_.get_booster().get_score(importance_type="total_gain")
        gain = pd.Series({c: score.get(c, 0.0) for c in self.feature_names_in_}, dtype=float)
        out = pd.DataFrame({"gain": gain / max(gain.sum(), 1e-300)})
        out.index.name = "feature"
        if X is not None:
            c = self._contribs(self._prepare(X, "ChurnModel.global_importance"))
            out["mean_abs_shap"] = np.abs(c[:, :-1]).mean(axis=0)
            return out.sort_values("mean_abs_shap", ascending=False)
        return out.sort_values("gain", ascending=False)

    def explain(self, X, top_n: int = 3) -> pd.DataFrame:
        """Each customer's top risk drivers, from SHAP values (xgboost ``pred_contribs``).

        Returns a frame indexed like ``X`` with ``churn_probability``, then for
        ``k = 1..top_n``: ``driver_k`` (readable text, e.g.
        ``"purchase_recency_all = 212 (raises risk, +0.84)"``), ``feature_k`` and
        ``contribution_k`` (log-odds SHAP value). Drivers are the features that
        raise this customer's risk most; when fewer than ``top_n`` raise it,
        the rest are the ones that lower it least.
        """
        check_number(top_n, "top_n", "ChurnModel.explain", low=1)
        Xe = self._prepare(X, "ChurnModel.explain")
        if self._uses_baseline():        # the baseline's own log-odds terms, relative to the average customer
            cols = list(self.feature_names_in_)
            pos = np.array([cols.index(self.baseline_.recency), cols.index(self.baseline_.frequency)])
            c = self.baseline_.contributions(Xe)
        else:
            pos = np.arange(len(self.feature_names_in_))
            c = self._contribs(Xe)[:, :-1]
        k = min(top_n, c.shape[1])
        order = np.argsort(-c, axis=1, kind="stable")[:, :k]
        names = self.feature_names_in_[pos]
        out = {"churn_probability": self.predict_proba(X)[:, 1]}
        rows = np.arange(len(Xe))
        for j in range(k):
            fi = order[:, j]
            contrib = c[rows, fi]
            texts = []
            for r, f, v in zip(rows, fi, contrib):
                val = Xe.iat[r, pos[f]]
                sval = "missing" if pd.isna(val) else (f"{val:.4g}" if isinstance(val, (float, np.floating))
                                                       else str(val))
                texts.append(f"{names[f]} = {sval} ({'raises' if v > 0 else 'lowers'} risk, {v:+.2f})")
            out[f"driver_{j + 1}"] = texts
            out[f"feature_{j + 1}"] = names[fi]
            out[f"contribution_{j + 1}"] = contrib
        return pd.DataFrame(out, index=X.index)
