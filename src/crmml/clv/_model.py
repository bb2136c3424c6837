"""CLVModel: purchase model + spend model + discounting, from transactions to a per-customer frame."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from crmml._time import AsOfWarning
from crmml._utils import (
    MAX_HORIZON_DAYS,
    check_as_of,
    check_in,
    check_number,
    history_before,
)
from crmml._utils._streams import seed_from
from crmml.clv._bgnbd import BetaGeoModel
from crmml.clv._gammagamma import GammaGammaModel
from crmml.clv._mbgnbd import ModifiedBetaGeoModel
from crmml.clv._nbd import NBDModel
from crmml.clv._paretonbd import ParetoNBDModel
from crmml.clv._selection import AUTO_CANDIDATES, select_purchase_model
from crmml.clv._summary import _UNIT_DAYS, summarize
from crmml.clv._uncertainty import discounted_sum, draw_params, posterior_draws
from crmml.exceptions import DataError, DroppedCustomersWarning, NoHistoryError, NonFiniteResultError, ParameterError
from crmml.schema import validate_transactions

__all__ = ["CLVModel"]

_PURCHASE = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "nbd": NBDModel, "paretonbd": ParetoNBDModel}
_SPEND = {"gammagamma": GammaGammaModel}
_DAYS_PER_YEAR = 365.25
#: Enough Monte Carlo draws for stable 99% intervals without hanging a batch job.
MAX_DRAWS = 100_000


def _check_finite(out: pd.DataFrame, with_spend: bool) -> None:
    """Refuse to return NaN or inf predictions (they would flow silently into reports and decisions)."""
    cols = ["p_alive", "expected_purchases", "discounted_purchases"] + (["expected_spend", "clv"] if with_spend else [])
    bad = ~np.isfinite(out[cols].to_numpy(dtype="float64")).all(axis=1)
    if bad.any():
        ex = out.index[bad][:5].tolist()
        first = out.loc[bad, ["frequency", "recency", "T", "monetary_value"]].iloc[0].to_dict()
        raise NonFiniteResultError(
            f"CLVModel.predict could not compute finite values for {int(bad.sum())} customer(s), e.g. "
            f"customer_id {ex} (summary {first}). "
            "Check their transactions for extreme amounts or counts, or shorten horizon_days.")


class CLVModel(BaseEstimator):
    """Customer lifetime value from transactions: purchase model x spend model, discounted.

    ``fit(transactions, as_of)`` summarises the history before ``as_of`` (see
    :func:`crmml.clv.summarize`), fits the purchase model on every customer and the spend
    model on repeat buyers with positive spend. ``predict`` returns, per customer:

    - ``p_alive``: probability the customer is still active at ``as_of``;
    - ``expected_purchases``: expected purchase occasions in ``[as_of, as_of + horizon_days)``;
    - ``discounted_purchases``: the same, each month's expected purchases discounted;
    - ``expected_spend``: expected value per purchase occasion (Gamma-Gamma);
    - ``clv = margin * expected_spend * discounted_purchases``;
    - ``rule``: which rule produced the row (below).

    Time and discounting: the models run in the unit of ``freq`` (days or weeks).
    ``discount_rate`` is an **annual** rate; cash flows are grouped by month (365.25/12 days)
    and the expected purchases of month k are discounted by ``(1 + discount_rate) ** -(t_k /
    365.25 days)``, ``t_k`` the end of month k (the last, partial month ends at the horizon).

    Rules for customers the spend model cannot describe:

    - ``"model"``: repeat buyer with positive mean repeat spend: Gamma-Gamma posterior mean;
    - ``"no_repeat"``: no repeat purchase (``frequency == 0``): Gamma-Gamma gives no
      customer-specific evidence, so the population mean spend ``p gamma / (q - 1)``;
    - ``"nonpositive_spend"``: repeat buyer whose repeat spend net of returns is <= 0 (free
      items, everything returned): expected spend 0, so ``clv`` 0;
    - ``"no_purchase"``: customer with lines before ``as_of`` but no purchase occasion (only
      returns): not an acquired customer for the models: ``p_alive`` NaN, other values 0.

    Lines with a missing ``amount`` are purchases with 0 spend (a ``UserWarning`` in ``fit`` gives their count
    when a spend model is used). Every other value ``predict`` returns is finite: a customer whose values cannot be
    computed as finite numbers raises :class:`crmml.exceptions.NonFiniteResultError` naming
    the customers, never a NaN in the output.

    Parameters
    ----------
    purchase_model : {"bgnbd", "mbgnbd", "nbd", "paretonbd", "auto"} or estimator, default="bgnbd"
        A :class:`BetaGeoModel` / :class:`ModifiedBetaGeoModel` / :class:`NBDModel` /
        :class:`ParetoNBDModel` (cloned before fitting) or its name. ``"auto"`` chooses among
        BG/NBD, MBG/NBD and Pareto/NBD on a calibration/holdout split of the history before
        ``as_of`` (holdout: ``horizon_days``, at most a third of the history) by
        ``sum |forecast - actual| / sum actual`` of holdout purchases, keeping BG/NBD unless
        another model is strictly better; the comparison is in ``selection_`` (see
        :mod:`crmml.clv._selection`).
    spend_model : "gammagamma", GammaGammaModel or None, default="gammagamma"
        None for purchase logs without amounts: spend and CLV columns are NaN.
    freq : {"D", "W"}, default="D"
        Period of same-period collapse and time unit of the models.
    occasion : {"period", "transaction"}, default="period"
        Purchase occasions as periods or distinct ``transaction_id`` values.
    horizon_days : int, default=365
        Forecast horizon in days, in [1, 3650].
    discount_rate : float, default=0.1
        Annual discount rate (0.1 = 10% a year).
    margin : float, default=1.0
        Share of spend that is profit; 1.0 gives revenue CLV.

    Attributes
    ----------
    purchase_model_, spend_model_ : fitted models (``spend_model_`` None without a spend model)
    summary_ : DataFrame
        Calibration summary of the training customers.
    selection_ : DataFrame
        With ``purchase_model="auto"``: per candidate ``holdout_error``, ``total_error``,
        ``log_likelihood``, ``note``, ``chosen``; ``selection_.attrs`` holds the split.
    no_purchase_ids_ : ndarray
        Customers with lines before ``as_of`` but no purchase occasion.
    as_of_ : str
        ISO timestamp of the training cut-off.

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=300, seed=1, with_events=False)
    >>> model = CLVModel(horizon_days=180).fit(crm.transactions, as_of="2024-07-01")
    >>> pred = model.predict()
    >>> list(pred.columns)
    ['frequency', 'recency', 'T', 'monetary_value', 'p_alive', 'expected_purchases', 'discounted_purchases', 'expected_spend', 'clv', 'rule']
    >>> bool((pred["clv"] >= 0).all())
    True
    """

    def __init__(self, purchase_model="bgnbd", spend_model="gammagamma", *, freq: str = "D",
                 occasion: str = "period", horizon_days: int = 365, discount_rate: float = 0.1,
                 margin: float = 1.0):
        self.purchase_model = purchase_model
        self.spend_model = spend_model
        self.freq = freq
        self.occasion = occasion
        self.horizon_days = horizon_days
        self.discount_rate = discount_rate
        self.margin = margin

    def _check_params(self):
        owner = "CLVModel"
        check_in(self.freq, "freq", owner, ("D", "W"))
        check_in(self.occasion, "occasion", owner, ("period", "transaction"))
        check_number(self.horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
        check_number(self.discount_rate, "discount_rate", owner, kind="float", low=0)
        check_number(self.margin, "margin", owner, kind="float", low=0, low_inclusive=False)
        pm = self.purchase_model
        if isinstance(pm, str) and pm == "auto":
            pm = BetaGeoModel()                     # replaced in fit() by the model chosen on the history
        elif isinstance(pm, str):
            check_in(pm, "purchase_model", owner, (*_PURCHASE, "auto"))
            pm = _PURCHASE[pm]()
        elif not isinstance(pm, tuple(_PURCHASE.values())):
            raise ParameterError(f"The 'purchase_model' parameter of CLVModel must be 'bgnbd', one of "
                                 f"{list(_PURCHASE)} or an instance of BetaGeoModel, ModifiedBetaGeoModel, NBDModel "
                                 f"or ParetoNBDModel. Got {pm!r} instead.")
        sm = self.spend_model
        if isinstance(sm, str):
            check_in(sm, "spend_model", owner, tuple(_SPEND))
            sm = _SPEND[sm]()
        elif sm is not None and not isinstance(sm, GammaGammaModel):
            raise ParameterError("The 'spend_model' parameter of CLVModel must be 'gammagamma', a GammaGammaModel "
                                 f"or None. Got {sm!r} instead.")
        return clone(pm), (clone(sm) if sm is not None else None)

    def fit(self, transactions: pd.DataFrame, as_of, *, columns=None):
        """Summarise ``transactions`` before ``as_of`` and fit the purchase and spend models.

        Returns
        -------
        self
        """
        as_of = check_as_of(as_of, "CLVModel.fit")
        self._check_params()
        tx = validate_transactions(transactions, columns, allow_missing_amount=True)
        summary = self._summarize(tx, as_of)
        if self.spend_model is not None and len(summary):
            before = (tx["timestamp"] < as_of.to_datetime64()).to_numpy()
            missing = tx["amount"].isna().to_numpy() & before
            if missing.sum() == before.sum():
                raise DataError("CLVModel.fit: transactions.amount is missing on every row before as_of; fill in "
                                "the amounts, or pass spend_model=None to model purchases only (no CLV in money: "
                                "value-based uses such as RetentionPlanner need spend and refuse it).")
            if missing.any():
                warnings.warn(f"CLVModel.fit: {int(missing.sum())} purchase lines before as_of have a missing amount; "
                              "they count as purchases with 0 spend in monetary_value (the Gamma-Gamma input), "
                              "which understates their customers' spend. Fill in or drop those amounts "
                              "(spend_model=None would give no CLV in money, and value-based uses such as "
                              "RetentionPlanner need spend).",
                              UserWarning, stacklevel=2)
        if isinstance(self.purchase_model, str) and self.purchase_model == "auto":
            chosen, self.selection_ = select_purchase_model(tx, as_of, self.horizon_days, self.freq, self.occasion)
            self._chosen = AUTO_CANDIDATES[chosen]()
            try:
                return self.fit_summary(summary, as_of, no_purchase_ids=self._no_purchase(tx, as_of, summary))
            finally:
                del self._chosen
        return self.fit_summary(summary, as_of, no_purchase_ids=self._no_purchase(tx, as_of, summary))

    def fit_summary(self, summary: pd.DataFrame, as_of, *, sample_weight=None, no_purchase_ids=None):
        """Fit the purchase and spend models on a per-customer summary (or on weighted distinct rows).

        ``fit(transactions, as_of)`` is ``fit_summary(summarize(transactions, as_of), as_of)``.
        With ``sample_weight`` the rows are distinct summary rows, each standing for that many
        customers (what :func:`crmml.spark.fit_clv` collects): the parameters are the same as on
        the expanded rows. A model fitted on weighted rows keeps no training customers, so
        ``predict`` then needs ``transactions``.

        Parameters
        ----------
        summary : DataFrame
            Columns ``frequency``, ``recency``, ``T``, ``monetary_value`` (see :func:`crmml.clv.summarize`).
        as_of : timestamp or str
            The cut-off of the summary.
        sample_weight : array-like, optional
            Customers per row.
        no_purchase_ids : array-like, optional
            Customers with lines before ``as_of`` but no purchase occasion (kept for ``predict()``).

        Returns
        -------
        self

        Examples
        --------
        >>> import pandas as pd
        >>> from crmml.datasets import make_synthetic_crm
        >>> from crmml.clv import summarize
        >>> s = summarize(make_synthetic_crm(n_customers=300, seed=1, with_events=False).transactions, "2024-07-01")
        >>> rows = s.value_counts().rename("n").reset_index()
        >>> a = CLVModel().fit_summary(s, "2024-07-01").purchase_model_.params_
        >>> b = CLVModel().fit_summary(rows, "2024-07-01", sample_weight=rows["n"]).purchase_model_.params_
        >>> bool((a == b).all())
        True
        """
        pm, sm = self._check_params()
        if isinstance(self.purchase_model, str) and self.purchase_model == "auto":
            if not hasattr(self, "_chosen"):
                raise ParameterError("CLVModel(purchase_model='auto') chooses its model on a calibration/holdout split "
                                     "of the transactions: use fit(transactions, as_of), or name a purchase model "
                                     "for fit_summary.")
            pm = self._chosen                       # set by fit() from the selection on the history
        as_of = check_as_of(as_of, "CLVModel.fit_summary")
        if not isinstance(summary, pd.DataFrame) or summary.empty:
            raise NoHistoryError(f"CLVModel.fit found no purchase before as_of={as_of}.")
        w = None
        if sample_weight is not None:
            w = np.asarray(sample_weight, dtype="float64")
            if w.shape != (len(summary),) or not np.all(np.isfinite(w)) or (w < 0).any():
                raise ParameterError("The 'sample_weight' parameter of CLVModel.fit_summary must hold one finite "
                                     f"weight >= 0 per summary row ({len(summary)}). Got shape {w.shape}.")
        self.purchase_model_ = pm.fit(summary, sample_weight=w)
        self.spend_model_ = sm.fit(summary, sample_weight=w) if sm is not None else None
        self.summary_ = summary if w is None else None
        ids = np.asarray([] if no_purchase_ids is None else no_purchase_ids)
        self.no_purchase_ids_ = ids.astype(str) if ids.dtype == object else ids
        self.as_of_ = as_of.isoformat()
        return self

    def _summarize(self, tx, as_of):
        with warnings.catch_warnings():  # return-only customers are kept, under the rule "no_purchase"
            warnings.simplefilter("ignore", DroppedCustomersWarning)
            warnings.simplefilter("ignore", AsOfWarning)      # said once, by _no_purchase's history_before
            return summarize(tx, as_of, freq=self.freq, occasion=self.occasion)

    @staticmethod
    def _no_purchase(tx, as_of, summary):
        seen = pd.unique(history_before(tx, as_of)["customer_id"])
        ids = pd.Index(seen).difference(summary.index).to_numpy()
        return ids.astype(str) if ids.dtype == object else ids

    def _summary_for(self, transactions, as_of, columns):
        check_is_fitted(self, "purchase_model_")
        if transactions is None:
            if as_of is not None:
                raise ParameterError("CLVModel.predict: 'as_of' needs 'transactions'; without transactions the "
                                     "training customers are scored as of the training cut-off.")
            if self.summary_ is None:
                raise ParameterError("CLVModel.predict: this model was fitted on weighted summary rows (fit_summary, "
                                     "crmml.spark.fit_clv), which keep no training customers; pass transactions.")
            return self.summary_, self.no_purchase_ids_
        as_of = check_as_of(self.as_of_ if as_of is None else as_of, "CLVModel.predict")
        tx = validate_transactions(transactions, columns, allow_missing_amount=True)
        summary = self._summarize(tx, as_of)
        return summary, self._no_purchase(tx, as_of, summary)

    def _time_grid(self, horizon_days):
        horizon_days = check_number(self.horizon_days if horizon_days is None else horizon_days,
                                    "horizon_days", "CLVModel.predict", low=1, high=MAX_HORIZON_DAYS)
        month = _DAYS_PER_YEAR / 12
        k = math.ceil(horizon_days / month - 1e-9)
        days = np.minimum(np.arange(1, k + 1) * month, horizon_days)
        discount = (1.0 + self.discount_rate) ** (-days / _DAYS_PER_YEAR)
        return days / _UNIT_DAYS[self.freq], discount

    def _check_loaded_state(self):
        """Called by ``crmml.persistence.load`` (checks in ``crmml.clv._loaded``)."""
        from crmml.clv._loaded import check_clv_model

        check_clv_model(self, tuple(_PURCHASE.values()))

    def _rules(self, summary):
        x = summary["frequency"].to_numpy()
        m = summary["monetary_value"].to_numpy()
        return np.where(x == 0, "no_repeat", np.where(m > 0, "model", "nonpositive_spend"))

    def predict(self, transactions: pd.DataFrame | None = None, *, as_of=None, horizon_days: int | None = None,
                columns=None) -> pd.DataFrame:
        """Per-customer P(alive), expected purchases, expected spend and discounted CLV.

        Parameters
        ----------
        transactions : DataFrame, optional
            Score these customers' histories (before ``as_of``, default the training cut-off)
            with the fitted parameters; default: the training customers.
        as_of : timestamp or str, optional
        horizon_days : int, optional
            Overrides the constructor's horizon.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``, columns as in the class docstring.
        """
        summary, no_purchase = self._summary_for(transactions, as_of, columns)
        t_grid, discount = self._time_grid(horizon_days)
        pm = self.purchase_model_
        cum = np.column_stack([pm.conditional_expected_purchases(summary, t).to_numpy() for t in t_grid])
        out = summary.copy()
        out["p_alive"] = pm.conditional_probability_alive(summary).to_numpy()
        out["expected_purchases"] = cum[:, -1]
        out["discounted_purchases"] = discounted_sum(cum, discount)
        rule = self._rules(summary)
        if self.spend_model_ is not None:
            spend = self.spend_model_.conditional_expected_spend(summary).to_numpy()
            spend = np.where(rule == "nonpositive_spend", 0.0, spend)
        else:
            spend = np.full(len(summary), np.nan)
        out["expected_spend"] = spend
        out["clv"] = self.margin * spend * out["discounted_purchases"].to_numpy()
        out["rule"] = rule
        _check_finite(out, self.spend_model_ is not None)
        if len(no_purchase):
            extra = pd.DataFrame(0.0, index=pd.Index(no_purchase, name="customer_id"), columns=out.columns[:-1])
            extra["frequency"] = 0
            extra["p_alive"] = np.nan
            if self.spend_model_ is None:
                extra[["expected_spend", "clv"]] = np.nan
            extra["rule"] = "no_purchase"
            out = pd.concat([out, extra]).sort_index()
        return out

    def predict_interval(self, transactions: pd.DataFrame | None = None, *, as_of=None,
                         horizon_days: int | None = None, level: float = 0.9, n_draws: int = 200,
                         random_state=None, columns=None) -> pd.DataFrame:
        """Intervals on each customer's expected purchases and CLV.

        Draws combine the parameters' sampling uncertainty (multivariate normal on the log
        parameters, covariance from the observed information: a parametric bootstrap) with the
        customer's latent-state posterior given the history (alive or not, purchase rate,
        dropout, mean spend); see :mod:`crmml.clv._uncertainty`. The interval is the central
        ``level`` quantile range of the draws (Monte Carlo: reruns with another ``random_state``
        move the bounds slightly; customers are processed in blocks to bound memory). A customer's
        bounds with a given ``random_state`` are the same whatever other customers are scored with it: its
        latent-state draws come from its own stream, keyed by ``random_state`` and its id. It covers
        the customer's *expected* value, not the realised count, which adds Poisson noise.

        Parameters
        ----------
        level : float, default=0.9
        n_draws : int, default=200
            In [10, 100000].
        random_state : int or Generator, optional

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``: ``expected_purchases_lower/upper``, ``clv_lower/upper``
            (NaN without a spend model). ``no_purchase`` customers get 0.

        Examples
        --------
        >>> from crmml.datasets import make_synthetic_crm
        >>> crm = make_synthetic_crm(n_customers=300, seed=1, with_events=False)
        >>> model = CLVModel(horizon_days=180).fit(crm.transactions, as_of="2024-07-01")
        >>> iv = model.predict_interval(n_draws=50, random_state=0)
        >>> bool((iv["clv_lower"] <= iv["clv_upper"]).all())
        True
        """
        check_number(level, "level", "CLVModel.predict_interval", kind="float", low=0, high=1,
                     low_inclusive=False, high_inclusive=False)
        check_number(n_draws, "n_draws", "CLVModel.predict_interval", low=10, high=MAX_DRAWS)
        summary, no_purchase = self._summary_for(transactions, as_of, columns)
        t_grid, discount = self._time_grid(horizon_days)
        rule = self._rules(summary)
        rng = np.random.default_rng(random_state)
        seed = seed_from(rng)                          # keys the per-customer streams (with the customer ids)
        thetas, phis = draw_params(self.purchase_model_, self.spend_model_, n_draws, 50, rng)
        q = [(1 - level) / 2, (1 + level) / 2]
        n = len(summary)
        pl, pu, cl, cu = (np.full(n, np.nan) for _ in range(4))
        block = max(1, 5_000_000 // n_draws)  # bounds memory: about 3 x 40 MB of draws per block
        for lo in range(0, n, block):
            sl = slice(lo, lo + block)
            draws = posterior_draws(self.purchase_model_, self.spend_model_, summary.iloc[sl], t_grid, discount,
                                    thetas, phis, seed=seed, n_draws=n_draws,
                                    spend_rule=(rule == "nonpositive_spend")[sl])
            pl[sl], pu[sl] = np.quantile(draws["purchases"], q, axis=0)
            if "spend" in draws:
                cl[sl], cu[sl] = np.quantile(self.margin * draws["spend"] * draws["discounted"], q, axis=0)
        out = pd.DataFrame({"expected_purchases_lower": pl, "expected_purchases_upper": pu}, index=summary.index)
        out["clv_lower"], out["clv_upper"] = cl, cu
        if len(no_purchase):
            extra = pd.DataFrame(0.0, index=pd.Index(no_purchase, name="customer_id"), columns=out.columns)
            out = pd.concat([out, extra]).sort_index()
        return out
