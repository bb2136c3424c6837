"""rfm_table, RFMSegmenter, the segment rule table and segment_summary."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crmml.schema import SchemaError
from crmml.segmentation import DEFAULT_RFM_SEGMENTS, RFMSegmenter, default_rfm_segments, rfm_table, segment_summary
from crmml.segmentation._rfm import _tie_aware_edges


def _tx(rows, with_txn=True):
    df = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "transaction_id"])
    df["timestamp"] = pd.to_datetime(df["timestamp"], format="mixed")
    return df if with_txn else df.drop(columns="transaction_id")


TX = _tx([
    (1, "2024-01-01 10:00", 10.0, 100), (1, "2024-01-01 10:00", 5.0, 100),   # one basket, two lines
    (1, "2024-01-01 18:00", 7.0, 101),                                      # second basket, same day
    (1, "2024-01-05", -5.0, -100),                                          # return
    (1, "2024-02-01", 20.0, 102),
    (2, "2024-01-10", 50.0, 200),
    (3, "2024-01-20", -8.0, -300),                                          # returns only
    (4, "2024-03-15", 99.0, 400),                                           # after as_of
])
AS_OF = pd.Timestamp("2024-03-01")


def test_rfm_table_definitions():
    r = rfm_table(TX, AS_OF)
    assert list(r.columns) == ["recency", "frequency", "monetary", "avg_order_value", "tenure", "returns"]
    assert r.index.name == "customer_id" and list(r.index) == [1, 2]  # 3 returns-only dropped, 4 after as_of
    c1 = r.loc[1]
    assert c1["frequency"] == 3                       # distinct transaction ids among purchases
    assert c1["monetary"] == pytest.approx(37.0)      # 42 bought - 5 returned
    assert c1["returns"] == pytest.approx(5.0)
    assert c1["avg_order_value"] == pytest.approx(37.0 / 3)
    assert c1["recency"] == pytest.approx(29.0)       # 2024-02-01 -> 2024-03-01
    assert c1["tenure"] == pytest.approx((AS_OF - pd.Timestamp("2024-01-01 10:00")).total_seconds() / 86400)


def test_rfm_table_without_transaction_id_counts_days():
    r = rfm_table(TX.drop(columns="transaction_id"), AS_OF)
    assert r.loc[1, "frequency"] == 2                 # 2024-01-01 (three lines, two baskets) and 2024-02-01
    assert r.loc[2, "frequency"] == 1


def test_rfm_table_returns_only_keep():
    r = rfm_table(TX, AS_OF, returns_only="keep")
    assert list(r.index) == [1, 2, 3]
    assert r.loc[3, "frequency"] == 0 and r.loc[3, "monetary"] == -8.0
    assert np.isnan(r.loc[3, "avg_order_value"])
    assert r.loc[3, "recency"] == pytest.approx(41.0)


def test_rfm_table_point_in_time_and_string_ids():
    tx = TX.assign(customer_id=TX["customer_id"].map(lambda i: f"c{i}"),
                   transaction_id=TX["transaction_id"].astype(str))
    r = rfm_table(tx, AS_OF)
    assert list(r.index) == ["c1", "c2"]
    assert r.loc["c1", "frequency"] == 3
    later = rfm_table(TX, "2024-04-01")
    assert later.loc[4, "monetary"] == 99.0 and 4 not in rfm_table(TX, AS_OF).index


def test_rfm_table_shared_transaction_ids_across_customers():
    # transaction ids unique only within a customer: the pair is what counts
    tx = _tx([(1, "2024-01-01", 1.0, 1), (1, "2024-01-02", 1.0, 2), (2, "2024-01-01", 1.0, 1),
              (2, "2024-01-03", 1.0, 1)])
    r = rfm_table(tx, "2024-02-01")
    assert r["frequency"].tolist() == [2, 1]


def test_rfm_table_partitionable(synthetic_crm):
    tx = synthetic_crm.transactions
    as_of = synthetic_crm.start + pd.Timedelta(days=400)
    whole = rfm_table(tx, as_of)
    ids = tx["customer_id"].unique()
    half = set(ids[::2])
    parts = [rfm_table(tx[tx["customer_id"].isin(half)], as_of),
             rfm_table(tx[~tx["customer_id"].isin(half)], as_of)]
    pd.testing.assert_frame_equal(pd.concat(parts).sort_index(), whole)
    # matches a plain groupby reference
    h = tx[tx["timestamp"] < as_of]
    buy = h[h["amount"] >= 0]
    ref_f = buy.groupby("customer_id")["transaction_id"].nunique()
    ref_m = h.groupby("customer_id")["amount"].sum()
    assert (whole["frequency"] == ref_f.reindex(whole.index)).all()
    np.testing.assert_allclose(whole["monetary"], ref_m.reindex(whole.index))


def test_rfm_table_errors():
    with pytest.raises(ValueError, match="The 'returns_only' parameter of rfm_table must be one of"):
        rfm_table(TX, AS_OF, returns_only="zero")
    with pytest.raises(ValueError, match="The 'as_of' parameter of rfm_table"):
        rfm_table(TX, "not a date")
    with pytest.raises(ValueError, match="transactions.amount: required column is missing"):
        rfm_table(TX.drop(columns="amount"), AS_OF)
    empty = rfm_table(TX, "2023-01-01")
    assert len(empty) == 0 and list(empty.columns)[0] == "recency"


def test_rfm_table_column_mapping():
    raw = TX.rename(columns={"customer_id": "cust", "amount": "value"})
    r = rfm_table(raw, AS_OF, columns={"cust": "customer_id", "value": "amount"})
    pd.testing.assert_frame_equal(r, rfm_table(TX, AS_OF))


# ------------------------------------------------------------------------------------------------ segment table
def test_every_cell_maps_to_exactly_one_segment():
    seg = RFMSegmenter().fit(pd.DataFrame({"recency": np.arange(10.0), "frequency": np.arange(10),
                                           "monetary": np.arange(10.0)}))
    assert seg.lookup_.shape == (5, 5, 5) and (seg.lookup_ >= 0).all()
    names = DEFAULT_RFM_SEGMENTS["segment"].drop_duplicates().tolist()
    assert names == ["Champions", "Loyal Customers", "Potential Loyalist", "New Customers", "Promising",
                     "Need Attention", "About to Sleep", "At Risk", "Can't Lose Them", "Hibernating", "Lost"]
    # independent evaluation of the rules: each cell is matched by exactly one row
    t = DEFAULT_RFM_SEGMENTS
    for r in range(1, 6):
        for f in range(1, 6):
            for m in range(1, 6):
                fm = -(-(f + m) // 2)
                hit = t[(t.r_min <= r) & (r <= t.r_max) & (t.fm_min <= fm) & (fm <= t.fm_max)]
                assert len(hit) == 1, (r, f, m)
                assert names[seg.lookup_[r - 1, f - 1, m - 1]] == hit["segment"].iloc[0]
    assert seg.lookup_[4, 4, 4] == names.index("Champions")
    assert seg.lookup_[0, 0, 0] == names.index("Lost")
    assert seg.lookup_[0, 4, 4] == names.index("Can't Lose Them")


def test_custom_segment_table_and_errors():
    rfm = pd.DataFrame({"recency": [1.0, 50, 100], "frequency": [5, 2, 1], "monetary": [100.0, 20, 5]})
    table = pd.DataFrame({"segment": ["active", "inactive"], "r_min": [3, 1], "r_max": [5, 2]})
    out = RFMSegmenter(segments=table).fit_transform(rfm)
    assert out["segment"].tolist() == ["active", "active", "inactive"]
    gap = pd.DataFrame({"segment": ["active"], "r_min": [3]})
    with pytest.raises(ValueError, match=r"exactly one segment; 50 cells map to no segment, e.g. \['R1F1M1'"):
        RFMSegmenter(segments=gap).fit(rfm)
    overlap = pd.DataFrame({"segment": ["a", "b"], "r_min": [1, 3]})
    with pytest.raises(ValueError, match="cells map to more than one segment"):
        RFMSegmenter(segments=overlap).fit(rfm)
    with pytest.raises(ValueError, match=r"unknown columns \['x_min'\]"):
        RFMSegmenter(segments=pd.DataFrame({"segment": ["a"], "x_min": [1]})).fit(rfm)
    with pytest.raises(ValueError, match="must be a DataFrame with a 'segment' column"):
        RFMSegmenter(segments={"a": 1}).fit(rfm)
    with pytest.raises(ValueError, match="default segment table of RFMSegmenter assumes n_scores=5"):
        RFMSegmenter(n_scores=4).fit(rfm)
    with pytest.raises(ValueError, match=r"The 'n_scores' parameter of RFMSegmenter must be an int in \[2, 10\]"):
        RFMSegmenter(n_scores=1).fit(rfm)
    with pytest.raises(ValueError, match=r"lacks columns \['monetary'\]"):
        RFMSegmenter().fit(rfm.drop(columns="monetary"))
    with pytest.raises(ValueError, match="column 'recency' has 1 missing values"):
        RFMSegmenter().fit(rfm.assign(recency=[1.0, np.nan, 3]))
    with pytest.raises(ValueError, match=r"RFMSegmenter.fit: the RFM table is empty \(0 customers\)"):
        RFMSegmenter().fit(rfm.iloc[:0])
    with pytest.raises(ValueError, match="expects an RFM table"):
        RFMSegmenter().fit(np.zeros((3, 3)))
    t = default_rfm_segments()
    t.loc[0, "segment"] = "Stars"
    assert DEFAULT_RFM_SEGMENTS.loc[0, "segment"] == "Champions"
    assert "Stars" in RFMSegmenter(segments=t).fit(rfm).segment_names_


# --------------------------------------------------------------------------------------------------- tie handling
def test_tie_aware_edges_continuous_are_quintiles():
    x = np.random.default_rng(0).normal(size=10_000)
    edges = _tie_aware_edges(x, 5)
    np.testing.assert_allclose(edges, np.quantile(x, [0.2, 0.4, 0.6, 0.8]), atol=0.01)


def test_heavy_ties_still_use_all_scores():
    # 60% one-time buyers as in real retail; frequencies of one customer never split
    f = np.r_[np.ones(600), np.full(150, 2), np.full(100, 3), np.full(80, 4), np.arange(5, 75)]
    rfm = pd.DataFrame({"recency": np.linspace(1, 300, len(f)), "frequency": f.astype(int),
                        "monetary": np.linspace(1, 500, len(f))})
    seg = RFMSegmenter().fit(rfm)
    s = seg.score_table(rfm)
    assert sorted(s["f_score"].unique()) == [1, 2, 3, 4, 5]
    assert s.groupby(rfm["frequency"])["f_score"].nunique().max() == 1   # ties never split
    assert (s.loc[rfm["frequency"] == 1, "f_score"] == 1).all()
    # the rest is split about evenly: no score other than 1 holds more than 40% of the rest
    rest = s.loc[rfm["frequency"] > 1, "f_score"].value_counts(normalize=True)
    assert rest.max() < 0.4
    # recency reversed: most recent = 5
    assert s["r_score"].iloc[0] == 5 and s["r_score"].iloc[-1] == 1


def test_few_distinct_values_are_spread():
    rfm = pd.DataFrame({"recency": [1.0, 2, 3] * 4, "frequency": [1] * 12, "monetary": [1.0, 2, 3] * 4})
    s = RFMSegmenter().fit(rfm).score_table(rfm)
    assert sorted(s["m_score"].unique()) == [1, 3, 5]
    assert sorted(s["r_score"].unique()) == [1, 3, 5] and s["r_score"].iloc[0] == 5
    assert (s["f_score"] == 1).all()


def test_transform_uses_fitted_edges_and_is_partitionable(synthetic_crm):
    tx = synthetic_crm.transactions
    r0 = rfm_table(tx, synthetic_crm.start + pd.Timedelta(days=300))
    r1 = rfm_table(tx, synthetic_crm.start + pd.Timedelta(days=600))
    seg = RFMSegmenter().fit(r0)
    edges = seg.m_edges_.copy()
    a = seg.transform(r1)
    np.testing.assert_array_equal(seg.m_edges_, edges)
    assert a["m_score"].tolist() == (np.searchsorted(edges, r1["monetary"], side="right") + 1).tolist()
    half = r1.index[::2]
    b = pd.concat([seg.transform(r1.loc[half]), seg.transform(r1.drop(half))]).sort_index()
    pd.testing.assert_frame_equal(a, b)
    assert clone(seg).get_params() == seg.get_params()
    assert a["rfm_cell"].iloc[0] == "".join(str(a[c].iloc[0]) for c in ("r_score", "f_score", "m_score"))


def test_unfitted_raises():
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        RFMSegmenter().transform(pd.DataFrame({"recency": [1.0], "frequency": [1], "monetary": [1.0]}))


def test_summary(synthetic_crm):
    r = rfm_table(synthetic_crm.transactions, synthetic_crm.end)
    seg = RFMSegmenter().fit(r)
    s = seg.summary(r)
    assert list(s.index) == seg.segment_names_
    assert s["customers"].sum() == len(r)
    assert s["revenue_share"].sum() == pytest.approx(1.0, abs=0.01)
    champs = seg.transform(r)["segment"] == "Champions"
    assert s.loc["Champions", "monetary"] == pytest.approx(r.loc[champs, "monetary"].mean())
    assert s.loc["Champions", "recency"] < s.loc["Lost", "recency"]
    plain = segment_summary(pd.Series(["x", "y", "x"], index=[1, 2, 3]))
    assert plain["customers"].tolist() == [2, 1]
    # audit: customers without a segment (NaN) or in a segment missing from order= were left out of every row
    with pytest.raises(ValueError, match=r"segment_summary: segments has no segment for 1 of 3 customers \(e.g. \[2\]\)"):
        segment_summary(pd.Series(["x", None, "x"], index=[1, 2, 3]))
    with pytest.raises(ValueError, match=r"order leaves out the segments \['y'\] \(1 customers\)"):
        segment_summary(pd.Series(["x", "y", "x"], index=[1, 2, 3]), order=["x"])
    assert segment_summary(pd.Series(["x", "y", "x"], index=[1, 2, 3]), order=["y", "x", "z"])["customers"].tolist() \
        == [1, 2, 0]


def test_segment_summary_counts_customers_without_values_and_refuses_repeated_ids():
    """Audit: customers missing from values silently lowered the means' base; a repeated id in values raised
    pandas' 'cannot reindex on an axis with duplicate labels'; a repeated id in segments was counted twice."""
    from crmml.exceptions import DroppedCustomersWarning

    seg = pd.Series(["a", "a", "b", "b"], index=[1, 2, 3, 4])
    v = pd.DataFrame({"monetary": [10.0, 30.0, 50.0]}, index=[1, 2, 3])
    with pytest.warns(DroppedCustomersWarning, match=r"segment_summary: 1 of the 4 customers have no row in values "
                                                     r"\(e\.g\. \[4\]\); the means and revenue_share"):
        out = segment_summary(seg, v)
    assert out["customers"].tolist() == [2, 2] and out.loc["b", "monetary"] == 50.0   # the documented rule
    assert out["revenue_share"].tolist() == [round(40 / 90, 3), round(50 / 90, 3)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # a missing value (NaN) in a column: left out of that column's mean, as documented; no warning
        holed = segment_summary(seg, pd.DataFrame({"monetary": [10.0, 30.0, 50.0, np.nan]}, index=[1, 2, 3, 4]))
        pd.testing.assert_frame_equal(holed, out)
        # rows of customers without a segment are not read
        more = pd.DataFrame({"monetary": [10.0, 30.0, 50.0, 70.0, 1e6]}, index=[1, 2, 3, 4, 9])
        assert segment_summary(seg, more)["monetary"].tolist() == [20.0, 60.0]
    with pytest.raises(ValueError, match=r"segment_summary: values holds 1 customer id\(s\) more than once, "
                                         r"e\.g\. \[1\]; give each customer_id once"):
        segment_summary(seg, pd.concat([v, v.iloc[:1]]))
    with pytest.raises(ValueError, match=r"segment_summary: segments holds 1 customer id\(s\) more than once"):
        segment_summary(pd.concat([seg, seg.iloc[:1]]), v)

def test_tie_aware_edges_properties():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=60, deadline=None)
    @given(st.lists(st.integers(0, 30), min_size=1, max_size=300), st.integers(2, 7))
    def check(values, k):
        x = np.asarray(values, dtype=float)
        edges = _tie_aware_edges(x, k)
        n_groups = len(edges) + 1
        assert n_groups == min(k, len(np.unique(x)))          # every score used when the data allows
        assert np.all(np.diff(edges) > 0)
        groups = np.searchsorted(edges, x, side="right")
        assert set(groups) == set(range(n_groups))           # no empty group
        for v in np.unique(x):                               # ties never split
            assert len(set(groups[x == v])) == 1

    check()
    del hypothesis


