"""Shared maximum-likelihood fitting for the CLV models.

Every model states its parameter names, the summary columns it reads, a vectorised
log-likelihood with analytic gradient (``_loglik_grad``) and initial values. This base
class does the rest, once: input checks, compression of identical summary rows into
weights, L-BFGS on log-parameters, convergence checks, the observed-information
Hessian and the ``params_`` / ``summary_`` / ``cov_`` results. On large day-granular
summaries (more than 50,000 distinct rows) the fit first runs on binned rows and then
polishes on all rows with quasi-Newton steps from the binned rows' Hessian (see
:mod:`crmml.clv._rows`): a handful of evaluations on all rows instead of a few dozen.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import optimize, stats
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from crmml._utils import check_horizon, check_number, check_weights
from crmml._utils._blas import one_blas_thread
from crmml._utils._state import check_covariance, check_positive_params, fitted_attrs
from crmml.clv._rows import binned, compress
from crmml.exceptions import CrmmlError, DataError, ParameterError

__all__ = ["ConvergenceError", "BaseCLVFitter", "BasePurchaseModel"]


class ConvergenceError(RuntimeError, CrmmlError):
    """A CLV model fit did not reach a finite maximum of its likelihood.

    A ``RuntimeError``: the data were valid, the optimiser failed; try other starting values or a coarser time
    unit (``freq="W"``). Non-convergence that still gives finite parameters is a ``ConvergenceWarning`` instead.

    >>> from crmml.clv import ConvergenceError
    >>> issubclass(ConvergenceError, RuntimeError)
    True
    """


class BaseCLVFitter(BaseEstimator):
    """Base class of the BG/NBD, Pareto/NBD and Gamma-Gamma models (not for direct use).

    Parameters
    ----------
    max_iter : int, default=500
        Maximum L-BFGS iterations, in [1, 100000].
    tol : float, default=1e-7
        Gradient tolerance of the optimizer on the mean log-likelihood per customer (lifetimes uses
        1e-7 too; the published CDNOW values are matched to 3 decimals).
    compress : bool, default=True
        Fit on distinct summary rows weighted by their counts (same optimum, much faster on
        day- or week-granular data).
    """

    _param_names: tuple = ()
    _columns: tuple = ()

    def __init__(self, *, max_iter: int = 500, tol: float = 1e-7, compress: bool = True):
        self.max_iter = max_iter
        self.tol = tol
        self.compress = compress

    # -- hooks -------------------------------------------------------------------------------------
    def _select(self, summary: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the rows the model is fit on (all by default)."""
        return np.ones(len(summary), dtype=bool)

    def _init_params(self, data: dict, weights: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    @staticmethod
    def _loglik_grad(params, data):  # pragma: no cover - abstract
        """Per-row log-likelihood (n,) and gradient (n, k) with respect to the parameters."""
        raise NotImplementedError

    # -- input -------------------------------------------------------------------------------------
    def _check_summary(self, summary, owner):
        name = type(self).__name__
        if not isinstance(summary, pd.DataFrame):
            raise ParameterError(f"{name}.{owner} expects a summary DataFrame (see crmml.clv.summarize). "
                                 f"Got {type(summary).__name__} instead.")
        missing = [c for c in self._columns if c not in summary.columns]
        if missing:
            raise DataError(f"The summary passed to {name}.{owner} lacks the columns {missing}; "
                            f"it needs {list(self._columns)} (see crmml.clv.summarize).")
        data = {}
        for c in self._columns:
            num = summary[c]
            if not pd.api.types.is_numeric_dtype(num.dtype):       # numbers as text are numbers, other text refused
                num = pd.to_numeric(num.astype(object), errors="coerce")
                text = (num.isna() & summary[c].notna()).to_numpy()
                if text.any():
                    raise DataError(f"The summary passed to {name}.{owner} has {int(text.sum())} non-numeric "
                                    f"values in column {c!r}, e.g. {summary[c][text].head(3).tolist()}.")
            data[c] = np.asarray(num, dtype="float64")
        bad = np.zeros(len(summary), dtype=bool)
        for c in self._columns:
            bad |= ~np.isfinite(data[c])
        with np.errstate(invalid="ignore"):
            bad |= self._invalid_rows(data)
        if bad.any():
            ex = summary.index[bad][:5].tolist()
            raise DataError(f"The summary passed to {name}.{owner} has {int(bad.sum())} invalid rows "
                            f"(non-finite values, {self._rows_rule}), e.g. customer_id {ex}.")
        return data

    #: the rows :meth:`_select` keeps, for the error message when too few are left
    _rows_used = "customers"
    #: what :meth:`_invalid_rows` refuses, for the error message
    _rows_rule = "negative or non-integer frequency, recency outside [0, T], or recency != 0 with frequency 0"

    @staticmethod
    def _invalid_rows(data: dict) -> np.ndarray:
        """Rows the model cannot describe (the checks of frequency / recency / T summaries)."""
        bad = np.zeros(len(next(iter(data.values()))), dtype=bool)
        if "frequency" in data:
            x, tx, T = data["frequency"], data.get("recency"), data.get("T")
            bad |= (x < 0) | (x != np.round(x))
            if tx is not None:
                bad |= (tx < 0) | (tx > T) | ((x == 0) & (tx != 0))
        return bad

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame, y=None, sample_weight=None):
        """Fit by maximum likelihood.

        Parameters
        ----------
        summary : DataFrame
            Output of :func:`crmml.clv.summarize` (or any frame with the model's columns).
        y : None
            Ignored (scikit-learn's ``fit(X, y, sample_weight)`` convention).
        sample_weight : array-like, optional
            Number of customers each row stands for (finite, >= 0). Rows of weight 0 do not count: fewer
            positive weights than the model has parameters is a ``ValueError``.

        Returns
        -------
        self
        """
        name = type(self).__name__
        check_number(self.max_iter, "max_iter", name, low=1, high=100_000)
        check_number(self.tol, "tol", name, kind="float", low=0, high=1, low_inclusive=False)
        data = self._check_summary(summary, "fit")
        mask = self._select(summary)
        rows = summary if mask.all() else summary[mask]
        if rows is not summary:
            data = self._check_summary(rows, "fit")
        w = None if sample_weight is None else check_weights(sample_weight, "sample_weight", f"{name}.fit",
                                                             n=len(summary))[mask]
        n_rows = len(rows) if w is None else int(np.count_nonzero(w))
        if n_rows < len(self._param_names):
            raise DataError(f"{name}.fit needs at least {len(self._param_names)} {self._rows_used}"
                            f"{'' if w is None else ' with a positive sample_weight'}; got {n_rows}.")
        if self.compress:
            data, w = compress(data, w)
        elif w is None:
            w = np.ones(len(next(iter(data.values()))))
        n_total = float(w.sum())
        if "T" in data:
            self.max_T_ = float(np.max(data["T"]))

        start = binned(data, w) if self.compress else None
        x0, hess = (np.log(self._init_params(data, w)), None) if start is None else self._start(*start)
        res = self._optimize(data, w, x0, float(self.tol), int(self.max_iter), hess=hess)
        logp = res.x
        if not np.isfinite(res.fun) or not np.all(np.isfinite(logp)):
            raise ConvergenceError(f"{name}.fit did not converge: the log-likelihood is not finite at the "
                                   f"last iterate ({res.message}). Check the summary's time unit and values.")
        grad_norm = float(np.max(np.abs(res.jac)))
        self.converged_ = bool(res.success or grad_norm < 1e-5)
        if not self.converged_:
            warnings.warn(f"{name}.fit stopped before convergence after {res.nit} iterations "
                          f"(max |gradient| {grad_norm:.2e}; {res.message}). Increase max_iter or check the data.",
                          ConvergenceWarning, stacklevel=2)
        if np.any(np.abs(logp) > 25):
            warnings.warn(f"{name}.fit reached a parameter at the edge of its range "
                          f"({dict(zip(self._param_names, np.exp(logp).round(6)))}): the data do not "
                          "identify the model well.", ConvergenceWarning, stacklevel=2)
        params = np.exp(logp)
        self.params_ = pd.Series(params, index=pd.Index(self._param_names, name="param"), name="value")
        if res.success:      # the optimizer's last value and gradient are at logp (not always so when it failed)
            self.log_likelihood_, g0 = -float(res.fun) * n_total, -np.asarray(res.jac, dtype="float64") * n_total
        else:
            with np.errstate(all="ignore"):
                self.log_likelihood_, g0 = float(self._weighted_loglik_grad(params, data, w)[0]), None
        self.n_customers_ = int(round(n_total))
        self.n_iter_ = int(res.nit)
        self.n_evaluations_ = int(res.nfev)
        with one_blas_thread():
            cov_log = self._cov_log(logp, data, w, g0=g0)
        self.cov_log_ = pd.DataFrame(cov_log, index=self.params_.index, columns=self.params_.index)
        self.summary_ = self._summary_frame(params, cov_log)
        return self

    def _start(self, data, w):
        """Start of the fit on all rows: log-parameters fitted on binned rows (see :mod:`crmml.clv._rows`) and
        the Hessian of their mean negative log-likelihood there (forward differences), or None.

        When the binned rows are many themselves, their fit starts in turn from a fit on coarser bins.
        """
        data = self._cheap_data(data) or data
        inner = binned(data, w, n_bins=16, min_rows=10_000)
        x0, hess = (np.log(self._init_params(data, w)), None) if inner is None else self._start(*inner)
        res = self._optimize(data, w, x0, 1e-6, int(self.max_iter), hess=hess)
        if not (np.isfinite(res.fun) and np.all(np.isfinite(res.x))):
            return x0, None
        objective = self._objective(data, w)
        hess = _fd_hessian(lambda z: objective(z)[1], res.x, objective(res.x)[1])
        try:
            np.linalg.cholesky(hess)
        except np.linalg.LinAlgError:
            hess = None
        return res.x, hess

    @staticmethod
    def _cheap_data(data: dict):
        """``data`` marked for a cheaper, approximate likelihood for the start fit on binned rows, or None."""
        return None

    def _weighted_loglik_grad(self, params, data, w):
        """Weighted total log-likelihood and gradient (k,); models may sum over distinct values instead of rows."""
        ll, grad = self._loglik_grad(params, data)
        return float(w @ ll), w @ grad

    def _objective(self, data, w):
        """Mean negative log-likelihood per customer and its gradient in log-parameters (last 2 calls cached)."""
        n_total = float(w.sum())
        cache = {}

        def objective(logp):
            key = np.asarray(logp, dtype="float64").tobytes()
            if key not in cache:
                params = np.exp(logp)
                with np.errstate(all="ignore"):
                    ll, grad = self._weighted_loglik_grad(params, data, w)
                f = -ll / n_total
                g = -grad * params / n_total
                if not np.isfinite(f) or not np.all(np.isfinite(g)):
                    f, g = np.inf, np.zeros_like(logp)
                if len(cache) >= 2:
                    cache.pop(next(iter(cache)))
                cache[key] = (f, g)
            f, g = cache[key]
            return f, g.copy()

        return objective

    def _optimize(self, data, w, x0, gtol, max_iter, hess=None):
        """L-BFGS on the mean negative log-likelihood per customer, in log-parameters.

        With ``hess`` (the binned rows' Hessian, near the optimum), quasi-Newton steps from that Hessian come first
        while they lower the objective; L-BFGS then checks (or continues) from there, with the same stopping rule,
        so the result is the optimum to the same tolerance (usually without a further evaluation: the last one is
        cached).
        """
        objective = self._objective(data, w)
        steps = 0
        # single-threaded BLAS: with 3-4 parameters, waking BLAS threads costs more than the work
        with one_blas_thread():
            if hess is not None:
                x0, steps, _ = _newton(objective, np.asarray(x0, dtype="float64"), hess, gtol, max_iter)
            res = optimize.minimize(objective, x0, jac=True, method="L-BFGS-B",
                                    options={"maxiter": max_iter, "gtol": gtol, "ftol": 1e-15})
        res.nit += steps
        return res

    def _total_grad_log(self, logp, data, w):
        params = np.exp(logp)
        with np.errstate(all="ignore"):
            _, grad = self._weighted_loglik_grad(params, data, w)
        return grad * params

    def _hessian_log(self, logp, data, w, g0):
        """Hessian of the total log-likelihood in log-parameters at ``logp`` (``g0``: its gradient there):
        forward differences of the analytic gradient, ``k`` evaluations; a model with analytic second
        derivatives overrides this."""
        return _fd_hessian(lambda z: self._total_grad_log(z, data, w), logp, g0)

    def _cov_log(self, logp, data, w, g0=None):
        """Inverse observed information in log-parameter space (the Hessian of :meth:`_hessian_log`)."""
        k = len(logp)
        if g0 is None or not np.all(np.isfinite(g0)):       # the optimizer's last gradient, when given
            g0 = self._total_grad_log(logp, data, w)
        H = self._hessian_log(logp, data, w, g0)
        try:
            cov = np.linalg.inv(-H)
        except np.linalg.LinAlgError:
            cov = np.full((k, k), np.nan)
        if not np.all(np.isfinite(cov)) or np.any(np.diag(cov) <= 0) or not _is_covariance(cov, k):
            warnings.warn(f"{type(self).__name__}: the observed information is not positive definite; "
                          "standard errors are NaN.", ConvergenceWarning, stacklevel=3)
            cov = np.full((k, k), np.nan)
        return cov

    def _summary_frame(self, params, cov_log):
        se_log = np.sqrt(np.diag(cov_log))
        z = stats.norm.ppf(0.975)
        return pd.DataFrame({
            "coef": params,
            "se": params * se_log,  # delta method
            "lower_95": params * np.exp(-z * se_log),  # interval on the log scale, mapped back
            "upper_95": params * np.exp(z * se_log),
        }, index=pd.Index(self._param_names, name="param"))

    def _check_loaded_state(self):
        """Called by :func:`crmml.persistence.load`: the stored parameters and covariance are usable."""
        names = self._param_names
        if not fitted_attrs(self, ("params_", "cov_log_")):  # an unfitted model (e.g. CLVModel's constructor argument)
            return
        check_positive_params(self.params_, "params_", names)
        check_covariance(getattr(self.cov_log_, "to_numpy", lambda: self.cov_log_)(), "cov_log_", len(names))
        for attr in ("max_T_", "log_likelihood_"):
            v = getattr(self, attr, None)
            if v is not None and not (isinstance(v, float) and np.isfinite(v) and (attr != "max_T_" or v > 0)):
                raise ValueError(f"{attr} must be a finite float{' > 0' if attr == 'max_T_' else ''}; it is {v!r:.40}.")

    # -- helpers for subclasses --------------------------------------------------------------------
    def _fitted(self, params=None) -> np.ndarray:
        if params is not None:
            return np.asarray(params, dtype="float64")
        check_is_fitted(self, "params_")
        return self.params_.to_numpy()

    def sample_params(self, n_draws: int, random_state=None) -> np.ndarray:
        """Draws of the parameters from their asymptotic sampling distribution.

        Multivariate normal on the log-parameters (mean the estimate, covariance the inverse
        observed information), mapped back with ``exp``: an ``(n_draws, k)`` array.
        """
        check_is_fitted(self, "params_")
        check_number(n_draws, "n_draws", f"{type(self).__name__}.sample_params", low=1, high=1_000_000)
        rng = np.random.default_rng(random_state)
        cov = self.cov_log_.to_numpy()
        mean = np.log(self.params_.to_numpy())
        if not np.all(np.isfinite(cov)):
            return np.tile(np.exp(mean), (n_draws, 1))
        return np.exp(rng.multivariate_normal(mean, cov, size=n_draws, method="eigh"))

    def log_likelihood(self, summary: pd.DataFrame) -> float:
        """Total log-likelihood of ``summary`` under the fitted parameters (papers' scale)."""
        params = self._fitted()
        self._check_summary(summary, "log_likelihood")
        data = self._check_summary(summary[self._select(summary)], "log_likelihood")
        with np.errstate(all="ignore"):
            ll, _ = self._loglik_grad(params, data)
        return float(ll.sum())


