"""NextBestOffer: output contract and every business rule checked on every recommended row."""

import copy

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from crmml.recommend import NextBestOffer

K = 10


@pytest.fixture(scope="module")
def crm(synthetic_crm):
    tx = synthetic_crm.transactions
    as_of = synthetic_crm.start + pd.Timedelta(days=500)
    products = synthetic_crm.products.copy()
    rng = np.random.default_rng(0)
    products["in_stock"] = rng.random(len(products)) > 0.2
    products["allowed_region"] = rng.random(len(products)) > 0.1
    products["description"] = "item " + products["product_id"].astype(str)
    hist = tx[tx["timestamp"] < as_of]
    customers = pd.unique(hist.loc[hist["amount"] > 0, "customer_id"])[:800]
    return {"tx": tx, "as_of": as_of, "products": products, "hist": hist, "customers": customers}


@pytest.fixture(scope="module")
def default_recs(crm):
    m = NextBestOffer().fit(crm["tx"], crm["products"], as_of=crm["as_of"])
    return m, m.recommend(crm["customers"], k=K)


def _last_purchase_age(hist, as_of):
    buy = hist[hist["amount"] > 0]
    last = buy.groupby(["customer_id", "product_id"])["timestamp"].max()
    return ((as_of - last).dt.total_seconds() / 86400).rename("age_days")