@pytest.mark.parametrize("returns_only", ["keep", "drop"])
@pytest.mark.parametrize("id_kind", ["int", "text"])
def test_rfm_table_equals_a_groupby_reference(returns_only, id_kind):
    """The no-copy path (return rows sent to an extra group) against a plain pandas reference: returns that
    share a transaction id with purchases, customers with only returns, text and integer ids."""
    import warnings

    rng = np.random.default_rng(3)
    n = 4000
    tx = pd.DataFrame({"customer_id": rng.integers(0, 300, n),
                       "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**6, n), "min"),
                       "amount": rng.normal(20, 30, n).round(2),
                       "transaction_id": rng.integers(0, 900, n)})
    tx["transaction_id"] = tx["customer_id"] * 1000 + tx["transaction_id"] % 7
    tx.loc[tx["customer_id"] < 5, "amount"] = -abs(tx["amount"]) - 1      # customers with only returns
    if id_kind == "text":
        tx["customer_id"] = "c" + tx["customer_id"].astype(str)
    as_of = pd.Timestamp("2024-03-01")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = rfm_table(tx, as_of, returns_only=returns_only)
    h = tx[tx["timestamp"] < as_of]
    buy = h[h["amount"] >= 0]
    g = h.groupby("customer_id")
    ref = pd.DataFrame({"frequency": buy.groupby("customer_id")["transaction_id"].nunique(),
                        "last": buy.groupby("customer_id")["timestamp"].max(),
                        "first": buy.groupby("customer_id")["timestamp"].min()}).reindex(g.size().index)
    ref["frequency"] = ref["frequency"].fillna(0).astype("int64")
    only_ret = ref["frequency"] == 0
    ref.loc[only_ret, "last"] = g["timestamp"].max()[only_ret]
    ref.loc[only_ret, "first"] = g["timestamp"].min()[only_ret]
    if returns_only == "drop":
        ref = ref[~only_ret]
    assert got.index.tolist() == ref.index.tolist()
    np.testing.assert_array_equal(got["frequency"].to_numpy(), ref["frequency"].to_numpy())
    np.testing.assert_array_equal(got["recency"].to_numpy(), ((as_of - ref["last"]) / pd.Timedelta(days=1)).to_numpy())
    np.testing.assert_array_equal(got["tenure"].to_numpy(), ((as_of - ref["first"]) / pd.Timedelta(days=1)).to_numpy())
    np.testing.assert_allclose(got["monetary"].to_numpy(), g["amount"].sum()[ref.index].to_numpy(), rtol=1e-12)
    rets = h["amount"].where(h["amount"] < 0, 0.0).groupby(h["customer_id"]).sum()
    np.testing.assert_allclose(got["returns"].to_numpy(), -rets[ref.index].to_numpy(), rtol=1e-12, atol=1e-9)


def test_rfm_table_as_of_before_all_data_warns():
    # hostile audit: an as_of before every row returned an empty table without a word
    from crmml.schema import AsOfWarning
    with pytest.warns(AsOfWarning, match=r"as_of 2020-01-01 is on or before the first row of transactions "
                                         r"\(2024-01-01 10:00:00\): none of its 8 rows is read"):
        assert rfm_table(TX, "2020-01-01").empty


def test_segment_summary_of_a_frame_without_segments_is_refused():
    # hostile audit: passing the RFM table itself raised pandas' bare KeyError 'segment'
    with pytest.raises(ValueError, match=r"segment_summary: the segments frame has no 'segment' column; got "
                                         r"\['recency', 'frequency'"):
        segment_summary(rfm_table(TX, AS_OF, returns_only="keep"))


def test_rfm_table_columns_not_a_dict_is_refused_by_name():
    # hostile audit: columns=["x"] ended in "dictionary update sequence element #0 has length 1; 2 is required"
    tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-01"] * 2), "amount": [1.0, 2.0]})
    with pytest.raises(SchemaError, match=r"columns= must be a dict \{their_name: canonical_name\}; got list"):
        rfm_table(tx, "2024-02-01", columns=["x"])
