"""UpliftModel: T-, S-, X-, DR- and constant-shift learners on xgboost (or the best of them by cross-validated Qini)
for randomised tests with one or several treatment arms."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_aligned, check_feature_frame, check_in, check_number, numeric_values, steps
from crmml._utils._xgb import check_xgb_params, xgb_errors
from crmml.decisions._errors import TreatmentError
from crmml.decisions._uplift_inputs import (check_arms, check_outcome, describe_arm, randomisation_check,
                                            str_columns, unlearnable)
from crmml.decisions._uplift_select import AUTO_CANDIDATES, _folds, select_learner
from crmml.decisions._uplift_shift import check_shift_models, fit_shift, shift_uplift
from crmml.exceptions import DataError, ParameterError

__all__ = ["UpliftModel"]


class UpliftModel(BaseEstimator):
    """Per-customer incremental effect of each treatment arm over control, and the policy that maximises value.

    For **randomised** tests (the propensity of each arm is its share; ``fit`` warns with
    :class:`NotRandomisedWarning` when arm shares vary with a feature). Meta-learners on xgboost
    (Kunzel et al. 2019; Kennedy 2023):

    - ``"t"``: one outcome model per arm; uplift = mu_arm(x) - mu_control(x);
    - ``"s"``: one outcome model shared by all arms, with an indicator per treatment arm among its features;
      uplift = mu(x, arm) - mu(x, control). The arms share the structure of the outcome, so an effect that is
      about constant on the model's scale (log-odds for a 0/1 outcome: the lift in probability then grows with
      the baseline response) is one split rather than the difference of two separately fitted noisy models;
    - ``"st"``: the average of the S- and the T-learner's uplifts (an ensemble of the two: the S-learner's
      shared structure, the T-learner's freedom to let each arm's response differ);
    - ``"shared"``: a T-learner on a shared baseline: one model of the outcome on all rows, f(x), then one per
      arm boosted from it (f is the starting raw score: log-odds for a 0/1 outcome), mu_arm(x) = link(f(x) +
      g_arm(x)); uplift = mu_arm(x) - mu_control(x). What the arms have in common is learnt once from every row,
      so each arm's model only has to learn how its arm departs from it;
    - ``"shift"``: the null model of a treatment effect is one constant on the model's scale, and heterogeneity
      is added only as far as held-out data supports it. One model of the outcome on all rows, f(x) (raw score:
      log-odds for a 0/1 outcome); per arm, the control included, one constant c_arm fitted by 1-D maximum
      likelihood with f as offset (Newton's method on the logistic loss; the mean residual for squared error),
      so that mu_arm(x) = link(f(x) + c_arm); then per arm a model g_arm boosted from f + c_arm on the arm's rows,
      with the fewest rounds (0 allowed: the constant alone) whose loss on a held-out quarter of the arm's rows
      is within one standard error of the lowest (f and the constants being fitted without those rows); then
      everything refitted on all rows with those rounds. uplift = mu_arm(x) - mu_control(x). Where the effect is
      a constant log-odds, the uplift ranks customers like their baseline response (``models_`` then holds no
      ``g:<arm>``). The default, and the baseline of ``"auto"`` (see ``crmml.decisions._uplift_shift``);
    - ``"x"``: T-learner outcome models, then imputed effects regressed per group and blended by the
      arm's share;
    - ``"dr"``: doubly robust pseudo-outcomes (outcome models cross-fitted on two folds) regressed on x; each
      fold needs rows of every arm (of both outcomes, for a 0/1 outcome), else a ``DataError`` says so;
    - ``"auto"``: each of the learners above in turn is validated by ``n_folds``-fold
      cross-validation on the training data (folds stratified by arm, and by outcome when it is 0/1); the one
      with the highest Qini coefficient (:func:`qini_coefficient`, each arm against the control on the held-out
      fold, averaged over folds and then over arms) is refitted on all rows if it beats ``"shift"``, the
      baseline, by more than one standard error of their paired fold difference; otherwise ``"shift"`` is
      kept. Every fold needs held-out rows of each arm and training rows of each arm (of both outcomes, for a
      0/1 outcome), else a ``DataError`` names the arm that is too small. Which learner ranks customers best
      depends on how the effect varies in the user's own test, which no fixed choice knows; ``selection_`` shows every candidate's score (see ``crmml.decisions._uplift_select``).

    A 0/1 outcome is modelled with a logistic loss, any other numeric outcome with squared error.
    Features: numeric and boolean columns as numbers, other columns one-hot encoded with the categories
    seen in ``fit`` (unseen ones encode as all zeros).

    Parameters
    ----------
    learner : {"shift", "t", "s", "st", "shared", "x", "dr", "auto"}, default="shift"
        ``"shift"`` is the default because it assumes the least: a constant effect unless held-out rows show
        more. With known effects it recovers them best (correlation 0.99 where T reaches 0.97; 0.99 against T's
        0.73 where the effect is one constant log-odds, ``tests/decisions/test_uplift_learners.py``); on
        Hillstrom's e-mail test (``benchmarks/bench_decisions_uplift.py``) it ranks the men's e-mail visits like
        the response model where T falls far behind, at some cost on the women's e-mail; see the README.
    n_folds : int, default=5
        Cross-validation folds of ``learner="auto"`` (2 to 10).
    n_bootstrap : int, default=0
        Bootstrap refits (resampling rows within each arm) behind :meth:`predict_interval`; 0 disables it.
    level : float, default=0.9
        Central level of the intervals.
    n_estimators, learning_rate, max_depth, min_child_weight, subsample, reg_lambda
        xgboost settings of every model. The defaults (100 depth-2 trees, a leaf needs a hessian mass of 50)
        are strongly regularised because an uplift is a small difference of two noisy outcome models: what
        one model overfits is not cancelled by the other. ``min_child_weight`` is in hessian units, so the rows
        per leaf grow as the outcome gets rarer (about 400 rows at a 15% response, 5,000 at 1%).
    random_state : int, default=0
    n_jobs : int, default=1
    verbose : bool, default=False
        Show a progress bar (stderr) over the fits of ``fit``: each (fold, candidate) of ``learner="auto"``,
        the chosen learner, each bootstrap draw. The results are the same either way.

    Attributes
    ----------
    learner_ : str
        The learner fitted (``learner``, or the one ``"auto"`` chose).
    selection_ : DataFrame or None
        With ``learner="auto"``: one row per candidate learner, ``cv_qini:<arm>`` (mean over folds),
        ``cv_qini`` (mean over arms), ``cv_qini_std`` (standard deviation over folds of the mean over arms),
        ``diff_vs_baseline``, ``diff_se`` (paired fold difference to ``"t"``: mean, standard error) and
        ``chosen``. ``None`` otherwise.
    arms_ : list of str
        Treatment arms (sorted; the control excluded).
    control_ : str
    shares_ : dict
        Arm label -> share of the training rows (the propensity).
    models_ : dict
        Fitted xgboost models by name (``"shift"`` adds its constants as floats, ``shift:<arm>``);
        ``boot_models_`` the bootstrap copies.
    feature_names_in_ : ndarray of str
    encoded_names_ : list of str

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=4000)})
    >>> arm = rng.choice(["none", "mail"], 4000)
    >>> y = rng.normal(size=4000) + (arm == "mail") * (1 + X["x"])
    >>> m = UpliftModel(n_estimators=100).fit(X, arm, y, control="none")
    >>> m.learner_, m.selection_ is None
    ('shift', True)
    >>> u = m.predict_uplift(X)
    >>> list(u.columns), bool(np.corrcoef(u["mail"], 1 + X["x"])[0, 1] > 0.9)
    (['mail'], True)
    >>> rec = m.recommend(X, value=1.0, cost=1.0)            # mail pays when its uplift 1 + x exceeds 1
    >>> bool(np.mean((rec["arm"] == "mail") == (X["x"] > 0)) > 0.9)
    True
    """

    def __init__(self, learner="shift", n_folds=5, n_bootstrap=0, level=0.9, n_estimators=100, learning_rate=0.05,
                 max_depth=2, min_child_weight=50.0, subsample=0.8, reg_lambda=5.0, random_state=0, n_jobs=1,
                 verbose=False):
        self.learner = learner
        self.n_folds = n_folds
        self.n_bootstrap = n_bootstrap
        self.level = level
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.reg_lambda = reg_lambda
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _check_params(self):
        own = "UpliftModel"
        check_in(self.learner, "learner", own, ("auto",) + AUTO_CANDIDATES)
        check_number(self.n_folds, "n_folds", own, low=2, high=10)
        check_number(self.n_bootstrap, "n_bootstrap", own, low=0, high=1000)
        check_number(self.level, "level", own, kind="float", low=0, high=1, low_inclusive=False,
                     high_inclusive=False)
        check_xgb_params({k: getattr(self, k) for k in ("n_estimators", "learning_rate", "max_depth",
                                                         "min_child_weight", "subsample", "reg_lambda",
                                                         "n_jobs")}, own)
        check_number(self.random_state, "random_state", own, low=0, high=2**32 - 1)
        check_in(self.verbose, "verbose", own, (True, False))

    # -- encoding ---------------------------------------------------------------------------------
    def _encode(self, X, owner):
        if not isinstance(X, pd.DataFrame):
            raise ParameterError(f"{owner} expects X as a pandas DataFrame (one row per customer).")
        X = str_columns(X, owner)
        missing = [str(c) for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise DataError(f"{owner}: X lacks {len(missing)} column(s) seen in fit, e.g. {missing[:3]}.")
        cols = []
        for c in self.feature_names_in_:
            if c in self.categories_ and not self.categories_[c]:      # no value in fit: no encoded column
                cols.append(np.empty((len(X), 0)))
            elif c in self.categories_:
                v = X[c].astype(object).map(lambda x: None if pd.isna(x) else str(x)).to_numpy()
                cols.append(np.column_stack([(v == k).astype(np.float64) for k in self.categories_[c]]))
            else:
                cols.append(numeric_values(X[c], "X", c)[:, None])
        return np.hstack(cols) if cols else np.empty((len(X), 0))

    def _learn_encoding(self, X):
        X = str_columns(X, "UpliftModel.fit")
        self.feature_names_in_ = np.asarray(list(X.columns), dtype=object).astype(str)
        self.n_features_in_ = len(self.feature_names_in_)
        self.categories_ = {c: sorted({str(v) for v in X[c].dropna().unique()}) for c in X.columns
                            if not (pd.api.types.is_numeric_dtype(X[c].dtype) or pd.api.types.is_bool_dtype(X[c].dtype))}
        self.encoded_names_ = [n for c in self.feature_names_in_
                               for n in ([f"{c}={k}" for k in self.categories_[c]] if c in self.categories_ else [c])]

    # -- fitting ----------------------------------------------------------------------------------
    def _model(self, binary, seed, n_estimators=None):
        import xgboost as xgb

        kw = dict(n_estimators=self.n_estimators if n_estimators is None else n_estimators,
                  learning_rate=self.learning_rate, max_depth=self.max_depth,
                  min_child_weight=self.min_child_weight, subsample=self.subsample, reg_lambda=self.reg_lambda,
                  tree_method="hist", max_bin=128, random_state=seed, n_jobs=self.n_jobs)
        return xgb.XGBClassifier(**kw) if binary else xgb.XGBRegressor(**kw)

    def _mu(self, model, Z, margin=None):
        """Predicted outcome (a probability for a 0/1 outcome), ``margin`` the shared baseline's raw score."""
        if hasattr(model, "predict_proba"):
            return model.predict_proba(Z, base_margin=margin)[:, 1]
        return model.predict(Z, base_margin=margin)

    def _s_design(self, Z, t):
        """The S-learner's features: ``Z`` and one 0/1 column per treatment arm (all zeros for the control)."""
        t = np.broadcast_to(np.asarray(t, dtype=object), (len(Z),))
        return np.hstack([Z, (t[:, None] == np.asarray(self.arms_, dtype=object)[None, :]).astype(np.float64)])

    def _fit_once(self, Z, t, y, seed, learner):
        """One set of models (dict name -> model) for ``learner``."""
        binary = self.binary_
        models = {}
        owner = "UpliftModel.fit"
        with xgb_errors(owner):
            for arm in [self.control_] + self.arms_:
                if unlearnable(y[t == arm], binary):
                    raise DataError(f"{owner}: the outcome is constant in arm {arm!r}; nothing to learn.")
            if learner == "shift":
                return fit_shift(self, Z, t, y, seed, lambda k: _folds(t, y, binary, k, seed))
            margin = None
            if learner == "shared":
                models["base"] = self._model(binary, seed).fit(Z, y)
                margin = models["base"].predict(Z, output_margin=True)
            for arm in [self.control_] + self.arms_:
                m = t == arm
                if learner != "s":                          # "st" holds the T-learner's models too
                    models[f"mu:{arm}"] = self._model(binary, seed).fit(
                        Z[m], y[m], base_margin=None if margin is None else margin[m])
            if learner in ("s", "st"):
                models["s"] = self._model(binary, seed).fit(self._s_design(Z, t), y)
            if learner in ("t", "s", "st", "shared"):
                return models
            c = t == self.control_
            for arm in self.arms_:
                a = t == arm
                if learner == "x":
                    mu0, mu1 = models[f"mu:{self.control_}"], models[f"mu:{arm}"]
                    models[f"tau1:{arm}"] = self._model(False, seed).fit(Z[a], y[a] - self._mu(mu0, Z[a]))
                    models[f"tau0:{arm}"] = self._model(False, seed).fit(Z[c], self._mu(mu1, Z[c]) - y[c])
                else:
                    models[f"dr:{arm}"] = self._model(False, seed).fit(*self._dr_pseudo(Z, t, y, arm, seed))
        return models

    def _dr_pseudo(self, Z, t, y, arm, seed):
        """Doubly robust pseudo-outcomes on the rows of ``arm`` and control, outcome models cross-fitted."""
        rows = np.flatnonzero((t == arm) | (t == self.control_))
        rng = np.random.default_rng(seed)
        fold = rng.integers(0, 2, len(rows))
        mu1, mu0 = np.empty(len(rows)), np.empty(len(rows))
        for f in (0, 1):
            tr, te = rows[fold != f], rows[fold == f]
            for g, out in ((arm, mu1), (self.control_, mu0)):
                m = tr[t[tr] == g]
                if unlearnable(y[m], self.binary_):
                    raise DataError(
                        f"UpliftModel.fit: learner='dr' fits its outcome models on two random halves of the rows, "
                        f"and one half holds {len(m)} rows of {describe_arm(g, t, y, self.binary_)}"
                        f"{', all with one outcome' if len(m) else ''}: too few to fit a model on. Use another "
                        "learner (e.g. 'shift' or 't') or gather more rows of that arm.")
                out[fold == f] = self._mu(self._model(self.binary_, seed).fit(Z[m], y[m]), Z[te])
        e1 = self.shares_[arm] / (self.shares_[arm] + self.shares_[self.control_])
        is1 = (t[rows] == arm).astype(np.float64)
        yy = y[rows]
        pseudo = mu1 - mu0 + is1 * (yy - mu1) / e1 - (1 - is1) * (yy - mu0) / (1 - e1)
        return Z[rows], pseudo

    def fit(self, X, treatment, y, control=None):
        """Fit on features ``X``, the arm of each row (``treatment``) and the outcome ``y``.

        Parameters
        ----------
        X : DataFrame
        treatment : array-like
            Arm label per row; ``control`` names the untreated arm (required unless the labels are 0/1,
            where 0 is the control).
        y : array-like of numbers
        control : label, optional

        Returns
        -------
        self
        """
        owner = "UpliftModel.fit"
        self._check_params()
        if not isinstance(X, pd.DataFrame) or X.shape[0] == 0:
            raise ParameterError(f"{owner} expects X as a non-empty pandas DataFrame.")
        check_feature_frame(X, owner)
        if control is None:
            labels = set(pd.Series(np.asarray(treatment, dtype=object).ravel()).dropna().map(str))
            if not labels <= {"0", "1", "False", "True"}:
                raise TreatmentError(f"{owner}: pass control= with the label of the untreated arm "
                                     f"(arms: {sorted(labels)[:10]}).")
            control = "False" if labels & {"False", "True"} else "0"
        check_aligned(treatment, X, "treatment", owner)
        check_aligned(y, X, "y", owner)
        t, self.control_, self.arms_ = check_arms(treatment, len(X), control, owner)
        yv = check_outcome(y, len(X), owner)
        self.binary_ = bool(np.isin(yv, (0.0, 1.0)).all())
        self._learn_encoding(X)
        Z = self._encode(X, owner)
        randomisation_check(X.set_axis(list(self.feature_names_in_), axis=1), t, owner)
        self.shares_ = {a: float(np.mean(t == a)) for a in [self.control_] + self.arms_}
        self.learner_, self.selection_ = self.learner, None
        n_fits = (self.n_folds * len(AUTO_CANDIDATES) if self.learner == "auto" else 0) + 1 + self.n_bootstrap
        with steps(n_fits, verbose=self.verbose, desc=owner) as step:
            if self.learner == "auto":
                self.learner_, self.selection_ = select_learner(self, Z, t, yv, AUTO_CANDIDATES, self.n_folds,
                                                                self.random_state, step)
            step(f"{self.learner_!r} learner on every row")
            self.models_ = self._fit_once(Z, t, yv, self.random_state, self.learner_)
            rng = np.random.default_rng(self.random_state)
            boot = []
            for b in range(self.n_bootstrap):
                step(f"bootstrap draw {b + 1}/{self.n_bootstrap}")
                idx = np.concatenate([rng.choice(np.flatnonzero(t == a), int(np.sum(t == a)))
                                      for a in [self.control_] + self.arms_])
                boot.append(self._fit_once(Z[idx], t[idx], yv[idx], self.random_state + b + 1, self.learner_))
        self.boot_models_ = boot
        return self

    # -- prediction -------------------------------------------------------------------------------
    def _uplift(self, models, Z, learner):
        if learner == "st":
            s, t = self._uplift(models, Z, "s"), self._uplift(models, Z, "t")
            return {arm: (s[arm] + t[arm]) / 2 for arm in self.arms_}
        out = {}
        if learner == "s":
            mu0 = self._mu(models["s"], self._s_design(Z, self.control_))
            return {arm: self._mu(models["s"], self._s_design(Z, arm)) - mu0 for arm in self.arms_}
        if learner == "shift":
            return shift_uplift(self, models, Z)
        off = models["base"].predict(Z, output_margin=True) if learner == "shared" else None
        mu0 = self._mu(models[f"mu:{self.control_}"], Z, off)
        for arm in self.arms_:
            if learner in ("t", "shared"):
                out[arm] = self._mu(models[f"mu:{arm}"], Z, off) - mu0
            elif learner == "x":
                g = self.shares_[arm] / (self.shares_[arm] + self.shares_[self.control_])
                out[arm] = g * models[f"tau0:{arm}"].predict(Z) + (1 - g) * models[f"tau1:{arm}"].predict(Z)
            else:
                out[arm] = models[f"dr:{arm}"].predict(Z)
        return out

    def predict_uplift(self, X) -> pd.DataFrame:
        """Estimated incremental outcome of each treatment arm over control: one column per arm, indexed like ``X``."""
        check_is_fitted(self, "models_")
        Z = self._encode(X, "UpliftModel.predict_uplift")
        return pd.DataFrame(self._uplift(self.models_, Z, self.learner_), index=X.index)[self.arms_]

    def predict_interval(self, X) -> pd.DataFrame:
        """Bootstrap interval of each arm's uplift: columns ``<arm>_lower``, ``<arm>_upper`` (needs ``n_bootstrap``)."""
        check_is_fitted(self, "models_")
        if not self.boot_models_:
            raise ParameterError("UpliftModel.predict_interval needs bootstrap refits: fit with n_bootstrap >= 20.")
        Z = self._encode(X, "UpliftModel.predict_interval")
        draws = [self._uplift(m, Z, self.learner_) for m in self.boot_models_]
        q = [(1 - self.level) / 2, (1 + self.level) / 2]
        out = {}
        for arm in self.arms_:
            lo, hi = np.quantile(np.column_stack([d[arm] for d in draws]), q, axis=1)
            out[f"{arm}_lower"], out[f"{arm}_upper"] = lo, hi
        return pd.DataFrame(out, index=X.index)

    def recommend(self, X, value=1.0, cost=0.0) -> pd.DataFrame:
        """The arm (or the control) with the highest expected incremental value net of cost, per row.

        Parameters
        ----------
        value : float or dict, default=1.0
            Value of one unit of outcome (e.g. margin per conversion); a dict gives it per arm.
        cost : float or dict, default=0.0
            Cost (>= 0) of treating one customer with an arm; a dict gives it per arm (the control costs 0).
            A dict must name every treatment arm and nothing else.

        Returns
        -------
        DataFrame
            Indexed like ``X``: ``arm`` (the control when no arm has a positive net gain),
            ``expected_gain`` (0 for the control) and ``gain_<arm>`` for every arm.
        """
        u = self.predict_uplift(X)
        gains = {}
        for arm in self.arms_:
            v = self._per_arm(value, arm, "value")
            c = self._per_arm(cost, arm, "cost")
            gains[f"gain_{arm}"] = u[arm].to_numpy() * v - c
        G = np.column_stack(list(gains.values()))
        best = G.argmax(axis=1)
        top = G[np.arange(len(G)), best]
        arm = np.where(top > 0, np.asarray(self.arms_, dtype=object)[best], self.control_)
        out = pd.DataFrame({"arm": arm, "expected_gain": np.where(top > 0, top, 0.0)}, index=X.index)
        return pd.concat([out, pd.DataFrame(gains, index=X.index)], axis=1)

    def _per_arm(self, x, arm, name):
        own, extra = "UpliftModel.recommend", sorted(set(map(str, x)) - set(self.arms_)) if isinstance(x, dict) else []
        if isinstance(x, dict) and (arm not in x or extra):
            raise ParameterError(f"{own}: {name} must have one entry per treatment arm {self.arms_} (the control "
                                 f"is not treated); "
                                 f"{f'it lacks {arm!r}' if arm not in x else f'{extra} are not arms'}.")
        x = x[arm] if isinstance(x, dict) else x
        if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or not np.isfinite(x):
            raise ParameterError(f"{own}: {name} must be a finite number or a dict of them per arm.")
        if name == "cost" and x < 0:
            raise ParameterError(f"{own}: cost must be >= 0 (the cost of treating one customer); got {x!r}.")
        return float(x)

    def _check_loaded_state(self):
        import xgboost as xgb

        self._check_params()
        if not isinstance(self.arms_, list) or not self.arms_ or not all(isinstance(a, str) for a in self.arms_) \
                or len(set(self.arms_)) != len(self.arms_):
            raise ValueError("arms_ must be a non-empty list of distinct str.")
        if not isinstance(self.control_, str) or self.control_ in self.arms_:
            raise ValueError("control_ must be a str that is not a treatment arm.")
        if "learner_" not in self.__dict__:             # files written before "s" and "auto" existed
            self.learner_, self.selection_ = self.learner, None
        if self.learner_ not in AUTO_CANDIDATES or self.learner not in (self.learner_, "auto"):
            raise ValueError(f"learner_ must be one of {list(AUTO_CANDIDATES)} and match learner={self.learner!r}.")
        if self.selection_ is not None and (not isinstance(self.selection_, pd.DataFrame) or list(
                self.selection_.index[self.selection_["chosen"].astype(bool)]) != [self.learner_]):
            raise ValueError("selection_ must be a table whose one chosen candidate is learner_.")
        every = [self.control_] + self.arms_
        need = set() if self.learner_ in ("s", "shift") else {f"mu:{a}" for a in every}
        need |= {"s"} if self.learner_ in ("s", "st") else set()
        if self.learner_ == "shared":
            need |= {"base"}
        elif self.learner_ == "shift":
            need |= {"base"} | {f"shift:{a}" for a in every}
        elif self.learner_ == "x":
            need |= {f"tau{g}:{a}" for a in self.arms_ for g in (0, 1)}
        elif self.learner_ == "dr":
            need |= {f"dr:{a}" for a in self.arms_}
        for models in [self.models_] + list(self.boot_models_):
            if not isinstance(models, dict) or not need <= set(models):
                raise ValueError(f"models_ must hold the models {sorted(need)}.")
            if self.learner_ == "shift":
                models = check_shift_models(models, every)
            if not all(isinstance(m, (xgb.XGBClassifier, xgb.XGBRegressor)) for m in models.values()):
                raise ValueError("models_ must hold xgboost models only.")
            for name, m in models.items():
                width = len(self.encoded_names_) + (len(self.arms_) if name == "s" else 0)
                if m.get_booster().num_features() != width:
                    raise ValueError(f"the model {name!r} reads {m.get_booster().num_features()} features; the "
                                     f"encoding gives {width}.")
        shares = self.shares_
        if not isinstance(shares, dict) or set(shares) != {self.control_, *self.arms_} or not all(
                isinstance(v, float) and 0 < v < 1 for v in shares.values()):
            raise ValueError("shares_ must give every arm a share in (0, 1).")
        if not isinstance(self.categories_, dict) or not set(self.categories_) <= set(self.feature_names_in_):
            raise ValueError("categories_ must map feature names to their categories.")
        n = sum(len(self.categories_.get(c, [None])) for c in self.feature_names_in_)
        if n != len(self.encoded_names_):
            raise ValueError(f"encoded_names_ must have {n} entries (one per encoded column).")
