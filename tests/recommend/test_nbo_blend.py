"""NextBestOffer learns its blend on a time split of the history it is given (blend="auto")."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmml.recommend import NextBestOffer, evaluate_recommendations
from crmml.recommend._blend import HALF_LIVES


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


@pytest.mark.parametrize("split", ["2024-09-01", "2024-10-01"])
def test_the_blend_learned_on_a_time_split_beats_the_configured_one(staples, split):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fixed = evaluate_recommendations(NextBestOffer(blend="fixed"), staples, split, horizon_days=30)
        auto = evaluate_recommendations(NextBestOffer(), staples, split, horizon_days=30, baselines=False)
    p_fixed, p_auto = fixed.loc["NextBestOffer", "precision"], auto.loc["NextBestOffer", "precision"]
    p_past = fixed.loc["past_purchases", "precision"]
    print(f"\n{split}: precision@10 configured {p_fixed:.4f}, learned {p_auto:.4f}, past purchases {p_past:.4f}")
    assert p_fixed < p_past                       # the configured blend loses to the baseline on this log
    assert p_auto >= p_fixed + 0.005              # the learned one recovers the gap...
    assert p_auto >= p_past - 0.002               # ...to within noise of the baseline


def test_the_chosen_weights_are_the_best_validated_and_are_what_recommend_uses(staples):
    hist = staples[staples["timestamp"] < "2024-09-01"]
    m = NextBestOffer().fit(hist, as_of="2024-09-01")
    sel = m.blend_selection_
    weights_rows = sel[sel["half_life_days"] == 90.0]
    assert len(weights_rows) == 13 and len(sel) == 16 and sel["chosen"].sum() == 1    # + 3 other half-lives
    assert sel.loc[sel["chosen"], "precision"].iloc[0] == sel["precision"].max()
    assert {"configured", "repurchase only", "item similarity only", "popularity only",
            "past purchases"} <= set(sel.index)
    # the half-lives are tried for the best weighting at the configured half-life
    best = weights_rows["precision"].idxmax()
    tried = sel.drop(weights_rows.index)
    assert sorted(tried["half_life_days"]) == [30.0, 365.0, 3650.0]
    assert all(name.startswith(best + ", half-life") for name in tried.index)
    assert m.half_life_days_ == sel.loc[sel["chosen"], "half_life_days"].iloc[0]
    assert m.blend_validation_.startswith("time split: fitted before 2024-08-02")
    w = m.weights_
    assert w[3] == 0                              # a blend of the three components at this split
    same = NextBestOffer(blend="fixed", cooccurrence_weight=w[0], repurchase_weight=w[1], popularity_weight=w[2],
                         half_life_days=m.half_life_days_).fit(hist, as_of="2024-09-01")
    assert same.half_life_days_ == m.half_life_days_
    ids = m.customers_[:50]
    pd.testing.assert_frame_equal(m.recommend(ids, k=5), same.recommend(ids, k=5))
    assert (m.affinity_ != same.affinity_).nnz == 0


def test_validation_affinity_rows_equal_a_whole_fit_at_that_half_life(staples):
    """Only the validation customers' affinity is recomputed per half-life: their rows equal a whole fit's."""
    from crmml.recommend._blend import _validation_occasions
    from crmml.recommend._matrices import affinity_matrices

    hist = staples[staples["timestamp"] < "2024-08-02"]
    split = pd.Timestamp("2024-08-02")
    inner = NextBestOffer(blend="fixed").fit(hist, as_of=split)
    customers = inner.customers_[::7]
    rows = inner.customers_.get_indexer(customers)
    for h in (30.0, 90.0, 3650.0):
        whole = NextBestOffer(blend="fixed", half_life_days=h).fit(hist, as_of=split).affinity_
        occ = _validation_occasions(inner, hist, customers)
        ours = affinity_matrices(occ, int(split.value), h, inner.affinity_.shape)[0]
        assert (ours[rows] != whole[rows]).nnz == 0
        np.testing.assert_array_equal(ours[rows].toarray(), whole[rows].toarray())
        others = np.setdiff1d(np.arange(len(inner.customers_)), rows)
        assert ours[others].nnz == 0


def test_the_inner_fit_for_some_customers_equals_a_whole_fit_on_their_rows(staples):
    """The blend's inner fit builds customer rows for the validation customers only: each equal to a whole fit's."""
    from crmml.recommend._matrices import purchase_rows

    split = pd.Timestamp("2024-08-02")
    hist = staples[staples["timestamp"] < split]
    whole = NextBestOffer(blend="fixed").fit(hist, as_of=split)
    customers = whole.customers_[::5]
    rows = purchase_rows(hist.assign(timestamp=pd.to_datetime(hist["timestamp"])))
    part = NextBestOffer(blend="fixed")._fit_purchases(rows, None, split, affinity_customers=customers)
    r = whole.customers_.get_indexer(customers)
    others = np.setdiff1d(np.arange(len(whole.customers_)), r)
    for name in ("affinity_", "n_purchases_", "last_age_"):
        a, b = getattr(whole, name), getattr(part, name)
        np.testing.assert_array_equal(b[r].toarray(), a[r].toarray())
        assert b[others].nnz == 0
    assert (part.similarity_ != whole.similarity_).nnz == 0
    np.testing.assert_array_equal(part.popularity_, whole.popularity_)


def test_the_half_life_is_learned_from_what_customers_rebuy():
    """Ten long-run favourites bought for ten months, then a month of ten other products: customers who go back to
    their favourites make a long half-life win, customers who stay with the new products the 30-day one."""
    start = pd.Timestamp("2024-01-01")

    def log(stay_with_new, seed=3):
        rng = np.random.default_rng(seed)
        rows = []
        for c in range(300):
            old, new = np.split(rng.choice(400, 20, replace=False), 2)
            visits = [(d, old) for d in range(0, 300, 10)] + [(d, new) for d in range(300, 330, 5)]
            visits += [(d, new if stay_with_new else old) for d in range(330, 365, 7)]
            for d, products in visits:
                rows += [(c, start + pd.Timedelta(days=d), f"p{p}", f"{c}-{d}")
                         for p in rng.choice(products, 3, replace=False)]
        out = pd.DataFrame(rows, columns=["customer_id", "timestamp", "product_id", "transaction_id"])
        return out.assign(amount=1.0)

    fits = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, stay in (("loyal", False), ("movers", True)):
            fits[name] = NextBestOffer(blend_validation_days=35).fit(log(stay), as_of=start + pd.Timedelta(days=365))
    for m in fits.values():
        sel = m.blend_selection_
        assert sel.loc[sel["chosen"], "precision"].iloc[0] == sel["precision"].max()
    movers = fits["movers"].blend_selection_
    assert fits["movers"].half_life_days_ == 30.0
    assert movers.loc[movers["half_life_days"] == 3650.0, "precision"].max() < movers["precision"].max() - 0.05
    assert fits["loyal"].half_life_days_ >= 90.0


@pytest.mark.parametrize("configured", [200.0, 365.0])
def test_when_every_half_life_ties_the_configured_one_is_kept(configured):
    """README: ties keep the configured half-life. Each validation customer bought one product once before the held-out
    days, so their normalised affinity is exactly 1 at any half-life: every half-life ranks bit for bit the same."""
    rng = np.random.default_rng(4)
    start, as_of = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-12-01")
    rows = []
    for c in range(200):                           # background: multi-product baskets give the item similarity
        for d in rng.choice(300, 6, replace=False):
            rows += [(f"b{c}", start + pd.Timedelta(days=int(d)), f"p{p}", f"b{c}-{d}")
                     for p in rng.choice(40, 3, replace=False)]
    for c in range(120):                           # validation customers: one old purchase, then the held-out days
        first = int(rng.integers(0, 300))
        rows.append((f"v{c}", start + pd.Timedelta(days=first), f"p{rng.integers(40)}", f"v{c}-0"))
        rows += [(f"v{c}", as_of - pd.Timedelta(days=1), f"p{p}", f"v{c}-1") for p in rng.choice(40, 3, replace=False)]
    tx = pd.DataFrame(rows, columns=["customer_id", "timestamp", "product_id", "transaction_id"]).assign(amount=1.0)
    m = NextBestOffer(half_life_days=configured).fit(tx, as_of=as_of)
    sel = m.blend_selection_
    best_weights = sel[sel["half_life_days"] == configured]["precision"].idxmax()
    ties = sel[sel.index.str.startswith(best_weights)]
    assert sorted(ties["half_life_days"]) == sorted({configured, *HALF_LIVES})        # every half-life was scored
    assert ties["precision"].nunique() == 1 and ties["precision"].iloc[0] > 0, ties  # and all tie
    assert m.half_life_days_ == configured
    assert sel.loc[sel["chosen"], "half_life_days"].tolist() == [configured]


def test_the_blend_learned_on_a_second_thread_is_the_same(staples):
    """n_jobs != 1 learns the blend beside the main fit: the same selection table, weights and recommendations."""
    hist = staples[staples["timestamp"] < "2024-09-01"]
    one = NextBestOffer().fit(hist, as_of="2024-09-01")
    two = NextBestOffer(n_jobs=2).fit(hist, as_of="2024-09-01")
    pd.testing.assert_frame_equal(two.blend_selection_, one.blend_selection_, check_exact=True)
    assert two.blend_validation_ == one.blend_validation_
    np.testing.assert_array_equal(two.weights_, one.weights_)
    assert two.half_life_days_ == one.half_life_days_
    assert (two.affinity_ != one.affinity_).nnz == 0
    pd.testing.assert_frame_equal(two.recommend(k=5), one.recommend(k=5), check_exact=True)


def test_too_little_held_out_history_keeps_the_configured_weights(staples):
    few = staples[staples["customer_id"] < 10]
    m = NextBestOffer(popularity_weight=0.3).fit(few)
    assert list(m.weights_) == [1.0, 1.0, 0.3, 0.0] and len(m.blend_selection_) == 0
    assert m.half_life_days_ == 90.0 and "half_life_days" in m.blend_selection_.columns
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
    m.weights_ = np.array([1.0, 1.0, 0.5])
    for bad in (float("nan"), -1.0, 0.0, 1e9, "90"):
        m.half_life_days_ = bad
        with pytest.raises(ValueError, match="half_life_days_ must be a float"):
            m._check_loaded_state()


def test_a_gap_before_the_internal_split_is_not_the_users_warning(staples):
    """The blend's held-out split is crmml's: data missing just before it raises no AsOfWarning (the user's as_of,
    checked by the outer fit, still does)."""
    from crmml._time import AsOfWarning

    as_of = pd.Timestamp("2024-09-01")
    split = as_of - pd.Timedelta(days=30)
    gap = staples[(staples["timestamp"] < split - pd.Timedelta(days=5)) | (staples["timestamp"] >= split)]
    gap = gap[gap["timestamp"] < as_of]
    with warnings.catch_warnings():
        warnings.simplefilter("error", AsOfWarning)
        NextBestOffer().fit(gap, as_of=as_of)
    with pytest.warns(AsOfWarning):
        NextBestOffer().fit(gap[gap["timestamp"] < as_of - pd.Timedelta(days=5)], as_of=as_of)
