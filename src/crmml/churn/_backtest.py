"""Snapshots at cutoffs and the walk-forward churn backtest."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.base import clone

from crmml._utils import MAX_HORIZON_DAYS, MAX_WINDOW_DAYS, check_as_of, check_estimator, check_number, progress
from crmml.churn._baseline import RecencyFrequencyBaseline
from crmml.churn._labels import churn_labels
from crmml.churn._model import ChurnModel
from crmml.evaluation import brier, capture_rate_at, lift_at, pr_auc, roc_auc
from crmml.exceptions import NoHistoryError, ParameterError
from crmml.features import DEFAULT_WINDOWS, compute_features
from crmml.features._build import _check_windows
from crmml.features._registry import values_before
from crmml.schema import map_frames, validate_customers, validate_events, validate_transactions

__all__ = ["BacktestResult", "backtest", "make_churn_snapshot"]


def _values_present(frame, col, before: pd.Timestamp):
    """The values of ``frame[col]`` in the rows before ``before``, sorted (a categorical column: all its categories,
    which its dtype declares); None without the column. Rows at or after ``before`` are not read."""
    if frame is None or col not in frame.columns:
        return None
    s = frame[col]
    values = s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else values_before(frame, col, before)
    return tuple(sorted({str(v) for v in values}))


def feature_columns(tx, ev, before: pd.Timestamp, event_types=None, channels=None) -> dict:
    """``event_types`` and ``channels`` of :func:`compute_features`: those given, else the values present before
    ``before`` (so the columns of a snapshot or a model fitted as of ``before`` never come from later rows)."""
    return dict(event_types=event_types if event_types is not None else _values_present(ev, "event_type", before),
                channels=channels if channels is not None else _values_present(tx, "channel", before))


class _Snapshots:
    """Features joined to labels at cutoffs, cached per cutoff and set of columns."""

    def __init__(self, tx, ev, cu, horizon_days, lookback_days, windows, event_types=None, channels=None):
        self.tx, self.ev, self.cu = tx, ev, cu
        self.h, self.lb, self.windows = horizon_days, lookback_days, windows
        self.event_types, self.channels = event_types, channels
        self._cache: dict = {}

    def columns(self, before):
        """The per-type and per-channel columns of snapshots used as of ``before`` (values present before it)."""
        return feature_columns(self.tx, self.ev, before, self.event_types, self.channels)

    def __call__(self, cutoff, kw, warn=True):
        key = (cutoff, kw["event_types"], kw["channels"])
        if key not in self._cache:
            lab = churn_labels(self.tx, cutoff, self.h, self.lb, warn=warn)
            feat = compute_features(self.tx, cutoff, self.ev, self.cu, self.windows, **kw)
            X = feat.reindex(lab.index)
            self._cache[key] = (X, lab["churned"].to_numpy())
        return self._cache[key]


def make_churn_snapshot(transactions, as_of, horizon_days: int = 45, *, lookback_days: int = 365, events=None,
                        customers=None, windows=DEFAULT_WINDOWS, event_types=None, channels=None, columns=None):
    """Features of the at-risk customers as of ``as_of`` and their churn labels.

    Returns ``(X, y)``: ``X`` is :func:`crmml.features.build_features` restricted
    to the population of :func:`make_churn_labels`, ``y`` the ``churned``
    Series (same index).

    The per-type and per-channel columns come from ``event_types`` and ``channels``; by default from the
    values present in ``events.event_type`` and ``transactions.channel`` before ``as_of`` (all categories of
    a categorical column). Pass them explicitly when computing customer partitions separately, so every part
    has the same columns (each customer's row is then bit-identical to the one of the whole base).

    ``columns`` maps your column names to canonical ones in every frame given (one dict, or one per frame
    name such as ``{"events": {...}}``; see :func:`crmml.schema.map_frames`).

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.churn import make_churn_snapshot
    >>> crm = make_synthetic_crm(n_customers=300, seed=0)
    >>> X, y = make_churn_snapshot(crm.transactions, "2024-03-01", windows=(30, 90))
    >>> X.index.equals(y.index), y.name
    (True, 'churned')
    """
    owner = "make_churn_snapshot"
    as_of = check_as_of(as_of, owner)
    check_number(horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
    check_number(lookback_days, "lookback_days", owner, low=1, high=MAX_WINDOW_DAYS)
    f = map_frames(columns, transactions=transactions, events=events, customers=customers)
    tx = validate_transactions(f["transactions"], allow_missing_amount=True)
    ev = validate_events(f["events"]) if events is not None else None
    cu = validate_customers(f["customers"]) if customers is not None else None
    for name, v in (("event_types", event_types), ("channels", channels)):
        if v is not None and (isinstance(v, str) or not all(isinstance(x, str) for x in v)):
            raise ParameterError(f"The {name!r} parameter of {owner} must be None or a sequence of str. "
                                 f"Got {v!r} instead.")
    snaps = _Snapshots(tx, ev, cu, horizon_days, lookback_days, _check_windows(windows, owner),
                       None if event_types is None else tuple(event_types),
                       None if channels is None else tuple(channels))
    X, y = snaps(as_of, snaps.columns(as_of))
    return X, pd.Series(y, index=X.index, name="churned")


@dataclass
class BacktestResult:
    """What :func:`backtest` returns.

    Attributes
    ----------
    metrics : DataFrame
        One row per (test cutoff, model) with ``n_customers``, ``churn_rate``,
        ``roc_auc``, ``pr_auc``, ``brier``, ``lift_top_decile``,
        ``capture_top_decile``, ``n_train`` and ``train_cutoffs``.
    summary : DataFrame
        Mean and standard deviation of each metric over cutoffs, per model.
    predictions : DataFrame
        Per test cutoff and customer: ``churned``, ``p_model``, ``p_baseline``.
    models : dict
        Test cutoff -> the fitted :class:`ChurnModel` (for ``explain``).
    test_features : dict
        Test cutoff -> the feature frame scored at that cutoff.

    Examples
    --------
    A full run is in :func:`backtest`; the fields:

    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(BacktestResult)]
    ['metrics', 'summary', 'predictions', 'models', 'test_features']
    """

    metrics: pd.DataFrame
    summary: pd.DataFrame
    predictions: pd.DataFrame
    models: dict = field(default_factory=dict)
    test_features: dict = field(default_factory=dict)


def _metrics(y, p):
    return {"roc_auc": roc_auc(y, p), "pr_auc": pr_auc(y, p), "brier": brier(y, p),
            "lift_top_decile": lift_at(y, p, 0.1), "capture_top_decile": capture_rate_at(y, p, 0.1)}


def backtest(transactions, cutoffs, *, horizon_days: int = 45, lookback_days: int = 365, n_train_snapshots: int = 3,
             snapshot_step_days: int | None = None, events=None, customers=None, windows=DEFAULT_WINDOWS,
             model=None, baseline=None, verbose: bool = False, columns=None) -> BacktestResult:
    """Walk-forward backtest of the churn model against the recency-frequency baseline.

    For each test cutoff ``c`` the model trains on snapshots at
    ``c - horizon_days - k * snapshot_step_days`` for ``k = 0 .. n_train_snapshots - 1``
    (cutoffs before the first transaction are skipped), so every training label
    window ``[c_k, c_k + horizon)`` ends at or before ``c``: nothing the model
    learns from is observed after the test cutoff. The latest training snapshot
    validates (early stopping, calibration). The model then scores the at-risk
    customers as of ``c`` and is compared with their labels in ``[c, c + horizon)``. The per-type and
    per-channel feature columns of cutoff ``c`` are the event types and channels present before ``c``.

    Parameters
    ----------
    transactions : DataFrame
    cutoffs : sequence of timestamps or str
        Test cutoffs; each needs ``horizon_days`` of data after it.
    horizon_days : int, default=45
    lookback_days : int, default=365
        Activity lookback defining the at-risk population (see :func:`make_churn_labels`).
    n_train_snapshots : int, default=3
    snapshot_step_days : int, optional
        Spacing of training snapshots; defaults to ``horizon_days``.
    events, customers : DataFrame, optional
    windows : sequence of int
    model : ChurnModel, optional
        Template (cloned per cutoff); default ``ChurnModel()``.
    baseline : estimator, optional
        Default :class:`RecencyFrequencyBaseline` (needs the default feature names).
    verbose : bool, default=False
    columns : dict, optional
        Your column names -> canonical names, applied to every frame given (or one dict per frame name,
        e.g. ``{"events": {...}}``); see :func:`crmml.schema.map_frames`.

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from crmml.datasets import make_synthetic_crm
    >>> from crmml.churn import ChurnModel, backtest
    >>> crm = make_synthetic_crm(n_customers=800, seed=0)
    >>> res = backtest(crm.transactions, ["2024-04-01", "2024-06-01"], windows=(30, 90, 365),
    ...                model=ChurnModel(n_estimators=30))
    >>> sorted(res.metrics["model"].unique())
    ['baseline', 'churn_model']
    """
    owner = "backtest"
    check_number(horizon_days, "horizon_days", owner, low=1, high=MAX_HORIZON_DAYS)
    check_number(lookback_days, "lookback_days", owner, low=1, high=MAX_WINDOW_DAYS)
    check_number(n_train_snapshots, "n_train_snapshots", owner, low=1, high=100)
    step = horizon_days if snapshot_step_days is None else check_number(
        snapshot_step_days, "snapshot_step_days", owner, low=1, high=MAX_HORIZON_DAYS)
    if isinstance(cutoffs, (str, pd.Timestamp)) or len(cutoffs) == 0:
        raise ParameterError(f"The 'cutoffs' parameter of backtest must be a non-empty sequence of timestamps. "
                             f"Got {cutoffs!r} instead.")
    cutoffs = sorted(check_as_of(c, owner, "cutoffs") for c in cutoffs)
    f = map_frames(columns, transactions=transactions, events=events, customers=customers)
    tx = validate_transactions(f["transactions"], allow_missing_amount=True)
    ev = validate_events(f["events"]) if events is not None else None
    cu = validate_customers(f["customers"]) if customers is not None else None
    model = ChurnModel() if model is None else model
    baseline = RecencyFrequencyBaseline() if baseline is None else baseline
    check_estimator(model, "model", owner)
    check_estimator(baseline, "baseline", owner)
    snaps = _Snapshots(tx, ev, cu, horizon_days, lookback_days, _check_windows(windows, owner))
    first = tx["timestamp"].min()

    rows, preds, models, feats = [], [], {}, {}
    for c in progress(cutoffs, verbose=verbose, desc="backtest"):
        train_c = [c - pd.Timedelta(days=horizon_days + k * step) for k in range(n_train_snapshots)]
        train_c = sorted(t for t in train_c if t > first)
        if not train_c:
            raise NoHistoryError(f"backtest: no training cutoff before {c.date()} lies after the first transaction "
                                 f"({first.date()}); use later cutoffs or a smaller horizon.")
        kw = snaps.columns(c)                     # the columns of this test cutoff: values present before it
        parts = [snaps(t, kw, warn=False) for t in train_c]
        Xtr = pd.concat([p[0] for p in parts])
        ytr = np.concatenate([p[1] for p in parts])
        ttr = np.concatenate([np.full(len(p[1]), np.datetime64(t.to_datetime64())) for p, t in zip(parts, train_c)])
        Xte, yte = snaps(c, kw)
        m = clone(model).fit(Xtr, ytr, time=ttr)
        b = clone(baseline).fit(Xtr, ytr)
        pm, pb = m.predict_proba(Xte)[:, 1], b.predict_proba(Xte)[:, 1]
        for name, p in (("churn_model", pm), ("baseline", pb)):
            rows.append({"cutoff": c, "model": name, "n_customers": len(yte), "churn_rate": float(yte.mean()),
                         **_metrics(yte, p), "n_train": len(ytr),
                         "train_cutoffs": ", ".join(str(t.date()) for t in train_c)})
        preds.append(pd.DataFrame({"cutoff": c, "customer_id": Xte.index, "churned": yte,
                                   "p_model": pm, "p_baseline": pb}))
        models[c], feats[c] = m, Xte
    metrics = pd.DataFrame(rows)
    cols = ["roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile"]
    summary = metrics.groupby("model")[cols].agg(["mean", "std"])
    summary = summary.loc[["churn_model", "baseline"]]
    return BacktestResult(metrics=metrics, summary=summary, predictions=pd.concat(preds, ignore_index=True),
                          models=models, test_features=feats)
