"""RetentionPlanner: churn probability x value if retained = value at risk; net gain of acting; budgeted list."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from crmml._utils import (MAX_HORIZON_DAYS, MAX_WINDOW_DAYS, check_as_of, check_in, check_number, check_unique_ids,
                          steps)
from crmml.churn import ChurnModel, TimeToChurnModel, make_churn_snapshot
from crmml.churn._backtest import feature_columns
from crmml.churn._labels import churn_labels
from crmml.clv import CLVModel
from crmml.decisions._errors import HorizonMismatchError
from crmml.exceptions import DataError, NoHistoryError, ParameterError
from crmml.features import DEFAULT_WINDOWS, compute_features
from crmml.features._build import _check_windows
from crmml.schema import validate_customers, validate_events, validate_transactions

__all__ = ["RetentionPlanner"]

_SCORE_COLS = ["churn_probability", "value_if_retained", "value_at_risk", "clv", "p_alive", "expected_purchases",
               "expected_spend"]


def _per_customer(x, name, index, owner):
    """A scalar or a Series aligned on ``index`` (every customer needs a value; others are ignored), as float array."""
    if isinstance(x, pd.Series):
        check_unique_ids(x.index, name, owner)
        v = x.reindex(index)
        if v.isna().any():
            raise ParameterError(f"{owner}: {name} has no value for {int(v.isna().sum())} customer(s) of the plan, "
                                 f"e.g. {v.index[v.isna()][:3].tolist()}.")
        v = pd.to_numeric(v, errors="coerce")
        if v.isna().any():
            raise ParameterError(f"{owner}: {name} must be numeric.")
        return v.to_numpy(np.float64)
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{owner}: {name} must be a number or a Series indexed by customer_id. Got {x!r:.60}.")
    return np.full(len(index), float(x))


class RetentionPlanner(BaseEstimator):
    """Whom is it worth saving: churn risk x value if retained, net of the cost of acting, under a budget.

    ``fit(transactions, as_of)`` fits, at the same cutoff, a churn model (a :class:`crmml.churn.ChurnModel`
    on ``n_snapshots`` stacked snapshots ending at ``as_of``, as :func:`crmml.churn.backtest` trains it, or a
    :class:`crmml.churn.TimeToChurnModel`) and a :class:`crmml.clv.CLVModel`, and scores the customers
    active at ``as_of`` (a purchase in the ``lookback_days`` before it):

    - ``churn_probability``: no purchase in ``[as_of, as_of + horizon_days)``;
    - ``value_if_retained``: discounted CLV over ``value_horizon_days`` conditional on the customer
      staying, ``clv / max(p_alive, p_alive_floor)`` (the CLV model's value already discounts for the
      chance the customer is gone; the floor keeps near-dead customers from exploding);
    - ``value_at_risk = churn_probability x value_if_retained``.

    :meth:`plan` adds ``expected_net_gain = effect x value_at_risk - cost`` (``effect``: the share of the
    churn risk the action removes) and a budget-constrained selection, with the reasons.

    Parameters
    ----------
    horizon_days : int, default=45
        Churn horizon.
    value_horizon_days : int, default=365
        CLV horizon of ``value_if_retained``; at least ``horizon_days``.
    churn_model : ChurnModel or TimeToChurnModel, optional
        Template (cloned); default ``ChurnModel()``.
    clv_model : CLVModel, optional
        Template (cloned); default ``CLVModel(horizon_days=value_horizon_days)``. Its ``horizon_days``
        must equal ``value_horizon_days`` (else :class:`HorizonMismatchError`), and it must model spend
        (``spend_model=None`` gives no CLV to value a customer by: :class:`crmml.exceptions.ParameterError`).
        Every active customer has a purchase before ``as_of``, so the CLV model values every one of them
        (``p_alive`` is missing only for customers with nothing but returns, who are never active).
    n_snapshots : int, default=3
    lookback_days : int, default=365
    windows : tuple of int, default=crmml.features.DEFAULT_WINDOWS
    p_alive_floor : float, default=0.1
    n_reasons : int, default=2
        Churn drivers listed per customer (ChurnModel only).
    verbose : bool, default=False
        Show a progress bar (stderr) over the stages of ``fit`` (features, churn snapshots, churn model,
        reasons, CLV model); models constructed with ``verbose=True`` add a bar of their own fits below it.
        The results are the same either way.

    Attributes
    ----------
    churn_model_, clv_model_ : the fitted models
    scores_ : DataFrame
        Per active customer: ``churn_probability``, ``value_if_retained``, ``value_at_risk``, ``clv``,
        ``p_alive``, ``expected_purchases``, ``expected_spend``, ``churn_reasons``, ``value_reasons``.
    as_of_ : str

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.churn import ChurnModel
    >>> crm = make_synthetic_crm(n_customers=800, seed=0, with_events=False)
    >>> rp = RetentionPlanner(churn_model=ChurnModel(n_estimators=30, min_child_weight=1),
    ...                       windows=(30, 90, 365)).fit(crm.transactions, "2024-07-01")
    >>> plan = rp.plan(cost=2.0, effect=0.2, budget=50)
    >>> list(plan.columns[:4])
    ['churn_probability', 'value_if_retained', 'value_at_risk', 'expected_net_gain']
    >>> bool(plan["expected_net_gain"].is_monotonic_decreasing), float(plan["cost"][plan["selected"]].sum()) <= 50
    (True, True)
    """

    def __init__(self, horizon_days=45, value_horizon_days=365, churn_model=None, clv_model=None, n_snapshots=3,
                 lookback_days=365, windows=DEFAULT_WINDOWS, p_alive_floor=0.1, n_reasons=2, verbose=False):
        self.horizon_days = horizon_days
        self.value_horizon_days = value_horizon_days
        self.churn_model = churn_model
        self.clv_model = clv_model
        self.n_snapshots = n_snapshots
        self.lookback_days = lookback_days
        self.windows = windows
        self.p_alive_floor = p_alive_floor
        self.n_reasons = n_reasons
        self.verbose = verbose

    def _check_params(self):
        own = "RetentionPlanner"
        check_number(self.horizon_days, "horizon_days", own, low=1, high=MAX_HORIZON_DAYS)
        check_number(self.value_horizon_days, "value_horizon_days", own, low=1, high=MAX_HORIZON_DAYS)
        check_number(self.n_snapshots, "n_snapshots", own, low=1, high=100)
        check_number(self.lookback_days, "lookback_days", own, low=1, high=MAX_WINDOW_DAYS)
        check_number(self.p_alive_floor, "p_alive_floor", own, kind="float", low=0, high=1, low_inclusive=False)
        check_number(self.n_reasons, "n_reasons", own, low=0, high=20)
        check_in(self.verbose, "verbose", own, (True, False))
        if self.value_horizon_days < self.horizon_days:
            raise HorizonMismatchError(
                f"RetentionPlanner: value_horizon_days ({self.value_horizon_days}) is shorter than the churn "
                f"horizon_days ({self.horizon_days}); the value lost by a churner must cover at least the churn "
                "horizon. Raise value_horizon_days.")
        cm = ChurnModel() if self.churn_model is None else self.churn_model
        if not isinstance(cm, (ChurnModel, TimeToChurnModel)):
            raise ParameterError("The 'churn_model' parameter of RetentionPlanner must be a ChurnModel or a "
                                 f"TimeToChurnModel. Got {cm!r:.80} instead.")
        if isinstance(cm, TimeToChurnModel) and cm.max_days < self.horizon_days:
            raise HorizonMismatchError(
                f"RetentionPlanner: the TimeToChurnModel models {cm.max_days} days (max_days) but the plan's "
                f"churn horizon is {self.horizon_days} days; raise its max_days or lower horizon_days.")
        clv = CLVModel(horizon_days=self.value_horizon_days) if self.clv_model is None else self.clv_model
        if not isinstance(clv, CLVModel):
            raise ParameterError(f"The 'clv_model' parameter of RetentionPlanner must be a CLVModel. Got {clv!r:.80}.")
        if clv.spend_model is None:
            raise ParameterError("The 'clv_model' parameter of RetentionPlanner must model spend: "
                                 "value_if_retained is the customer's CLV, which CLVModel(spend_model=None) does not "
                                 "give. Pass a CLVModel with spend_model='gammagamma' (the default).")
        if clv.horizon_days != self.value_horizon_days:
            raise HorizonMismatchError(
                f"RetentionPlanner: the CLV model's horizon_days ({clv.horizon_days}) differs from "
                f"value_horizon_days ({self.value_horizon_days}); value_if_retained would be stated over the "
                "wrong horizon. Pass CLVModel(horizon_days=value_horizon_days) or change value_horizon_days.")
        return clone(cm), clone(clv)

    def fit(self, transactions, as_of, events=None, customers=None):
        """Fit the churn and CLV models as of ``as_of`` and score the customers active then.

        Returns
        -------
        self
        """
        owner = "RetentionPlanner.fit"
        cm, clv = self._check_params()
        _check_windows(self.windows, "RetentionPlanner")
        as_of = check_as_of(as_of, owner)
        tx = validate_transactions(transactions, allow_missing_amount=True)
        ev = validate_events(events) if events is not None else None
        cu = validate_customers(customers) if customers is not None else None
        h = int(self.horizon_days)
        active = churn_labels(tx, as_of, h, self.lookback_days, warn=False).index
        if len(active) == 0:
            raise NoHistoryError(f"{owner}: no customer bought in the {self.lookback_days} days before {as_of.date()}.")
        n_stages = 3 if isinstance(cm, TimeToChurnModel) else 4 + self.n_snapshots
        with steps(n_stages, verbose=self.verbose, desc=owner) as step:
            step(f"features as of {as_of.date()}")
            kw = feature_columns(tx, ev, as_of)
            X_now = compute_features(tx, as_of, ev, cu, tuple(self.windows), **kw).reindex(active)
            reasons = pd.Series("", index=active, dtype=object)
            if isinstance(cm, TimeToChurnModel):
                step("time-to-churn model")
                cm._fit_validated(tx, ev, cu, as_of, owner)
                p = cm.predict_churn_probability(h).reindex(active).to_numpy()
            else:
                p, reasons = self._fit_churn(cm, tx, ev, cu, as_of, kw, X_now, owner, step)
            step("CLV model")
            clv.fit(tx, as_of)
        # every active customer bought in the look-back window, so CLVModel.predict gives each a finite clv and
        # p_alive (it is NaN only for customers with nothing but returns, who are never active): nothing to fill
        v = clv.predict().reindex(active)
        value = v["clv"].to_numpy(np.float64) / np.maximum(v["p_alive"].to_numpy(np.float64), self.p_alive_floor)
        scores = pd.DataFrame({"churn_probability": p, "value_if_retained": value, "value_at_risk": p * value,
                               "clv": v["clv"].to_numpy(np.float64), "p_alive": v["p_alive"].to_numpy(np.float64),
                               "expected_purchases": v["expected_purchases"].to_numpy(np.float64),
                               "expected_spend": v["expected_spend"].to_numpy(np.float64)},
                              index=pd.Index(active, name="customer_id"))
        scores["churn_reasons"] = reasons.reindex(active).fillna("").to_numpy()
        H = int(self.value_horizon_days)
        scores["value_reasons"] = [
            f"{n / max(pa, self.p_alive_floor):.1f} purchases x {s:.2f} per purchase in {H} days "
            f"if retained (p_alive {pa:.2f})"
            for n, s, pa in zip(scores["expected_purchases"], scores["expected_spend"], scores["p_alive"])]
        self.churn_model_, self.clv_model_, self.scores_ = cm, clv, scores
        self.as_of_ = as_of.isoformat()
        return self

    def _fit_churn(self, cm, tx, ev, cu, as_of, kw, X_now, owner, step):
        """ChurnModel on snapshots whose label windows end by ``as_of``; probabilities and driver texts."""
        h = int(self.horizon_days)
        first = tx["timestamp"].min()
        cuts = [as_of - pd.Timedelta(days=h * (k + 1)) for k in range(self.n_snapshots)]
        cuts = [c for c in cuts if c > first]
        if not cuts:
            raise NoHistoryError(f"{owner}: no training snapshot after the first transaction ({first.date()}); "
                                 "use a later as_of.")
        snap = dict(horizon_days=h, lookback_days=self.lookback_days, windows=tuple(self.windows), events=ev,
                    customers=cu, **kw)
        parts = []
        for c in cuts:
            step(f"churn snapshot {c.date()}")
            parts.append(make_churn_snapshot(tx, c, **snap))
        X = pd.concat([q[0] for q in parts])
        y = np.concatenate([q[1].to_numpy() for q in parts])
        t = np.concatenate([np.full(len(q[1]), np.datetime64(c.to_datetime64())) for q, c in zip(parts, cuts)])
        if len(np.unique(y)) < 2:
            raise DataError(f"{owner}: every one of the {len(y)} customer rows of the training snapshots "
                            f"({', '.join(str(c.date()) for c in cuts)}) {'churned' if y.any() else 'bought again'} "
                            f"within {h} days; the churn model needs both outcomes. Use more customers or history, or "
                            "another as_of.")
        step("churn model")
        cm.fit(X, y, time=t)
        Xs = X_now[list(X.columns)]
        p = cm.predict_proba(Xs)[:, 1]
        reasons = pd.Series("", index=Xs.index, dtype=object)
        if self.n_reasons:
            step("churn reasons")
            ex = cm.explain(Xs, top_n=self.n_reasons)
            cols = [c for c in ex.columns if c.startswith("driver_")]
            reasons = ex[cols].astype(str).agg("; ".join, axis=1)
        return p, reasons

    def plan(self, cost=0.0, effect=0.1, budget=None) -> pd.DataFrame:
        """The ranked retention list: expected net gain of acting on each customer, and a budgeted selection.

        Parameters
        ----------
        cost : float or Series, default=0.0
            Cost of the action per customer (a Series indexed by ``customer_id`` for per-customer costs: one value
            per customer of the plan, each id once; values of customers not in the plan are ignored).
        effect : float or Series, default=0.1
            Share of the churn probability the action removes, in [0, 1] (assumed, or estimated by an uplift
            test such as :class:`UpliftModel`).
        budget : float, optional
            Total cost allowed; customers are taken in priority order while they fit. Without a budget every
            customer with a positive expected net gain is selected.

        Returns
        -------
        DataFrame
            Indexed by ``customer_id``, sorted by ``expected_net_gain`` (then ``value_at_risk``), with
            ``churn_probability``, ``value_if_retained``, ``value_at_risk``, ``expected_net_gain``, ``cost``,
            ``selected``, ``rank``, ``churn_reasons``, ``value_reasons``, ``clv``, ``p_alive``.
        """
        owner = "RetentionPlanner.plan"
        check_is_fitted(self, "scores_")
        s = self.scores_
        c = _per_customer(cost, "cost", s.index, owner)
        e = _per_customer(effect, "effect", s.index, owner)
        if not np.isfinite(c).all() or (c < 0).any():
            raise ParameterError(f"{owner}: cost must be finite and >= 0.")
        if not np.isfinite(e).all() or (e < 0).any() or (e > 1).any():
            raise ParameterError(f"{owner}: effect is the share of the churn risk removed and must lie in [0, 1].")
        if budget is not None:
            check_number(budget, "budget", owner, kind="float", low=0)
        out = s[["churn_probability", "value_if_retained", "value_at_risk"]].copy()
        out["expected_net_gain"] = e * out["value_at_risk"].to_numpy() - c
        out["cost"] = c
        out = out.assign(_o=np.arange(len(out))).sort_values(["expected_net_gain", "value_at_risk", "_o"],
                                                              ascending=[False, False, True]).drop(columns="_o")
        gain, cst = out["expected_net_gain"].to_numpy(), out["cost"].to_numpy()
        selected = gain > 0
        if budget is not None:
            left = float(budget)
            for i in np.flatnonzero(selected):
                if cst[i] <= left:
                    left -= cst[i]
                else:
                    selected[i] = False
        out["selected"] = selected
        out["rank"] = np.arange(1, len(out) + 1)
        rest = s.loc[out.index, ["churn_reasons", "value_reasons", "clv", "p_alive"]]
        return pd.concat([out, rest], axis=1)

    def report(self, path, plan=None, *, title="Retention plan"):
        """A self-contained HTML page (:func:`crmml.evaluation.report`): totals, value-at-risk curve, top of the plan."""
        import matplotlib.pyplot as plt

        from crmml.evaluation import report

        plan = self.plan() if plan is None else plan
        need = ["selected", "value_at_risk", "cost", "expected_net_gain"]
        if not isinstance(plan, pd.DataFrame) or any(c not in plan.columns for c in need) or \
                not pd.api.types.is_bool_dtype(plan["selected"].dtype):
            got = list(plan.columns)[:8] if isinstance(plan, pd.DataFrame) else type(plan).__name__
            raise DataError(f"RetentionPlanner.report: plan must be a table returned by plan() (columns {need}, "
                            f"'selected' true/false); got {got}.")
        sel = plan[plan["selected"]]
        metrics = {"customers_active": len(plan), "customers_selected": len(sel),
                   "value_at_risk_total": float(plan["value_at_risk"].sum()),
                   "value_at_risk_selected": float(sel["value_at_risk"].sum()),
                   "cost_selected": float(sel["cost"].sum()),
                   "expected_net_gain_selected": float(sel["expected_net_gain"].sum())}
        fig, ax = plt.subplots(figsize=(6, 4))
        var = np.sort(plan["value_at_risk"].to_numpy())[::-1]
        share = np.cumsum(var) / max(var.sum(), 1e-300)
        ax.plot(np.arange(1, len(var) + 1) / len(var), share, label="by value at risk")
        ax.plot([0, 1], [0, 1], ls="--", c="grey", label="random")
        ax.set(xlabel="share of active customers contacted", ylabel="share of total value at risk", title="")
        ax.legend()
        out = report(path, title=title, subtitle=f"as of {self.as_of_}; churn horizon {self.horizon_days} days, "
                                                   f"value over {self.value_horizon_days} days",
                     metrics=metrics, figures=[("Cumulative value at risk", fig)],
                     tables=[("Top of the plan", plan.head(50))],
                     notes=["value_if_retained = CLV / max(p_alive, p_alive_floor); expected_net_gain = effect x "
                            "value_at_risk - cost. The effect is an assumption unless measured by an uplift test."])
        plt.close(fig)
        return out

    def _check_loaded_state(self):
        self._check_params()
        s = self.scores_
        if not isinstance(s, pd.DataFrame) or any(c not in s.columns for c in _SCORE_COLS):
            raise ValueError(f"scores_ must be a DataFrame with the columns {_SCORE_COLS}.")
        p = s["churn_probability"].to_numpy(np.float64)
        if not (np.isfinite(p) & (p >= 0) & (p <= 1)).all():
            raise ValueError("scores_.churn_probability must lie in [0, 1].")
        if not np.isfinite(s["value_at_risk"].to_numpy(np.float64)).all():
            raise ValueError("scores_.value_at_risk must be finite.")
