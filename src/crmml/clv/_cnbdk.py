"""BG/CNBD-k and MBG/CNBD-k purchase models (Platzer & Reutterer 2016, "Ticking away the moments").

BG/NBD (or MBG/NBD) with Erlang-k inter-purchase times: purchases are every k-th event of a
Poisson process with rate ``lambda ~ Gamma(r, alpha)``, so ``k > 1`` describes regular buyers
(the coefficient of variation of the gaps is ``1/sqrt(k)``). Dropout after each purchase with
``p ~ Beta(a, b)`` (after the first purchase too for MBG/CNBD-k). The likelihood is closed form;
``k`` is an integer chosen by likelihood. Besides ``frequency, recency, T`` the summary needs
``litt``, the sum of the logs of the inter-purchase times (``summarize(..., litt=True)``).

Likelihood of one customer (``m = 1`` for MBG/CNBD-k, ``tau = T - t_x``)::

    L = [prod itt^(k-1) / ((k-1)!)^x] B(a, b+x+m)/B(a, b) Gamma(r+kx) alpha^r / (Gamma(r) (alpha+T)^(r+kx))
        * [ 1{x>0 or m=1} a/(b+x+m-1) ((alpha+T)/(alpha+t_x))^(r+kx)
            + sum_{j<k} Gamma(r+kx+j)/Gamma(r+kx) tau^j / (j! (alpha+T)^j) ]

The j-th term of the sum is a customer still alive with j unseen events of the Poisson clock
since the last purchase; it gives the posterior of that phase, and so an exact conditional
expectation (:func:`_expected_alive`): given alive, phase j and the history, ``lambda ~
Gamma(r+kx+j, alpha+T)``, ``p ~ Beta(a, b+x+m)`` and the n-th future purchase needs the
``nk - j``-th future event, so
``E = sum_j w_j sum_n E[(1-p)^(n-1)] P(N(t) >= nk - j)`` with ``N(t)`` negative binomial:
``P(N >= s) = I_{t/(alpha+T+t)}(s, r+kx+j)`` (regularized incomplete beta); ``forecast="exact"``, the
default.

``forecast="btydplus"`` is the forecast BTYDplus publishes (its
``xbgcnbd.ConditionalExpectedTransactions``, which gives the published grocery figures): P(alive) times
the (M)BG/NBD expectation given alive with ``alpha`` replaced by ``k alpha`` (and ``b`` by ``b + m``),
and, when ``k > 1`` and at least 100 rows are passed, every row rescaled by one factor so that the
rows' total equals the exact unconditional total ``sum_i E[X(T_i + t)] - E[X(T_i)]``. The same
model and parameters; only the forecast differs. That factor depends on the rows passed together, so
a customer's forecast is not partition-exact under ``"btydplus"``; ``"exact"`` is (and is the
conditional expectation of the model: the simulation tests check it), which is why it is the default;
``"btydplus"`` is there to reproduce published figures.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import betainc, betaln, digamma, gammaln

from crmml._utils import check_horizon, check_in, check_number
from crmml._utils._rowdot import row_dot
from crmml.clv._base import BasePurchaseModel, ConvergenceError
from crmml.clv._bgnbd import _expected
from crmml.clv._pmf import CountDistributionMixin

__all__ = ["BetaGeoCNBDModel", "ModifiedBetaGeoCNBDModel"]

#: largest k tried when ``k=None`` (BTYDplus' grid: 1..12, stopping early when the likelihood falls twice)
MAX_K = 12
#: forecasts of :meth:`BetaGeoCNBDModel.conditional_expected_purchases`
FORECASTS = ("btydplus", "exact")
#: fewest rows on which the ``"btydplus"`` forecast applies its cohort rescaling (BTYDplus' rule)
_MIN_ROWS_RESCALE = 100
_MAX_TERMS = 5000


def _n_terms(shape, rate, t, k):
    """Purchases to sum, per row, so that the negative binomial event count ``N(t)`` (shape, rate) is covered:
    its mean + 10 sd, plus enough events for its geometric tail (ratio ``z = t/(rate+t)``) to fall below 1e-12.
    Per row, so that a customer's series does not depend on the other rows (partition-exact)."""
    mean = shape * t / rate
    sd = np.sqrt(mean * (1.0 + mean / shape))
    z = t / (rate + t)
    events = mean + 10 * sd + 28.0 / -np.log(z)
    return np.minimum(_MAX_TERMS, np.ceil(events / k) + 2).astype(np.int64)