def test_output_contract(default_recs, crm):
    _, recs = default_recs
    assert list(recs.columns) == ["customer_id", "rank", "product_id", "score", "reason"]
    assert set(recs["customer_id"]) == set(crm["customers"])
    g = recs.groupby("customer_id")
    assert (g.size() <= K).all() and (g.size() == K).mean() > 0.95
    assert (g["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    assert (g["score"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert not recs.duplicated(["customer_id", "product_id"]).any()
    assert (recs["score"] > 0).all()
    # customers come out in the order asked
    assert list(pd.unique(recs["customer_id"])) == list(crm["customers"])


def test_reasons_are_readable(default_recs):
    _, recs = default_recs
    assert recs["reason"].str.len().min() > 10
    co = recs["reason"].str.extract(r"^bought (.+); customers who buy (.+) also buy (.+)$")
    hit = co[0].notna()
    assert hit.any(), "no co-occurrence reason at all"
    assert (co.loc[hit, 0] == co.loc[hit, 1]).all()
    assert (co.loc[hit, 2] == "item " + recs.loc[hit, "product_id"].astype(str)).all()
    assert (co.loc[hit, 0] != co.loc[hit, 2]).all()
    assert recs["reason"].str.match(r"^(bought |item \d+ is popular)").all()


def test_rule_exclude_recent_window(crm):
    days = 60
    m = NextBestOffer(exclude_recent_days=days).fit(crm["tx"], as_of=crm["as_of"])
    recs = m.recommend(crm["customers"], k=K)
    age = _last_purchase_age(crm["hist"], crm["as_of"])
    joined = recs.join(age, on=["customer_id", "product_id"])
    assert not (joined["age_days"] < days).any()
    # the rule bites: without it some recent purchases are recommended
    base = NextBestOffer().fit(crm["tx"], as_of=crm["as_of"]).recommend(crm["customers"], k=K)
    assert (base.join(age, on=["customer_id", "product_id"])["age_days"] < days).any()


def test_rule_never_repurchase(crm):
    m = NextBestOffer(repurchase="never").fit(crm["tx"], as_of=crm["as_of"])
    recs = m.recommend(crm["customers"], k=K)
    bought = crm["hist"][crm["hist"]["amount"] > 0][["customer_id", "product_id"]].drop_duplicates()
    clash = recs.merge(bought, on=["customer_id", "product_id"])
    assert len(clash) == 0
    assert len(recs) > 0.9 * K * len(crm["customers"])


def test_rule_eligibility(crm):
    products = crm["products"]
    cols = ["in_stock", "allowed_region"]
    listed = products.iloc[: int(0.9 * len(products))]  # unlisted products are never offered
    m = NextBestOffer(eligible=cols).fit(crm["tx"], listed, as_of=crm["as_of"])
    recs = m.recommend(crm["customers"], k=K)
    flags = listed.set_index("product_id")[cols]
    j = recs.join(flags, on="product_id")
    assert j[cols].notna().all().all()
    assert j["in_stock"].astype(bool).all() and j["allowed_region"].astype(bool).all()


def test_rule_max_per_category(crm):
    cap = 2
    m = NextBestOffer(max_per_category=cap).fit(crm["tx"], crm["products"], as_of=crm["as_of"])
    recs = m.recommend(crm["customers"], k=K)
    cat = crm["products"].set_index("product_id")["category"]
    per = recs.join(cat, on="product_id").groupby(["customer_id", "category"]).size()
    assert per.max() <= cap
    assert (recs.groupby("customer_id").size() == K).mean() > 0.95  # filled from other categories
    # without the cap the favourite category dominates, so the rule did something
    base = NextBestOffer().fit(crm["tx"], crm["products"], as_of=crm["as_of"]).recommend(crm["customers"], k=K)
    assert base.join(cat, on="product_id").groupby(["customer_id", "category"]).size().max() > cap


def test_rule_margin_weighting(crm, default_recs):
    products = crm["products"]
    m = NextBestOffer(value_column="margin").fit(crm["tx"], products, as_of=crm["as_of"])
    recs = m.recommend(crm["customers"], k=K)
    margin = products.set_index("product_id")["margin"]
    _, base = default_recs
    assert recs.join(margin, on="product_id")["margin"].mean() > base.join(margin, on="product_id")["margin"].mean()
    # every row's score is its relevance times its margin: the same fitted model (the blend and half-life it
    # learned with the margin weighting) scored without it
    raw = copy.deepcopy(m)
    raw.value_column = None
    one = crm["customers"][:50]
    r_raw = raw.recommend(one, k=len(raw.items_), reasons=False)
    j = recs.merge(r_raw, on=["customer_id", "product_id"], suffixes=("", "_raw")).join(margin, on="product_id")
    j = j[j["customer_id"].isin(one)]
    assert len(j) == (recs["customer_id"].isin(one)).sum()
    np.testing.assert_allclose(j["score"], j["score_raw"] * j["margin"], rtol=1e-5)  # float32 scores


def test_customer_weights_scale_scores_not_ranks(default_recs, crm):
    m, recs = default_recs
    ids = crm["customers"][:100]
    w = pd.Series(np.linspace(1, 5, len(ids)), index=ids)
    weighted = m.recommend(ids, k=K, customer_weights=w)
    plain = recs[recs["customer_id"].isin(ids)].reset_index(drop=True)
    pd.testing.assert_series_equal(weighted["product_id"], plain["product_id"])
    np.testing.assert_allclose(weighted["score"], plain["score"] * w.reindex(plain["customer_id"]).to_numpy())


def test_returns_do_not_count_as_purchases():
    ts = pd.to_datetime(["2024-01-01"] * 6 + ["2024-01-05"])
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2, 3, 3, 9], "transaction_id": ["a", "a", "b", "b", "c", "c", "r"],
                       "timestamp": ts, "amount": [5.0, 5, 5, 5, 5, 5, -5],
                       "product_id": ["x", "y", "x", "y", "x", "z", "q"]})
    m = NextBestOffer().fit(tx)
    assert 9 not in m.customers_ and "q" not in m.items_  # the return is no purchase
    recs = m.recommend([9], k=5)
    assert "q" not in set(recs["product_id"])
    assert recs["reason"].str.contains("popular").all()  # a customer with only a return is cold


def test_partitionable_by_customer(default_recs, crm):
    m, recs = default_recs
    ids = list(crm["customers"])
    halves = pd.concat([m.recommend(ids[:333], k=K), m.recommend(ids[333:], k=K)], ignore_index=True)
    pd.testing.assert_frame_equal(halves, recs)


def test_threads_give_identical_recommendations(crm):
    """n_jobs threads score blocks at once: the same rows, scores and reasons as one thread, for every rule."""
    m = NextBestOffer(max_per_category=2, exclude_recent_days=30, value_column="price", batch_size=37,
                      blend="fixed").fit(crm["tx"], crm["products"], as_of=crm["as_of"])
    ids = list(crm["customers"]) + [10**9]                  # an unknown id: cold start in one block
    one = m.recommend(ids, k=K)
    for n_jobs in (2, 3, -1):
        pd.testing.assert_frame_equal(m.set_params(n_jobs=n_jobs).recommend(ids, k=K), one, check_exact=True)