class BasePurchaseModel(BaseCLVFitter):
    """A purchase-count model (BG/NBD, Pareto/NBD): subclasses give ``_p_alive(params, x, tx, T)``
    and ``_expected_alive(params, x, T, t)``; the per-customer predictions are written here once."""

    def conditional_probability_alive(self, summary: pd.DataFrame, *, params=None) -> pd.Series:
        """P(alive at T | frequency, recency, T) per customer.

        Examples
        --------
        >>> from crmml.clv import BetaGeoModel
        >>> from crmml.datasets import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> BetaGeoModel().fit(s).conditional_probability_alive(s).round(3).iloc[:2].tolist()
        [0.727, 0.212]
        """
        d = self._check_summary(summary, "conditional_probability_alive")
        p = self._p_alive(self._fitted(params), d["frequency"], d["recency"], d[self._columns[2]])
        return pd.Series(p, index=summary.index, name="p_alive")

    def conditional_expected_purchases(self, summary: pd.DataFrame, t: float, *, params=None) -> pd.Series:
        """Expected purchases in ``(T, T + t]`` per customer (``t`` in the summary's time unit).

        Examples
        --------
        >>> from crmml.clv import ParetoNBDModel
        >>> from crmml.datasets import load_cdnow_summary
        >>> s = load_cdnow_summary()
        >>> ParetoNBDModel().fit(s).conditional_expected_purchases(s, 39).round(3).iloc[:2].tolist()
        [1.455, 0.171]
        """
        t = check_horizon(t, f"{type(self).__name__}.conditional_expected_purchases")
        d = self._check_summary(summary, "conditional_expected_purchases")
        prm = self._fitted(params)
        x, tx, T = d["frequency"], d["recency"], d[self._columns[2]]
        out = self._p_alive(prm, x, tx, T) * self._expected_alive(prm, x, T, t)
        return pd.Series(out, index=summary.index, name="expected_purchases")


