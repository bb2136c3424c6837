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


LEADS_AS_OF = "2025-01-01"


@pytest.fixture(scope="module")
def lead_and_offer_models(base):
    from crmml.recommend import NextBestOffer
    from crmml.scoring import LeadScorer

    crm = base[0]
    return (LeadScorer(random_state=0).fit(crm.leads, crm.lead_events, as_of=LEADS_AS_OF),
            NextBestOffer().fit(crm.transactions, as_of=AS_OF))


@settings(max_examples=4, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n_parts=st.integers(2, 6), seed=st.integers(0, 2 ** 32 - 1))
def test_lead_scores_and_offers_of_a_partition_equal_the_whole(base, lead_and_offer_models, n_parts, seed):
    crm = base[0]
    scorer, nbo = lead_and_offer_models
    rng = np.random.default_rng(seed)
    leads, lev = crm.leads, crm.lead_events
    whole = scorer.score_leads(leads, lev, as_of=LEADS_AS_OF)
    part = rng.integers(0, n_parts, len(leads))
    got = [scorer.score_leads(leads[part == p].sample(frac=1.0, random_state=int(p)),       # one row per lead
                              lev[lev["lead_id"].isin(leads["lead_id"][part == p])], as_of=LEADS_AS_OF)
           for p in np.unique(part)]
    pd.testing.assert_frame_equal(pd.concat(got).sort_index(), whole, check_exact=True, obj="score_leads")

    ids = np.append(crm.customers["customer_id"].to_numpy(), [10 ** 9])       # with a cold-start customer
    whole = nbo.recommend(ids, k=5)
    part = rng.integers(0, n_parts, len(ids))
    got = pd.concat([nbo.recommend(rng.permutation(ids[part == p]), k=5) for p in np.unique(part)])
    key = ["customer_id", "rank"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  whole.sort_values(key).reset_index(drop=True), check_exact=True, obj="recommend")


def test_cli_churn_batches_with_a_channel_missing_from_a_part(base, tmp_path, monkeypatch):
    """The model's channel columns are built for every part, even one where a channel never occurs: the
    feature rows the model sees (and so the scores) are the same with and without ``--batch``."""
    from crmml.churn import ChurnModel
    from crmml.cli import main

    crm = base[0]
    tx = crm.transactions.copy()
    tx["channel"] = tx["channel"].astype(str)
    first = tx["customer_id"].drop_duplicates().iloc[:20]
    tx.loc[tx["customer_id"].isin(first), "channel"] = "store"         # the first parts have no 'online' row
    path, model = tmp_path / "tx.parquet", tmp_path / "churn.zip"
    tx.to_parquet(path, index=False)
    assert main(["--quiet", "train", "churn", "--input", str(path), "--model", str(model),
                 "--as-of", "2024-10-01"]) == 0
    seen: list = []
    real = ChurnModel.predict_risk
    monkeypatch.setattr(ChurnModel, "predict_risk", lambda self, X: seen.append(X) or real(self, X))
    outs, feats = {}, {}
    for batch in (None, 7):
        seen.clear()
        out = tmp_path / f"s{batch}.parquet"
        assert main(["--quiet", "score", "--model", str(model), "--input", str(path), "--output", str(out),
                     "--as-of", "2024-10-01"] + ([] if batch is None else ["--batch", str(batch)])) == 0
        outs[batch] = pd.read_parquet(out).sort_values("customer_id").reset_index(drop=True)
        feats[batch] = pd.concat(seen).sort_index()
    assert feats[None].filter(like="channel_online_share").notna().any().all()
    pd.testing.assert_frame_equal(feats[7], feats[None], check_exact=True)
    pd.testing.assert_frame_equal(outs[7], outs[None], check_exact=True)
