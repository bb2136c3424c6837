"""Partition-exact: every per-customer result computed on any subset of customers (in any customer order) equals,
bit for bit, that customer's rows of the result on the whole base (DESIGN.md, "Scale").

A partition draws a part for every customer and interleaves the customers' rows at random, keeping each
customer's own rows in their order (the documented order within a customer: by timestamp, ties in the order
given). Results of the parts, concatenated and sorted by customer, are compared with ``check_exact=True``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from crmml.churn import ChurnModel, make_churn_labels, make_churn_snapshot
from crmml.clv import CLVModel, calibration_holdout, summarize
from crmml.datasets import make_synthetic_crm
from crmml.features import build_features
from crmml.segmentation import CustomerClusterer, RFMSegmenter, rfm_table

AS_OF = pd.Timestamp("2024-09-01")
CAL_END, OBS_END = pd.Timestamp("2024-06-01"), pd.Timestamp("2024-12-31")


@pytest.fixture(scope="module")
def base():
    crm = make_synthetic_crm(n_customers=160, seed=11)
    tx, ev, cu = crm.transactions, crm.events, crm.customers
    kw = dict(event_types=tuple(ev["event_type"].cat.categories), channels=tuple(tx["channel"].cat.categories))
    X, y = make_churn_snapshot(tx, AS_OF, 45, events=ev, customers=cu, **kw)
    rfm = rfm_table(tx, AS_OF)
    models = {
        "churn": ChurnModel(n_estimators=20, random_state=0, n_jobs=1).fit(X, y.to_numpy()),
        "clv": CLVModel(horizon_days=180).fit(tx, as_of=AS_OF),
        "rfm": RFMSegmenter().fit(rfm),
        "clusters": CustomerClusterer(n_clusters=3, random_state=0).fit(rfm),
    }
    return crm, kw, models


def _results(tx, ev, cu, kw, models):
    """Every per-customer result on one set of customers, by name."""
    feats = build_features(tx, AS_OF, ev, cu, **kw)
    X, _ = make_churn_snapshot(tx, AS_OF, 45, events=ev, customers=cu, **kw)
    rfm = rfm_table(tx, AS_OF)
    clv = models["clv"]
    return {
        "build_features": feats,
        "build_features_float32_1job": build_features(tx, AS_OF, ev, cu, dtype="float32", n_jobs=1, **kw),
        "rfm_table": rfm,
        "summarize": summarize(tx, AS_OF),
        "summarize_W_tx": summarize(tx, AS_OF, freq="W", occasion="transaction"),
        "calibration_holdout": calibration_holdout(tx, CAL_END, OBS_END),
        "make_churn_labels": make_churn_labels(tx, AS_OF, 45),
        "make_churn_snapshot": X,
        "churn_risk": models["churn"].predict_risk(X).to_frame(),
        "clv_predict": clv.predict(tx, as_of=AS_OF),
        "clv_interval": clv.predict_interval(tx, as_of=AS_OF, n_draws=30, random_state=5),
        "rfm_segments": models["rfm"].transform(rfm),
        "clusters": models["clusters"].transform(rfm),
    }


def _interleave(frame, rng):
    """Rows of ``frame`` with customers interleaved at random, each customer's rows kept in their order."""
    slots = rng.permutation(len(frame))                      # a random customer order of the slots ...
    cust = frame["customer_id"].to_numpy()[slots]
    k_slot = pd.Series(cust).groupby(cust).cumcount().to_numpy()
    k_row = frame.groupby("customer_id", sort=False).cumcount().to_numpy()
    # ... then the k-th slot of a customer takes that customer's k-th row
    row_of = pd.Series(np.arange(len(frame)), index=pd.MultiIndex.from_arrays([frame["customer_id"].to_numpy(),
                                                                               k_row]))
    take = row_of.loc[pd.MultiIndex.from_arrays([cust, k_slot])].to_numpy()
    return frame.iloc[take]


def _parts(crm, part_of, rng):
    for p in np.unique(list(part_of.values())):
        ids = [c for c, q in part_of.items() if q == p]
        yield tuple(_interleave(f[f["customer_id"].isin(ids)], rng)
                    for f in (crm.transactions, crm.events, crm.customers))


# no shrinking phase: a failing partition is reported as drawn (shrinking re-runs every model many times)
@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_parts=st.integers(2, 6), seed=st.integers(0, 2 ** 32 - 1))
def test_partitions_equal_the_whole_bit_for_bit(base, n_parts, seed):
    crm, kw, models = base
    whole = _results(crm.transactions, crm.events, crm.customers, kw, models)
    rng = np.random.default_rng(seed)
    ids = crm.customers["customer_id"].to_numpy()
    part_of = dict(zip(ids.tolist(), rng.integers(0, n_parts, len(ids)).tolist()))
    got: dict = {k: [] for k in whole}
    for tx, ev, cu in _parts(crm, part_of, rng):
        if tx.empty:
            continue
        for k, v in _results(tx, ev, cu, kw, models).items():
            got[k].append(v)
    for name, w in whole.items():
        parts = pd.concat([g for g in got[name] if len(g)]).sort_index(kind="stable")
        pd.testing.assert_frame_equal(parts, w, check_exact=True, obj=name)
        assert parts.index.equals(w.index), name       # every customer, exactly once


def test_row_order_within_the_base_does_not_matter(base):
    """The whole base with customers interleaved gives the same features, labels and scores (bit for bit)."""
    crm, kw, models = base
    whole = _results(crm.transactions, crm.events, crm.customers, kw, models)
    rng = np.random.default_rng(0)
    shuffled = _results(*(_interleave(f, rng) for f in (crm.transactions, crm.events, crm.customers)), kw, models)
    for name, w in whole.items():
        pd.testing.assert_frame_equal(shuffled[name], w, check_exact=True, obj=name)
