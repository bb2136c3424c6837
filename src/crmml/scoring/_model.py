"""One calibrated binary model (regularised logistic regression or xgboost) with additive contributions, and the
comparison of candidate models on the same folds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from crmml._utils import ProbabilityCalibrator
from crmml._utils._blas import one_blas_thread
from crmml._utils._rowdot import row_dot
from crmml._utils._xgb import xgb_errors
from crmml.evaluation import pr_auc, roc_auc

#: xgboost defaults: moderate, regularised trees (override with ``xgb_params``).
#: ``n_jobs=1``: on a busy machine one thread per fit is much faster than competing threads; raise it
#: through ``xgb_params`` on a dedicated one.
XGB_DEFAULTS = {"n_estimators": 200, "learning_rate": 0.08, "max_depth": 4, "min_child_weight": 5.0,
                "subsample": 0.8, "colsample_bytree": 0.8, "reg_lambda": 1.0, "tree_method": "hist",
                "max_bin": 64, "n_jobs": 1, "eval_metric": "logloss"}


class CalibratedModel(BaseEstimator):
    """A fitted binary model over an encoded matrix, calibrated on out-of-fold predictions.

    ``kind="logistic"``: skewed non-negative numeric columns (``numeric`` mask,
    skewness > 2) are log1p-transformed, all columns standardised, then an
    L2-regularised logistic regression with inverse strength ``C``.
    ``kind="xgboost"``: an ``XGBClassifier`` with :data:`XGB_DEFAULTS` updated
    by ``xgb_params``. Contributions are in log-odds relative to the average
    lead (logistic: ``coef * standardised value``; xgboost: ``pred_contribs``).
    """

    def __init__(self, kind="logistic", C=1.0, xgb_params=None, calibration="sigmoid", random_state=None):
        self.kind = kind
        self.C = C
        self.xgb_params = xgb_params
        self.calibration = calibration
        self.random_state = random_state

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.scoring._loaded``)."""
        from crmml.scoring._loaded import check_calibrated_model

        check_calibrated_model(self)

    # -- raw model ------------------------------------------------------------------------------
    def _new(self, n_features):
        if self.kind == "logistic":
            # Newton-Cholesky is exact and fast for the few hundred columns of lead data
            solver = "newton-cholesky" if n_features <= 500 else "lbfgs"
            return LogisticRegression(C=self.C, max_iter=1000, solver=solver)
        from xgboost import XGBClassifier

        params = {**XGB_DEFAULTS, **(self.xgb_params or {})}
        seed = self.random_state if isinstance(self.random_state, (int, np.integer)) else 0
        return XGBClassifier(random_state=int(seed), **params)

    def _prep_fit(self, X, numeric):
        if self.kind != "logistic":
            return X
        Xf = np.asarray(X, float)
        skew = np.zeros(X.shape[1], bool)
        for j in np.flatnonzero(numeric):
            col = Xf[:, j]
            sd = col.std()
            if col.min() >= 0 and sd > 0 and (((col - col.mean()) / sd) ** 3).mean() > 2:
                skew[j] = True
        self.log_columns_ = skew
        Xt = np.where(skew, np.log1p(np.clip(Xf, 0, None)), Xf)
        self.scaler_ = StandardScaler().fit(Xt)
        return self.scaler_.transform(Xt)

    def _prep(self, X):
        if self.kind != "logistic":
            return X
        Xf = np.asarray(X, float)
        Xt = np.where(self.log_columns_, np.log1p(np.clip(Xf, 0, None)), Xf)
        return self.scaler_.transform(Xt)

    def _raw_fit(self, X, y, numeric):
        Z = self._prep_fit(X, numeric)
        if self.kind == "logistic":
            with one_blas_thread():      # same coefficients for any core count; no spin-waiting threads
                return self._new(Z.shape[1]).fit(Z, y)
        with xgb_errors("LeadScorer.fit"):   # backstop: xgb_params are checked in LeadScorer.fit
            return self._new(Z.shape[1]).fit(Z, y)

    def _raw_predict(self, model, X):
        Z = self._prep(X)
        if self.kind == "logistic":
            # a lead's score must not depend on the other leads (partition-exact): no BLAS product
            return expit(row_dot(Z, model.coef_[0], init=model.intercept_[0]))
        return model.predict_proba(Z)[:, 1]

    # -- public -------------------------------------------------------------------------------
    def oof_predict(self, X, y, numeric, folds, step=None):
        """Out-of-fold raw probabilities (NaN for rows in no test fold) and per-fold ROC-AUC / PR-AUC.

        ``step``: called with the name of each fold as it starts (a stage of :func:`crmml._utils.steps`).
        """
        oof = np.full(len(y), np.nan)
        aucs, aps = [], []
        for k, (tr, te) in enumerate(folds):
            if step is not None:
                step(f"{self.kind} fold {k + 1}/{len(folds)}")
            m = self._raw_fit(X[tr], y[tr], numeric)
            oof[te] = self._raw_predict(m, X[te])
            aucs.append(roc_auc(y[te], oof[te]))
            aps.append(pr_auc(y[te], oof[te]))
        return oof, np.array(aucs), np.array(aps)

    def fit(self, X, y, numeric, oof_raw, periods=None):
        """Fit on all rows; calibrate on the given out-of-fold raw probabilities (rows with one).

        ``periods``: the forward fold of each row (see :meth:`ProbabilityCalibrator.fit`), or None.
        """
        self.model_ = self._raw_fit(X, y, numeric)
        held = np.isfinite(oof_raw)
        self.calibrator_ = ProbabilityCalibrator(method=self.calibration).fit(
            oof_raw[held], y[held], None if periods is None else periods[held])
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Calibrated probability of conversion."""
        check_is_fitted(self, "model_")
        return self.calibrator_.transform(self._raw_predict(self.model_, X))

    def contributions(self, X, approximate=False) -> np.ndarray:
        """Per-feature log-odds contributions (n_rows x n_features), relative to the average lead.

        xgboost: exact TreeSHAP (``pred_contribs``), or the ~25x faster path attribution of Saabas
        (``approx_contribs``) when ``approximate``; both add up to the model's log-odds.
        """
        check_is_fitted(self, "model_")
        if self.kind == "logistic":
            return self._prep(X) * self.model_.coef_[0]
        from xgboost import DMatrix

        contribs = self.model_.get_booster().predict(DMatrix(np.asarray(X, float)), pred_contribs=True,
                                                     approx_contribs=bool(approximate))
        return contribs[:, :-1]


def compare_models(models: dict, X, y, numeric, folds, step=None):
    """Validate each candidate model on the same folds (:meth:`CalibratedModel.oof_predict`, ``step`` included).

    ``models`` maps a name (the model family) to an unfitted :class:`CalibratedModel`. Returns ``(table, oofs)``:
    per name, the mean and std of the per-fold ROC-AUC and PR-AUC (``roc_auc``, ``roc_auc_std``, ``pr_auc``,
    ``pr_auc_std``; indexed by ``model``) and the out-of-fold raw probabilities.
    """
    rows, oofs = {}, {}
    for name, cm in models.items():
        oofs[name], aucs, aps = cm.oof_predict(X, y, numeric, folds, step)
        rows[name] = {"roc_auc": aucs.mean(), "roc_auc_std": aucs.std(), "pr_auc": aps.mean(),
                      "pr_auc_std": aps.std()}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model"), oofs


def aggregate(contribs: np.ndarray, sources: list, columns: list) -> pd.DataFrame:
    """Sum encoded-feature contributions back onto their source columns."""
    src = pd.Index(columns).get_indexer(sources)
    out = np.zeros((contribs.shape[0], len(columns)))
    for j, s in enumerate(src):
        out[:, s] += contribs[:, j]
    return pd.DataFrame(out, columns=columns)
