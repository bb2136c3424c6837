"""CustomerClusterer: k choice, profiles and names, explaining tree, stability, errors."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmml.exceptions import ParameterError
from crmml.segmentation import CustomerClusterer, rfm_table

FEATS = ["recency", "frequency", "monetary", "tenure"]


@pytest.fixture(scope="module")
def synth_rfm(synthetic_crm):
    r = rfm_table(synthetic_crm.transactions, synthetic_crm.end)
    return r.iloc[:1200]


def _blobs(seed=0, n=150):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "recency": np.r_[rng.uniform(1, 20, n), rng.uniform(300, 500, n), rng.uniform(1, 20, n)],
        "frequency": np.r_[rng.poisson(12, n) + 2, rng.poisson(1, n) + 1, np.ones(n)],
        "monetary": np.r_[rng.gamma(9, 200, n), rng.gamma(3, 60, n), rng.gamma(2, 10, n)],
    })
    X.index = pd.Index(np.arange(1, len(X) + 1) * 7, name="customer_id")
    truth = np.repeat([0, 1, 2], n)
    return X, truth


def _has(name, word):
    return bool(word) and re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", name) is not None


def _name_parts(cc, name):
    """``[(feature, sign, very)]`` for every term of a cluster name; asserts nothing else is left in it."""
    vocab = cc._vocab()
    rest = re.sub(r" \(\d+\)$", "", name)                          # the last resort's number
    if rest == "average customers":
        return []
    parts = []
    for feat, entry in vocab.items():
        for sign, word in ((-1, entry[0]), (+1, entry[1])):
            if not word:
                continue
            m = re.search(r"(?<![\w-])(very )?" + re.escape(word) + r"(?![\w-])", rest)
            if m:
                parts.append((feat, sign, bool(m.group(1))))
                rest = rest[:m.start()] + rest[m.end():]
    for feat in cc.zscores_.columns.difference(list(vocab)):          # the "with ..." clause
        m = re.search(r"(very )?(high|low) " + re.escape(feat) + r"(?![\w-])", rest)
        if m:
            parts.append((feat, 1 if m.group(2) == "high" else -1, bool(m.group(1))))
            rest = rest[:m.start()] + rest[m.end():]
    assert re.sub(r"\b(customers|with|and)\b|,", "", rest).strip() == "", (name, rest)
    return parts


def _check_names_match_numbers(cc):
    """Every term of a name agrees with the sign and size of its z-score: "very X" at |z| >= 3 * name_threshold
    (1.5 by default), plain X at name_threshold <= |z| < 3 * name_threshold. A name that would repeat takes more,
    weaker terms (from name_threshold / 2); which names did is found by naming each cluster on its own."""
    z, thr = cc.zscores_, cc.name_threshold
    alone = [cc._names(z.iloc[[c]])[0] for c in range(len(z))]       # one row: nothing to disambiguate
    counts = {"very": 0, "plain": 0}
    for c, name in enumerate(cc.names_):
        repeated = alone.count(alone[c]) > 1
        if not repeated:
            assert name == alone[c], (name, alone[c])
        low = thr / 2 if repeated else thr
        parts = _name_parts(cc, name)
        assert len(parts) <= cc.max_name_terms or repeated, (name, parts)
        for feat, sign, very in parts:
            v = z.loc[c, feat]
            assert np.sign(v) == sign, (name, feat, v)
            if very:
                assert abs(v) >= 3 * thr, (name, feat, v)
            else:
                assert low <= abs(v) < 3 * thr, (name, feat, v)
            counts["very" if very else "plain"] += 1
        if _has(name, "high spenders"):  # the top spenders' cluster is among those called high spenders
            assert z["monetary"].idxmax() in [k for k, nm in enumerate(cc.names_) if _has(nm, "high spenders")]
        if name == "average customers":
            assert (z.loc[c].abs() < thr).all()
    assert counts["very"] + counts["plain"] > 0
    return counts


def test_recovers_planted_clusters_and_names_them():
    X, truth = _blobs()
    cc = CustomerClusterer(k_range=(2, 6), random_state=1).fit(X)
    assert cc.n_clusters_ == 3
    assert list(cc.k_scores_.index) == [2, 3, 4, 5, 6] and cc.k_scores_.idxmax() == 3
    ct = pd.crosstab(cc.labels_.to_numpy(), truth)
    assert (ct.max(axis=1) / ct.sum(axis=1)).min() > 0.95
    # cluster 0 has the highest mean revenue
    assert cc.profiles_["monetary"].idxmax() == 0
    assert "high spenders" in cc.names_[0] and "recent" in cc.names_[0]
    assert "lapsed" in cc.names_[1]
    assert "recent" in cc.names_[2] and "low spenders" in cc.names_[2]
    _check_names_match_numbers(cc)
    assert cc.fidelity_ > 0.95
    assert len(set(cc.names_)) == 3


def test_very_means_three_name_thresholds_and_plain_terms_lie_between():
    """README: names come from |z| >= 0.5 (up to 3 terms), "very" at |z| >= 1.5 = 3 x name_threshold; at the
    boundaries and with another threshold."""
    z = pd.DataFrame({"recency": [-1.5, 0.6, 0.0, 0.4, 0.0], "frequency": [1.49, -2.0, 0.0, 0.4, 0.0],
                      "monetary": [0.5, 0.0, 0.0, -0.4, 0.0], "tenure": [0.49, 0.0, 0.0, 0.4, 0.0],
                      "web_visits": [0.0, 0.0, 1.6, 0.0, -0.7]}, index=pd.Index(range(5), name="cluster"))
    cc = CustomerClusterer()
    cc.zscores_, cc.names_ = z, cc._names(z)
    assert cc.names_ == ["very recent frequent high spenders", "lapsed very infrequent customers",
                         "customers with very high web_visits", "average customers", "customers with low web_visits"]
    assert _check_names_match_numbers(cc) == {"very": 3, "plain": 4}
    assert "new" not in cc.names_[0]                              # |z| 0.49: below the threshold, and a 4th term
    wide = CustomerClusterer(name_threshold=0.3)                   # "very" moves to 0.9
    wide.zscores_, wide.names_ = z, wide._names(z)
    assert wide.names_[:2] == ["very recent very frequent high spenders", "lapsed very infrequent customers"]
    assert wide.names_[3] == "lapsed frequent low spenders"        # |z| 0.4 >= 0.3: named, 3 terms at most
    assert _check_names_match_numbers(wide) == {"very": 4, "plain": 6}


def test_fitted_names_use_very_and_plain_terms_as_their_z_scores_say(synth_rfm):
    cc = CustomerClusterer(features=FEATS, k_range=(3, 4), sample_size=600, random_state=7).fit(synth_rfm)
    counts = _check_names_match_numbers(cc)
    assert counts["very"] >= 1 and counts["plain"] >= 1, cc.names_   # both kinds checked on a real fit


def test_profiles_match_the_data():
    X, _ = _blobs()
    cc = CustomerClusterer(n_clusters=3).fit(X)
    p = cc.profiles_
    lab = cc.labels_
    assert p["size"].sum() == len(X) and p["share"].sum() == pytest.approx(1.0)
    for c in range(3):
        assert p.loc[c, "size"] == (lab == c).sum()
        assert p.loc[c, "recency"] == pytest.approx(X.loc[lab == c, "recency"].mean())
        assert p.loc[c, "revenue_share"] == pytest.approx(X.loc[lab == c, "monetary"].sum() / X["monetary"].sum())
        L = np.sign(X["monetary"]) * np.log1p(X["monetary"].abs())
        assert cc.zscores_.loc[c, "monetary"] == pytest.approx((L[lab == c].mean() - L.mean()) / L.std(ddof=0))
    assert (np.diff(p["monetary"].to_numpy()) <= 0).all()  # numbered by decreasing mean revenue


@pytest.mark.slow
def test_same_seed_same_labels_and_predict_consistent(synth_rfm):
    a = CustomerClusterer(features=FEATS, k_range=(3, 4), sample_size=600, random_state=7).fit(synth_rfm)
    b = CustomerClusterer(features=FEATS, k_range=(3, 4), sample_size=600, random_state=7).fit(synth_rfm)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    assert a.names_ == b.names_
    pd.testing.assert_series_equal(a.predict(synth_rfm), a.labels_)
    # partitionable: predicting halves gives the same clusters
    half = synth_rfm.index[::2]
    parts = pd.concat([a.predict(synth_rfm.loc[half]), a.predict(synth_rfm.drop(half))]).sort_index()
    pd.testing.assert_series_equal(parts, a.labels_)
    t = a.transform(synth_rfm)
    assert list(t.columns) == ["cluster", "segment"]
    assert (t["segment"].astype(str) == np.array(a.names_)[t["cluster"]]).all()
    assert clone(a).get_params() == a.get_params()
    _check_names_match_numbers(a)


@pytest.mark.slow
def test_gmm_uses_bic(synth_rfm):
    cc = CustomerClusterer(features=FEATS, method="gmm", k_range=(2, 4), sample_size=1000, n_init=1).fit(synth_rfm)
    assert cc.k_scores_.name == "bic"
    assert cc.n_clusters_ == cc.k_scores_.idxmin()
    assert 2 <= cc.n_clusters_ <= 4 and 0 < cc.fidelity_ <= 1
    _check_names_match_numbers(cc)


def test_rules_are_readable_and_consistent():
    X, _ = _blobs()
    cc = CustomerClusterer(n_clusters=3, tree_depth=2).fit(X)
    rules = cc.rules()
    assert list(rules.columns) == ["rule", "cluster", "segment", "customers", "purity"]
    assert rules["customers"].sum() == len(X)
    # apply each rule with pandas and check it selects the leaf's customers
    for r in rules.itertuples():
        q = r.rule.replace(" and ", " & ")
        sel = X.query(q) if r.rule != "(all customers)" else X
        assert len(sel) == r.customers
        assert (cc.labels_.loc[sel.index] == r.cluster).mean() == pytest.approx(r.purity)
    assert rules["rule"].str.count("recency").max() <= 1  # bounds on one feature are merged


def test_any_numeric_feature_frame_and_custom_vocabulary():
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"web_visits": np.r_[rng.poisson(30, 100), rng.poisson(1, 100)],
                      "complaints": np.r_[np.zeros(100), rng.poisson(3, 100)],
                      "region": ["n"] * 200}, index=pd.Index(range(200), name="customer_id"))
    cc = CustomerClusterer(n_clusters=2, vocabulary={"web_visits": ("disengaged", "engaged")}, revenue=None).fit(X)
    assert list(cc.feature_names_in_) == ["web_visits", "complaints"]   # non-numeric column ignored
    assert "revenue_share" not in cc.profiles_.columns
    top = cc.zscores_["web_visits"].idxmax()
    assert cc.names_[top].startswith("engaged customers") and "high complaints" not in cc.names_[top]
    assert cc.names_[1 - top].startswith("disengaged customers with") and "high complaints" in cc.names_[1 - top]


def test_errors():
    X, _ = _blobs(n=20)
    with pytest.raises(ValueError, match="The 'method' parameter of CustomerClusterer must be one of"):
        CustomerClusterer(method="dbscan").fit(X)
    with pytest.raises(ValueError, match=r"The 'n_clusters' parameter of CustomerClusterer must be an int in \[1, 1000\] or 'auto'"):
        CustomerClusterer(n_clusters=0).fit(X)
    with pytest.raises(ValueError, match="The 'k_range' parameter of CustomerClusterer must be a pair"):
        CustomerClusterer(k_range=(1, 4)).fit(X)
    with pytest.raises(ValueError, match=r"The 'sample_size' parameter of CustomerClusterer must be an int in \[100, 10000000\]"):
        CustomerClusterer(sample_size=5).fit(X)
    for name, bad in (("n_init", 0), ("tree_depth", 0), ("max_name_terms", 0)):
        with pytest.raises(ValueError, match=f"The '{name}' parameter of CustomerClusterer must be an int in \\[1, "):
            CustomerClusterer(**{name: bad}).fit(X)
    with pytest.raises(ValueError, match="The 'name_threshold' parameter of CustomerClusterer must be a float >= 0"):
        CustomerClusterer(name_threshold=-1.0).fit(X)
    with pytest.raises(ValueError, match=r"features must be finite; missing or infinite values in \{'monetary': 1\}"):
        CustomerClusterer().fit(X.assign(monetary=np.r_[np.nan, X["monetary"].to_numpy()[1:]]))
    with pytest.raises(ValueError, match=r"feature columns \['clv'\] are missing"):
        CustomerClusterer(features=["clv"]).fit(X)
    with pytest.raises(ValueError, match=r"features must be numeric; \['seg'\]"):
        CustomerClusterer(features=["seg"]).fit(X.assign(seg="a"))
    with pytest.raises(ValueError, match="needs more customers than clusters; got 4 customers"):
        CustomerClusterer().fit(X.head(4))
    with pytest.raises(ValueError, match="expects a DataFrame of numeric features"):
        CustomerClusterer().fit(X.to_numpy())
    with pytest.raises(ValueError, match="found no numeric feature column"):
        CustomerClusterer().fit(pd.DataFrame({"a": ["x"] * 10}))
    cc = CustomerClusterer(n_clusters=2).fit(X)
    with pytest.raises(ValueError, match=r"feature columns \['frequency'\] are missing"):
        cc.predict(X.drop(columns="frequency"))


def test_features_as_a_single_string_is_refused():
    # hostile audit: features="monetary" was read letter by letter ("feature columns ['m', 'o', 'n', ...] missing")
    X, _ = _blobs()
    with pytest.raises(ValueError, match=r"The 'features' parameter of CustomerClusterer must be None or a list of "
                                         r"column names. Got 'monetary' instead \(write \['monetary'\]\)"):
        CustomerClusterer(features="monetary", n_clusters=3).fit(X)


def test_repeated_feature_names_and_duplicate_columns_are_refused_by_name():
    # hostile audit: features=["recency", "recency"] and a frame with two 'recency' columns ended in pandas errors
    # ("The truth value of a Series is ambiguous", "'DataFrame' object has no attribute 'dtype'")
    X, _ = _blobs(n=20)
    with pytest.raises(ParameterError, match=r"The 'features' parameter of CustomerClusterer names \['recency'\] "
                                             r"more than once"):
        CustomerClusterer(features=["recency", "recency"], n_clusters=2).fit(X)
    twice = pd.concat([X, X[["recency"]]], axis=1)
    with pytest.raises(ValueError, match=r"CustomerClusterer.fit: the frame has several columns named \['recency'\]"):
        CustomerClusterer(n_clusters=2).fit(twice)
    cc = CustomerClusterer(n_clusters=2).fit(X)
    with pytest.raises(ValueError, match=r"CustomerClusterer.predict: the frame has several columns named"):
        cc.predict(twice)


@pytest.mark.parametrize("vocabulary", [["recency"], {"recency": "lapsed"}, {"recency": ("recent",)},
                                        {"recency": ("recent", 2)}, {"monetary": ("low", "high", "nouns")}])
def test_malformed_vocabulary_is_refused_by_name(vocabulary):
    # hostile audit: these ended in TypeError/IndexError from inside the naming code
    X, _ = _blobs(n=20)
    with pytest.raises(ParameterError, match=r"The 'vocabulary' parameter of CustomerClusterer must"):
        CustomerClusterer(n_clusters=2, vocabulary=vocabulary).fit(X)


def test_more_clusters_than_distinct_customers_warns_with_the_counts():
    # fewer distinct rows than clusters left empty clusters (size 0, named "(2)") with scikit-learn's warning only
    import warnings as _w

    from crmml.exceptions import InsufficientDataWarning

    X = pd.DataFrame({"recency": [5.0] * 20 + [50.0] * 20, "frequency": [1.0] * 20 + [3.0] * 20})
    with _w.catch_warnings():
        _w.simplefilter("ignore")                  # scikit-learn's own ConvergenceWarning
        with pytest.warns(InsufficientDataWarning, match=r"1 of the 3 clusters are empty: the features hold only 2 "
                                                         r"distinct customer rows"):
            CustomerClusterer(n_clusters=3, random_state=0).fit(X)
    with _w.catch_warnings():
        _w.simplefilter("error", InsufficientDataWarning)
        CustomerClusterer(n_clusters=2, random_state=0).fit(X)          # as many clusters as distinct rows: quiet


@pytest.mark.parametrize("d", [1, 3, 6])
def test_partition_exact_assignment_is_the_models_own_rule(d):
    """crmml's row-by-row assignment (no BLAS) gives sklearn's predict on data without near ties, for KMeans and
    the full-covariance mixture, and its first-maximum rule is numpy's argmax (ties and NaN: the first)."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    from crmml.segmentation._assign import _assign, _first_max

    rng = np.random.default_rng(d)
    X = rng.normal(size=(5000, d)) * rng.uniform(0.5, 5.0, d)
    for model in (KMeans(4, n_init=2, random_state=0), GaussianMixture(4, random_state=0, reg_covar=1e-4)):
        model.fit(X[:2000])
        np.testing.assert_array_equal(_assign(model, X), model.predict(X))
    s = rng.integers(0, 3, (4, 3000)).astype(float)          # many ties
    s[rng.integers(0, 4, 50), rng.integers(0, 3000, 50)] = np.nan
    for scores in (s, np.nan_to_num(s, nan=-1.0)):
        np.testing.assert_array_equal(_first_max(scores), np.argmax(scores, axis=0))