def _fd_hessian(grad, x, g0, h=1e-6):
    """Symmetrised forward differences of the analytic gradient ``grad`` at ``x`` (``g0 = grad(x)``): k evaluations."""
    k = len(x)
    H = np.empty((k, k))
    for j in range(k):
        e = np.zeros(k)
        e[j] = h
        H[:, j] = (grad(x + e) - g0) / h
    return (H + H.T) / 2


def _newton(objective, x, hess, gtol, max_steps):
    """Quasi-Newton steps from the Hessian ``hess`` (BFGS updates), while they lower the objective and
    max |gradient| > gtol: (x, steps, updated hess)."""
    x = np.asarray(x, dtype="float64")
    f, g = objective(x)
    steps = 0
    while steps < min(max_steps, 10) and np.isfinite(f) and np.max(np.abs(g)) > gtol:
        xn = x - np.linalg.solve(hess, g)
        fn, gn = objective(xn)
        steps += 1
        # a step must lower f; at the optimum f only moves in its last bits: a smaller gradient then decides
        if not (fn <= f or (fn <= f + 1e-13 * abs(f) and np.max(np.abs(gn)) < np.max(np.abs(g)))):
            break
        sk, yk = xn - x, gn - g
        if yk @ sk > 0:
            hs = hess @ sk
            hess = hess - np.outer(hs, hs) / (sk @ hs) + np.outer(yk, yk) / (yk @ sk)
        x, f, g = xn, fn, gn
    return x, steps, hess


def _is_covariance(cov, k: int) -> bool:
    """Whether ``cov`` passes the check a saved model's ``cov_log_`` must pass at load (one rule for both)."""
    from crmml._utils._state import check_covariance

    try:
        check_covariance(cov, "cov_log_", k)
    except ValueError:
        return False
    return True