def test_fit_reads_only_rows_before_as_of(crm):
    as_of = crm["as_of"]
    future = crm["tx"][crm["tx"]["timestamp"] >= as_of].copy()
    future["product_id"] = 999_999  # a product that exists only after as_of
    a = NextBestOffer().fit(pd.concat([crm["hist"], future]), as_of=as_of)
    b = NextBestOffer().fit(crm["hist"], as_of=as_of)
    assert 999_999 not in a.items_
    assert (a.similarity_ != b.similarity_).nnz == 0


def test_state_follows_persistence_contract(default_recs):
    m, _ = default_recs
    ok = (type(None), bool, int, float, str, np.ndarray, pd.Index, pd.Series, pd.DataFrame)
    for name, value in vars(m).items():
        if name.endswith("_"):
            assert isinstance(value, ok) or sp.issparse(value) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)), name
            if isinstance(value, np.ndarray):
                assert value.dtype.kind in "biufU", (name, value.dtype)
    assert clone(m).get_params() == m.get_params()


def test_association_rules_and_customer_baskets(crm):
    m = NextBestOffer(similarity="confidence", min_confidence=0.05, basket="customer", n_neighbors=10)
    m.fit(crm["hist"])
    s = m.similarity_
    assert s.nnz > 0 and s.data.min() >= 0.05 and s.data.max() <= 1.0
    assert np.diff(s.indptr).max() <= 10 and s.diagonal().sum() == 0


def test_lift_similarity_is_symmetric_before_pruning(crm):
    m = NextBestOffer(similarity="lift", n_neighbors=10_000).fit(crm["hist"])
    s = m.similarity_.toarray()
    np.testing.assert_allclose(s, s.T, rtol=1e-5)


@pytest.mark.parametrize("params, match", [
    ({"similarity": "pearson"}, "The 'similarity' parameter of NextBestOffer must be one of"),
    ({"basket": "week"}, "The 'basket' parameter of NextBestOffer must be one of"),
    ({"repurchase": "maybe"}, "The 'repurchase' parameter of NextBestOffer must be one of"),
    ({"half_life_days": 0}, r"The 'half_life_days' parameter of NextBestOffer must be a float in \(0, 36500\]. Got 0"),
    ({"n_neighbors": 0}, r"The 'n_neighbors' parameter of NextBestOffer must be an int >= 1"),
    ({"exclude_recent_days": -1}, r"The 'exclude_recent_days' parameter of NextBestOffer must be an int in \[0, 36500\]"),
    ({"max_per_category": 0}, r"The 'max_per_category' parameter of NextBestOffer must be an int >= 1"),
    ({"min_confidence": 2.0}, r"The 'min_confidence' parameter of NextBestOffer must be a float in \[0, 1\]"),
    ({"n_jobs": 0}, r"The 'n_jobs' parameter of NextBestOffer must be an int in \[1, 1024\]"),
])
def test_parameter_errors(params, match):
    tx = pd.DataFrame({"customer_id": [1], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0],
                       "product_id": ["a"]})
    with pytest.raises(ValueError, match=match):
        NextBestOffer(**params).fit(tx)


def test_data_errors():
    tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-01"] * 2),
                       "amount": [1.0, 2.0], "product_id": ["a", "b"]})
    with pytest.raises(ValueError, match="needs a 'product_id' column"):
        NextBestOffer().fit(tx.drop(columns="product_id"))
    with pytest.raises(ValueError, match="found no purchases before"):
        NextBestOffer().fit(tx, as_of="2023-01-01")
    with pytest.raises(ValueError, match="'max_per_category' parameter of NextBestOffer needs a 'category'"):
        NextBestOffer(max_per_category=1).fit(tx)
    with pytest.raises(ValueError, match="'eligible' parameter of NextBestOffer needs a products frame"):
        NextBestOffer(eligible="ok").fit(tx)
    prods = pd.DataFrame({"product_id": ["a", "b"], "ok": ["yes", "no"], "margin": [0.1, -1.0]})
    with pytest.raises(ValueError, match="eligibility column 'missing' is not in the products frame"):
        NextBestOffer(eligible="missing").fit(tx, prods)
    with pytest.raises(ValueError, match="eligibility column 'ok' must be boolean"):
        NextBestOffer(eligible="ok").fit(tx, prods)
    with pytest.raises(ValueError, match="value column 'margin' must be >= 0"):
        NextBestOffer(value_column="margin").fit(tx, prods)
    with pytest.raises(ValueError, match="'value_column' parameter of NextBestOffer names 'price'"):
        NextBestOffer(value_column="price").fit(tx, prods)
    m = NextBestOffer().fit(tx)
    with pytest.raises(ValueError, match=r"The 'k' parameter of NextBestOffer.recommend must be an int in \[1, 10000\]"):
        m.recommend([1], k=0)
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        NextBestOffer().recommend([1])