def _cnbd_loglik_grad(params, data, k, m):
    r, alpha, a, b = params
    x, tx, T, litt = data["frequency"], data["recency"], data["T"], data["litt"]
    rk = r + k * x
    lT, ltx = np.log(alpha + T), np.log(alpha + tx)
    p1 = (k - 1) * litt - x * gammaln(k)
    bxm = b + x + m
    p2 = betaln(a, bxm) - betaln(a, b)
    p34 = gammaln(rk) - gammaln(r) + r * np.log(alpha) - rk * lT
    # log-terms: dropout after the last purchase, then alive with j = 0..k-1 unseen events since it
    has_drop = (x > 0) | (m > 0)
    logs = np.full((len(x), k + 1), -np.inf)
    dr = np.zeros((len(x), k + 1))
    dal = np.zeros((len(x), k + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        logs[:, 0] = np.where(has_drop, np.log(a) - np.log(np.where(has_drop, bxm - 1, 1.0)) + rk * (lT - ltx), -np.inf)
        dr[:, 0] = lT - ltx
        dal[:, 0] = rk * (1.0 / (alpha + T) - 1.0 / (alpha + tx))
        tau = T - tx
        ltau = np.log(tau)
        for j in range(k):
            if j == 0:
                logs[:, 1] = 0.0
                continue
            logs[:, j + 1] = np.where(tau > 0, gammaln(rk + j) - gammaln(rk) + j * (ltau - lT) - gammaln(j + 1), -np.inf)
            dr[:, j + 1] = digamma(rk + j) - digamma(rk)
            dal[:, j + 1] = -j / (alpha + T)
    top = logs.max(axis=1)
    w = np.exp(logs - top[:, None])
    tot = w.sum(axis=1)
    w /= tot[:, None]
    ll = p1 + p2 + p34 + top + np.log(tot)
    dpsi = digamma(a + b) - digamma(a + bxm)
    g = np.empty((len(x), 4))
    g[:, 0] = digamma(rk) - digamma(r) + np.log(alpha) - lT + (w * dr).sum(axis=1)
    g[:, 1] = r / alpha - rk / (alpha + T) + (w * dal).sum(axis=1)
    g[:, 2] = dpsi + w[:, 0] / a
    g[:, 3] = dpsi + digamma(bxm) - digamma(b) - w[:, 0] / np.where(has_drop, bxm - 1, 1.0)
    return ll, g, w


class BetaGeoCNBDModel(CountDistributionMixin, BasePurchaseModel):
    """BG/CNBD-k: BG/NBD with Erlang-k inter-purchase times (Platzer & Reutterer 2016).

    Fit on ``frequency, recency, T, litt`` (``summarize(..., litt=True)``). With ``k=None`` the
    model is fit for k = 1, 2, ... (up to 12, stopping at the first k >= 3 whose likelihood is below
    that of k-1, itself below that of k-2, as BTYDplus' ``xbgcnbd.EstimateParameters`` does) and the
    k with the highest likelihood is kept; k = 1 is BG/NBD. Same API as :class:`BetaGeoModel`
    otherwise (``params_``: ``r, alpha, a, b``; the rate ``lambda`` counts events of the Poisson
    clock, k per purchase).

    Parameters
    ----------
    k : int or None, default=None
        Erlang order in [1, 12]; None chooses it by likelihood.
    forecast : {"exact", "btydplus"}, default="exact"
        How :meth:`conditional_expected_purchases` forecasts (see the module notes): the model's
        exact conditional expectation (partition-exact; on the grocery log 2006/2007, sum|error|/sum
        actual 0.630), or BTYDplus' published recipe (a BG/NBD approximation rescaled to the total
        of the rows passed together, so not partition-exact; it gives the published 0.644).
        :meth:`conditional_probability_of_purchases` is the model's exact distribution either way:
        its mean is the ``"exact"`` forecast.
    max_iter, tol, compress
        As in :class:`BetaGeoModel`.

    Attributes
    ----------
    k_ : int
        The order used.
    k_log_likelihood_ : Series
        Log-likelihood of each k tried (NaN where a fit failed).
    params_, summary_, cov_log_, log_likelihood_, n_customers_, converged_
        As in :class:`BetaGeoModel`, for ``k_``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from crmml.clv import summarize
    >>> rng = np.random.default_rng(0)
    >>> days = np.cumsum(rng.gamma(4, 7, (200, 12)), axis=1)        # regular buyers: Erlang-4 gaps of ~28 days
    >>> tx = pd.DataFrame({"customer_id": np.repeat(np.arange(200), 12),
    ...                    "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days.ravel().round(), "D"),
    ...                    "amount": 1.0})
    >>> s = summarize(tx, "2024-10-01", litt=True)
    >>> m = BetaGeoCNBDModel().fit(s)
    >>> m.k_ > 1
    True
    """

    _param_names = ("r", "alpha", "a", "b")
    _columns = ("frequency", "recency", "T", "litt")
    _shift = 0

    def __init__(self, k=None, *, forecast: str = "exact", max_iter: int = 500, tol: float = 1e-7,
                 compress: bool = True):
        self.k = k
        self.forecast = forecast
        super().__init__(max_iter=max_iter, tol=tol, compress=compress)

    def _init_params(self, data, weights):
        return np.array([1.0, max(float(np.mean(data["T"])) / 10, 1e-3), 1.0, 3.0])

    def _loglik_grad(self, params, data):
        return _cnbd_loglik_grad(params, data, self._k_fit, self._shift)[:2]

    def fit(self, summary: pd.DataFrame, y=None, sample_weight=None):
        """Fit for the given ``k``, or for each k and keep the most likely (see the class notes). ``y`` is ignored
        (scikit-learn's signature, as for the other purchase models: ``GridSearchCV`` passes ``fit(X, y, ...)``).

        Returns
        -------
        self
        """
        name = type(self).__name__
        check_in(self.forecast, "forecast", name, FORECASTS)
        if self.k is not None:
            check_number(self.k, "k", name, low=1, high=MAX_K)
            ks = [int(self.k)]
        else:
            ks = range(1, MAX_K + 1)
        fits, lls = {}, {}
        for k in ks:
            self._k_fit = k
            try:
                super().fit(summary, sample_weight=sample_weight)
            except ConvergenceError:  # a k whose likelihood is not finite ends the search (as in BTYDplus)
                if len(ks) == 1 or not fits:
                    raise
                lls[k] = np.nan
                break
            fits[k] = {a: getattr(self, a) for a in ("params_", "log_likelihood_", "n_customers_", "n_iter_",
                                                     "n_evaluations_", "converged_", "cov_log_", "summary_")}
            lls[k] = self.log_likelihood_
            if k > 2 and lls[k] < lls[k - 1] < lls[k - 2]:
                break
        best = max(fits, key=lambda k: fits[k]["log_likelihood_"])
        for attr, v in fits[best].items():
            setattr(self, attr, v)
        self.k_ = int(best)
        self._k_fit = self.k_
        self.k_log_likelihood_ = pd.Series(lls, name="log_likelihood").rename_axis("k")
        return self

    def _check_loaded_state(self):
        if hasattr(self, "params_"):
            if not (isinstance(self.k_, int) and 1 <= self.k_ <= MAX_K):
                raise ValueError(f"k_ must be an int in [1, {MAX_K}]; it is {self.k_!r:.40}.")
            self._k_fit = self.k_
        super()._check_loaded_state()

    # -- predictions ---------------------------------------------------------------------------------
    def _phase(self, params, x, tx, T):
        """(P(alive), weights of the phases j = 0..k-1 given alive) per row."""
        x, tx, T = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, dtype="float64")) for v in (x, tx, T)))
        data = {"frequency": x, "recency": tx, "T": T, "litt": np.zeros_like(x)}
        with np.errstate(all="ignore"):
            _, _, w = _cnbd_loglik_grad(params, data, self.k_, self._shift)
        alive = 1.0 - w[:, 0]
        return alive, w[:, 1:] / np.maximum(alive, 1e-300)[:, None]

    def _p_alive(self, params, x, tx, T):
        return self._phase(params, x, tx, T)[0]

    def _order(self):
        return self.k_

    def _alive_phases(self, params, x, tx, T):
        return self._phase(params, x, tx, T)

    def conditional_expected_purchases(self, summary: pd.DataFrame, t: float, *, params=None) -> pd.Series:
        """Expected purchases in ``(T, T + t]`` per customer, by the ``forecast`` recipe (module notes).

        Parameters
        ----------
        summary : DataFrame
            ``frequency, recency, T`` per customer (``litt`` is not needed here). Under
            ``forecast="btydplus"`` pass the whole cohort at once: with k > 1 and 100 rows or more,
            the rows are rescaled together.
        t : float
            Forecast horizon, in the summary's time units.
        params : sequence of 4 floats, optional
            ``r, alpha, a, b`` instead of the fitted ones.

        Returns
        -------
        Series
            ``expected_purchases`` per customer.

        Examples
        --------
        >>> import pandas as pd
        >>> s = pd.DataFrame({"frequency": [0, 3], "recency": [0.0, 30.0], "T": [40.0, 40.0], "litt": [0.0, 6.9]})
        >>> m = BetaGeoCNBDModel(k=2, forecast="exact")
        >>> m.k_ = 2
        >>> m.conditional_expected_purchases(s, 20.0, params=(2.0, 10.0, 0.5, 3.0)).round(3).tolist()
        [0.566, 1.37]
        """
        t = check_horizon(t, f"{type(self).__name__}.conditional_expected_purchases")
        check_in(self.forecast, "forecast", type(self).__name__, FORECASTS)
        d = self._check_summary(summary, "conditional_expected_purchases")
        prm = self._fitted(params)
        x, tx, T = d["frequency"], d["recency"], d["T"]
        alive, phase = self._phase(prm, x, tx, T)
        if self.forecast == "exact":
            out = alive * self._expected_given_phase(prm, x, T, float(t), phase)
        else:
            out = self._btydplus(prm, alive, x, T, float(t))
        return pd.Series(out, index=summary.index, name="expected_purchases")

    def _btydplus(self, params, alive, x, T, t):
        """BTYDplus' forecast: ``alive`` times the (M)BG/NBD expectation given alive with ``alpha -> k alpha``,
        ``b -> b + m``; with k > 1 and >= 100 rows, rescaled so that its total is the exact unconditional
        ``sum_i E[X(T_i + t)] - E[X(T_i)]``."""
        r, alpha, a, b = params
        k = self.k_
        if t <= 0:
            return np.zeros(len(x))
        out = alive * _expected((r, k * alpha, a, b + self._shift), x, T, t)
        if k > 1 and len(x) >= _MIN_ROWS_RESCALE and out.sum() > 0:
            uT, inv = np.unique(T, return_inverse=True)
            growth = self.expected_purchases(uT + t, params=params) - self.expected_purchases(uT, params=params)
            out = out * (growth[inv].sum() / out.sum())
        return out

    def _expected_given_phase(self, params, x, T, t, phase):
        """``sum_j w_j sum_n B(a, b+x+m+n-1)/B(a, b+x+m) I_z(nk - j, r+kx+j)`` on distinct rows."""
        r, alpha, a, b = params
        k, m = self.k_, self._shift
        if t <= 0:
            return np.zeros(len(x))
        frame = pd.DataFrame({"x": x, "T": T})
        key = frame.groupby(["x", "T"], sort=False).ngroup().to_numpy()
        out = np.zeros(len(x))
        for j in range(k):
            wj = phase[:, j]
            if not np.any(wj > 0):
                continue
            g = pd.DataFrame({"key": key, "x": x, "T": T}).drop_duplicates("key")
            ux, uT, ukey = g["x"].to_numpy(), g["T"].to_numpy(), g["key"].to_numpy()
            shape = r + k * ux + j
            z = t / (alpha + uT + t)
            bb = b + ux + m
            n_row = _n_terms(shape, alpha + uT, t, k)
            n = np.arange(1, int(n_row.max()) + 1, dtype="float64")
            coin = np.exp(betaln(a, bb[:, None] + n[None, :] - 1) - betaln(a, bb)[:, None])
            tail = betainc(n[None, :] * k - j, shape[:, None], z[:, None])
            terms = np.where(n[None, :] <= n_row[:, None], coin * tail, 0.0)   # exact zeros past a row's own end
            val = np.zeros(int(ukey.max()) + 1)
            val[ukey] = row_dot(terms, np.ones(len(n)))
            out += wj * val[key]
        return out

    def expected_purchases(self, t, *, params=None) -> np.ndarray:
        """Unconditional expected repeat purchases of a new customer in ``(0, t]``:
        ``sum_n B(a, b+m+n-1)/B(a, b) I_{t/(alpha+t)}(nk, r)``.

        Examples
        --------
        >>> m = BetaGeoCNBDModel(k=1)
        >>> m.k_ = 1
        >>> from crmml.clv import BetaGeoModel
        >>> prm = (0.243, 4.414, 0.793, 2.426)
        >>> bool(np.isclose(m.expected_purchases(39.0, params=prm), BetaGeoModel().expected_purchases(39.0, params=prm)))
        True
        """
        t = check_horizon(t, f"{type(self).__name__}.expected_purchases")
        r, alpha, a, b = self._fitted(params)
        t_in = np.asarray(t, dtype="float64")
        k, m = self.k_, self._shift
        res = np.zeros(t_in.size)
        for i, ti in enumerate(t_in.ravel()):
            if ti <= 0:
                continue
            n_max = int(_n_terms(np.array([r]), np.array([alpha]), ti, k)[0])
            n = np.arange(1, n_max + 1, dtype="float64")
            coin = np.exp(betaln(a, b + m + n - 1) - betaln(a, b))
            res[i] = (coin * betainc(n * k, r, ti / (alpha + ti))).sum()
        return res.reshape(t_in.shape)


class ModifiedBetaGeoCNBDModel(BetaGeoCNBDModel):
    """MBG/CNBD-k: MBG/NBD (dropout possible right after the first purchase) with Erlang-k
    inter-purchase times (Platzer & Reutterer 2016). Same API as :class:`BetaGeoCNBDModel`.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"frequency": [0, 3, 1, 0, 5], "recency": [0.0, 30.0, 5.0, 0.0, 38.0],
    ...                   "T": [40.0, 40.0, 20.0, 10.0, 40.0], "litt": [0.0, 6.9, 1.6, 0.0, 10.2]})
    >>> m = ModifiedBetaGeoCNBDModel(k=2).fit(s)
    >>> bool((m.conditional_probability_alive(s) < 1).all())
    True
    """

    _shift = 1
