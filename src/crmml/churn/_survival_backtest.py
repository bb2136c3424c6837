"""Walk-forward evaluation of TimeToChurnModel beside Cox, Kaplan-Meier and the 45-day ChurnModel."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmml._time import shift_days
from crmml._utils import check_as_of, check_number, progress
from crmml.churn._backtest import feature_columns
from crmml.churn._cox import CoxBaseline
from crmml.churn._labels import churn_labels
from crmml.churn._model import ChurnModel
from crmml.churn._survival import TimeToChurnModel, _time_to_event
from crmml.evaluation import concordance_index, integrated_brier_score, kaplan_meier, roc_auc
from crmml.exceptions import DataError, ParameterError
from crmml.features import compute_features
from crmml.schema import validate_customers, validate_events, validate_transactions

__all__ = ["survival_backtest"]


def survival_backtest(transactions, cutoffs, *, model=None, churn_model=None, horizon_days: int = 45,
                      n_churn_snapshots: int = 3, events=None, customers=None, verbose: bool = False) -> pd.DataFrame:
    """Concordance, integrated Brier score and horizon ROC-AUC of the survival model at each test cutoff.

    At each cutoff ``c`` a clone of ``model`` is fitted as of ``c`` (snapshots before ``c``; see
    :class:`TimeToChurnModel`) and a :class:`CoxBaseline` on log recency and frequency is fitted on the
    same training rows; Kaplan-Meier (one curve for everyone) is the naive baseline. The customers active
    at ``c`` are followed to the end of the data (at most ``model.max_days``): ``concordance`` compares
    the predicted restricted mean time to the next purchase (Cox: minus the relative hazard) with the
    observed order; ``ibs`` is the IPCW integrated Brier score over the period boundaries inside the
    follow-up. ``roc_auc_<h>d`` scores the churn label at ``horizon_days`` (``S(h)`` for the survival models);
    the row ``churn_model`` is a clone of ``churn_model`` trained as :func:`crmml.churn.backtest` does
    (``n_churn_snapshots`` snapshots ending at ``c``) on the same customers.

    ``verbose=True`` shows a progress bar (stderr) over the cutoffs; models constructed with ``verbose=True``
    add a bar of their own fits below it. The results are the same either way.

    Returns
    -------
    DataFrame
        One row per (cutoff, model): ``n_customers``, ``event_rate``, ``concordance``, ``ibs``,
        ``roc_auc_<h>d`` (NaN where a model does not give the metric; ``roc_auc_<h>d`` also when every test
        customer, or none, churned at ``horizon_days``). A cutoff whose customers are all censored (nobody bought
        again) has nothing to evaluate: a ``DataError`` says so.

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> crm = make_synthetic_crm(n_customers=600, seed=0, with_events=False)
    >>> res = survival_backtest(crm.transactions, ["2024-06-01"],
    ...                         model=TimeToChurnModel(n_estimators=30, windows=(30, 90, 365)),
    ...                         churn_model=ChurnModel(n_estimators=30, min_child_weight=1))
    >>> sorted(res["model"])
    ['churn_model', 'cox', 'kaplan_meier', 'time_to_churn']
    """
    owner = "survival_backtest"
    model = TimeToChurnModel() if model is None else model
    churn_model = ChurnModel() if churn_model is None else churn_model
    check_number(horizon_days, "horizon_days", owner, low=1, high=model.max_days)
    check_number(n_churn_snapshots, "n_churn_snapshots", owner, low=1, high=100)
    if isinstance(cutoffs, (str, pd.Timestamp)) or len(cutoffs) == 0:
        raise ParameterError(f"The 'cutoffs' parameter of {owner} must be a non-empty sequence of timestamps. "
                             f"Got {cutoffs!r} instead.")
    tx = validate_transactions(transactions, allow_missing_amount=True)
    ev = validate_events(events) if events is not None else None
    cu = validate_customers(customers) if customers is not None else None
    end = shift_days(tx["timestamp"].max().normalize(), 1)
    h = int(horizon_days)
    auc_col = f"roc_auc_{h}d"
    cache = {}

    def snapshot(c, kw):                 # shared by the survival and churn models and across test cutoffs
        key = (c, kw["event_types"], kw["channels"])
        if key not in cache:
            cache[key] = compute_features(tx, c, ev, cu, tuple(model.windows), **kw)
        return cache[key]

    rows = []
    for c in progress(sorted(check_as_of(x, owner, "cutoffs") for x in cutoffs), verbose=verbose, desc=owner):
        if shift_days(c, h) > end:                # held at pandas' last instant near 2262-04-11
            raise DataError(f"{owner}: cutoff {c.date()} leaves less than {h} days of data (data end {end.date()}).")
        kw = feature_columns(tx, ev, c)          # the columns of this test cutoff: values present before it

        def features(s, kw=kw):
            return snapshot(s, kw)

        m = clone(model)
        Xtr, tt = m._fit_validated(tx, ev, cu, c, owner, features=features)
        cox = CoxBaseline().fit(Xtr, tt["duration_days"], tt["event"])
        target = _time_to_event(tx, c, end, m.lookback_days, m.max_days).reindex(m.features_.index)
        t, e = target["duration_days"].to_numpy(), target["event"].to_numpy()
        if not e.any():
            raise DataError(f"{owner}: none of the {len(e):,} customers active at cutoff {c.date()} bought again "
                            f"before the data end ({end.date()}) or within max_days; concordance and Brier score "
                            "need observed next purchases. Use an earlier cutoff.")
        churned = (t >= h).astype(int)
        grid = np.arange(m.period_days, float(t.max()), m.period_days)
        grid = grid[grid < t.max()]
        s_model = m.predict_survival(days=grid).to_numpy()
        s_cox = cox.predict_survival(m.features_, grid).to_numpy()
        km_t, km_s = kaplan_meier(tt["duration_days"], tt["event"])
        i = np.searchsorted(km_t, grid, side="right") - 1
        s_km = np.tile(np.where(i >= 0, km_s[np.clip(i, 0, None)], 1.0), (len(t), 1))
        p_model = m.predict_survival(days=[h]).iloc[:, 0].to_numpy()
        p_cox = cox.predict_survival(m.features_, [h]).iloc[:, 0].to_numpy()
        cm = _churn_model_auc(tx, c, h, m, churn_model, n_churn_snapshots, churned, features)
        base = {"cutoff": c, "n_customers": len(t), "event_rate": float(e.mean())}
        rows += [
            {**base, "model": "time_to_churn", "concordance": concordance_index(t, m.predict_expected_days(), e),
             "ibs": integrated_brier_score(t, e, s_model, grid), auc_col: roc_auc(churned, p_model)},
            {**base, "model": "cox", "concordance": concordance_index(t, -cox.predict_risk(m.features_), e),
             "ibs": integrated_brier_score(t, e, s_cox, grid), auc_col: roc_auc(churned, p_cox)},
            {**base, "model": "kaplan_meier", "concordance": 0.5, "ibs": integrated_brier_score(t, e, s_km, grid),
             auc_col: 0.5},
            {**base, "model": "churn_model", "concordance": np.nan, "ibs": np.nan, auc_col: cm},
        ]
    return pd.DataFrame(rows)


def _churn_model_auc(tx, c, h, m, churn_model, n_snap, churned, features):
    """ROC-AUC of a ChurnModel trained as crmml.churn.backtest does, on the survival model's test customers."""
    first = tx["timestamp"].min()
    cuts = [c - pd.Timedelta(days=h * (k + 1)) for k in range(n_snap)]
    cuts = [x for x in cuts if x > first]
    labels = [churn_labels(tx, x, h, m.lookback_days, warn=False)["churned"] for x in cuts]
    X = pd.concat([features(x).reindex(lab.index) for x, lab in zip(cuts, labels)])
    y = np.concatenate([lab.to_numpy() for lab in labels])
    time = np.concatenate([np.full(len(lab), np.datetime64(x.to_datetime64())) for lab, x in zip(labels, cuts)])
    fitted = clone(churn_model).fit(X, y, time=time)
    return roc_auc(churned, fitted.predict_proba(m.features_[list(X.columns)])[:, 1])