def test_a_products_frame_that_matches_no_purchased_product_is_refused():
    # hostile audit: a products frame with other ids (e.g. 1, 2 vs 'p1', 'p2') made every recommendation list
    # empty without a word; a text value column was coerced to NaN, so those products were silently not offered
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05",
                                                                                  "2024-01-03", "2024-01-06"]),
                       "amount": [5.0, 3.0, 4.0, 2.0], "product_id": ["p1", "p2", "p1", "p3"]})
    with pytest.raises(ValueError, match=r"None of the 3 products in the transactions is listed in the products "
                                         r"frame \(transactions e.g. \['p1', 'p2', 'p3'\], products frame "
                                         r"e.g. \[1, 2\]\)"):
        NextBestOffer().fit(tx, pd.DataFrame({"product_id": [1, 2], "margin": [1.0, 2.0]}))
    products = pd.DataFrame({"product_id": ["p1", "p2", "p3"], "boost": ["1.5", "n/a", 2]})   # not a schema column
    with pytest.raises(ValueError, match=r"The value column 'boost' must be numeric; got 1 non-numeric values, "
                                         r"e.g. \['n/a'\]"):
        NextBestOffer(value_column="boost").fit(tx, products)
    assert len(NextBestOffer().fit(tx, products.iloc[:2]).recommend(k=2)) > 0    # a partial list is the rule


def test_products_missing_a_flag_or_a_value_are_counted():
    # audit: a missing eligibility flag or value_column made a listed product never offered, without a word
    import warnings

    from crmml.exceptions import DroppedCustomersWarning
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 2], "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05",
                                                                                  "2024-01-03", "2024-01-06"]),
                       "amount": [5.0, 3.0, 4.0, 2.0], "product_id": ["p1", "p2", "p1", "p3"]})
    prods = pd.DataFrame({"product_id": ["p1", "p2", "p3"], "ok": [True, None, True], "margin": [1.0, 2.0, np.nan]})
    with pytest.warns(DroppedCustomersWarning, match=r"NextBestOffer.fit: of the 3 listed products, 1 have no 'ok' "
                      r"\(a missing eligibility flag .*\); 1 have no 'margin' .*never offered"):
        m = NextBestOffer(eligible="ok", value_column="margin", blend="fixed").fit(tx, prods)
    assert set(m.recommend(k=3)["product_id"]) == {"p1"}
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedCustomersWarning)
        NextBestOffer(eligible="ok", value_column="margin", blend="fixed").fit(tx, prods.fillna({"ok": False,
                                                                                                  "margin": 0.5}))


def test_products_without_a_category_are_never_capped():
    # the documented rule of max_per_category: a product without a category belongs to no category
    prods = [f"p{i}" for i in range(6)]
    tx = pd.DataFrame({"customer_id": np.repeat(np.arange(1, 7), 6), "product_id": prods * 6, "amount": 5.0,
                       "transaction_id": np.repeat(np.arange(1, 7), 6),
                       "timestamp": pd.Timestamp("2024-03-01")})
    products = pd.DataFrame({"product_id": prods, "category": ["a", "a", None, None, None, None]})
    m = NextBestOffer(max_per_category=1, blend="fixed").fit(tx, products)
    recs = m.recommend([1], k=6).join(products.set_index("product_id"), on="product_id")
    assert (recs["category"] == "a").sum() == 1 and recs["category"].isna().sum() == 4
