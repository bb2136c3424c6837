"""NextBestOffer learns its blend on a time split of the history it is given (blend="auto")."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmml.recommend import NextBestOffer, evaluate_recommendations


def _staples(n_customers=600, n_products=300, seed=0):
    """A grocery-like log: each customer rebuys a personal set of 8 staples and now and then tries something
    popular, so what they buy next is mostly what they bought before (repurchase beats co-occurrence)."""
    rng = np.random.default_rng(seed)
    pop = rng.dirichlet(np.full(n_products, 0.3))
    rows = []
    for c in range(n_customers):
        own = rng.choice(n_products, 8, replace=False, p=pop)
        pref = rng.dirichlet(np.ones(8))
        for d in np.sort(rng.choice(300, rng.integers(15, 40), replace=False)):
            basket = set(rng.choice(own, rng.integers(1, 4), p=pref).tolist())
            if rng.random() < 0.2:
                basket.add(int(rng.choice(n_products, p=pop)))
            rows += [(c, pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(d)), f"p{p}", 1.0, f"{c}-{d}")
                     for p in basket]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "product_id", "amount", "transaction_id"])


@pytest.fixture(scope="module")
def staples():
    return _staples()


def test_the_blend_learned_on_a_time_split_beats_the_configured_one(staples):
    split = "2024-09-01"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = evaluate_recommendations(NextBestOffer(blend="fixed"), staples, split, horizon_days=30)
        auto = evaluate_recommendations(NextBestOffer(), staples, split, horizon_days=30, baselines=False)
    p_fixed, p_auto = fixed.loc["NextBestOffer", "precision"], auto.loc["NextBestOffer", "precision"]
    p_past = fixed.loc["past_purchases", "precision"]
    print(f"\nprecision@10 configured {p_fixed:.4f}, learned {p_auto:.4f}, past purchases {p_past:.4f}")
    assert p_fixed < p_past                       # the configured blend loses to the baseline on this log
    assert p_auto >= p_fixed + 0.005              # the learned one recovers the gap...
    assert p_auto >= p_past - 0.002               # ...to within noise of the baseline


def test_the_chosen_weights_are_the_best_validated_and_are_what_recommend_uses(staples):
    hist = staples[staples["timestamp"] < "2024-09-01"]
    m = NextBestOffer().fit(hist, as_of="2024-09-01")
    sel = m.blend_selection_
    assert len(sel) == 13 and sel["chosen"].sum() == 1
    assert sel.loc[sel["chosen"], "precision"].iloc[0] == sel["precision"].max()
    assert {"configured", "repurchase only", "item similarity only", "popularity only",
            "past purchases"} <= set(sel.index)
    assert m.blend_validation_.startswith("time split: fitted before 2024-08-02")
    w = m.weights_
    assert w[3] == 0                              # a blend of the three components at this split
    same = NextBestOffer(blend="fixed", cooccurrence_weight=w[0], repurchase_weight=w[1],
                         popularity_weight=w[2]).fit(hist, as_of="2024-09-01")
    ids = m.customers_[:50]
    pd.testing.assert_frame_equal(m.recommend(ids, k=5), same.recommend(ids, k=5))


def test_the_blend_learned_on_a_second_thread_is_the_same(staples):
    """n_jobs != 1 learns the blend beside the main fit: the same selection table, weights and recommendations."""
    hist = staples[staples["timestamp"] < "2024-09-01"]
    one = NextBestOffer().fit(hist, as_of="2024-09-01")
    two = NextBestOffer(n_jobs=2).fit(hist, as_of="2024-09-01")
    pd.testing.assert_frame_equal(two.blend_selection_, one.blend_selection_, check_exact=True)
    assert two.blend_validation_ == one.blend_validation_
    np.testing.assert_array_equal(two.weights_, one.weights_)
    pd.testing.assert_frame_equal(two.recommend(k=5), one.recommend(k=5), check_exact=True)


def test_too_little_held_out_history_keeps_the_configured_weights(staples):
    few = staples[staples["customer_id"] < 10]
    m = NextBestOffer(popularity_weight=0.3).fit(few)
    assert list(m.weights_) == [1.0, 1.0, 0.3, 0.0] and len(m.blend_selection_) == 0
    assert "20 needed to learn the blend" in m.blend_validation_
    assert NextBestOffer(blend="fixed").fit(few).blend_validation_ == "fixed: the configured weights"


def test_blend_parameters_and_a_tampered_file_are_refused(staples):
    with pytest.raises(ValueError, match="'blend' parameter of NextBestOffer must be one of"):
        NextBestOffer(blend="learned").fit(staples)
    with pytest.raises(ValueError, match="'blend_validation_days' parameter of NextBestOffer"):
        NextBestOffer(blend_validation_days=0).fit(staples)
    m = NextBestOffer(blend="fixed").fit(staples[staples["customer_id"] < 50])
    m.weights_ = np.array([np.nan, 1.0, 1.0])
    with pytest.raises(ValueError, match="weights_ must be 3 or 4 finite non-negative numbers"):
        m._check_loaded_state()
