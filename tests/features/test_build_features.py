"""Tests of the point-in-time feature factory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmml.datasets import make_synthetic_crm
from crmml.features import REGISTRY, build_features, feature_catalog

AS_OF = pd.Timestamp("2024-03-01")


@pytest.fixture(scope="module")
def small_crm():
    return make_synthetic_crm(n_customers=400, seed=3)


@pytest.fixture(scope="module")
def small_features(small_crm):
    return build_features(small_crm.transactions, AS_OF, small_crm.events, small_crm.customers)


def test_catalog_has_206_features_and_matches_output(small_crm, small_features):
    # the counts README.md quotes: a change must fail here and update the README
    assert len(feature_catalog()) == 206                       # transaction features, no channel column
    assert small_features.shape[1] == 283                      # + channels, events and attributes (synthetic CRM)
    ev_types = sorted(small_crm.events["event_type"].astype(str).unique())
    cat = feature_catalog(event_types=ev_types, channels=["online", "store"],
                          attributes=["region", "acquisition_channel", "age"])
    assert list(cat["name"]) == list(small_features.columns)
    assert cat["name"].is_unique
    assert set(cat["family"]) == {f.name for f in REGISTRY}
    assert cat["description"].str.len().gt(10).all()
    # transactions only: the default catalogue is exactly the output
    f = build_features(small_crm.transactions, AS_OF, channels=["online", "store"])
    assert list(feature_catalog(channels=["online", "store"])["name"]) == list(f.columns)


def test_names_follow_measure_agg_window():
    cat = feature_catalog(windows=(30, 90))
    assert "amount_sum_90d" in set(cat["name"]) and "gap_days_std_all" in set(cat["name"])
    win = cat.dropna(subset=["window"])
    assert all(n.endswith(f"_{w}d") for n, w in zip(win["name"], win["window"]))


def test_population_is_documented_rule(small_crm, small_features):
    tx = small_crm.transactions
    before = set(tx.loc[tx["timestamp"] < AS_OF, "customer_id"])
    cu = small_crm.customers
    signed = set(cu.loc[cu["signup_date"] < AS_OF, "customer_id"])
    assert set(small_features.index) == before | signed
    assert small_features.index.is_monotonic_increasing and small_features.index.name == "customer_id"


def _naive(tx, as_of, w):
    """Reference values computed with plain pandas."""
    h = tx[(tx["timestamp"] < as_of) & (tx["timestamp"] >= as_of - pd.Timedelta(days=w))]
    buy = h[h["amount"] >= 0]
    occ = buy.groupby(["customer_id", "timestamp"])["amount"].sum().reset_index()
    g = occ.groupby("customer_id")
    gaps = occ.groupby("customer_id")["timestamp"].diff().dt.total_seconds() / 86400
    return pd.DataFrame({
        f"purchase_count_{w}d": g.size(),
        f"amount_sum_{w}d": h.groupby("customer_id")["amount"].sum(),
        f"purchase_amount_max_{w}d": g["amount"].max(),
        f"purchase_amount_std_{w}d": g["amount"].std(),
        f"gap_days_mean_{w}d": gaps.groupby(occ["customer_id"]).mean(),
        f"gap_days_max_{w}d": gaps.groupby(occ["customer_id"]).max(),
        f"product_nunique_{w}d": buy.groupby("customer_id")["product_id"].nunique(),
        f"return_count_{w}d": h[h["amount"] < 0].groupby("customer_id").size(),
    })


@pytest.mark.parametrize("w", [30, 365])
def test_matches_naive_pandas(small_crm, small_features, w):
    ref = _naive(small_crm.transactions, AS_OF, w)
    got = small_features.loc[ref.index, ref.columns]
    ref = ref.fillna({c: 0 for c in ref.columns if "count" in c or "nunique" in c or "sum" in c})
    pd.testing.assert_frame_equal(got, ref.astype(float), check_names=False, rtol=1e-6, atol=1e-6)


def test_recency_tenure_and_events(small_crm, small_features):
    tx, ev = small_crm.transactions, small_crm.events
    h = tx[(tx["timestamp"] < AS_OF) & (tx["amount"] >= 0)]
    last = (AS_OF - h.groupby("customer_id")["timestamp"].max()).dt.total_seconds() / 86400
    first = (AS_OF - h.groupby("customer_id")["timestamp"].min()).dt.total_seconds() / 86400
    np.testing.assert_allclose(small_features.loc[last.index, "purchase_recency_all"], last, rtol=1e-9)
    np.testing.assert_allclose(small_features.loc[first.index, "purchase_tenure_all"], first, rtol=1e-9)
    e = ev[(ev["timestamp"] < AS_OF) & (ev["timestamp"] >= AS_OF - pd.Timedelta(days=90))
           & (ev["event_type"] == "web_visit")]
    cnt = e.groupby("customer_id").size().reindex(small_features.index, fill_value=0)
    np.testing.assert_array_equal(small_features["event_web_visit_count_90d"], cnt.to_numpy(float))


def test_partitionable_by_customer(small_crm, small_features):
    tx, ev, cu = small_crm.transactions, small_crm.events, small_crm.customers
    kw = dict(event_types=sorted(ev["event_type"].astype(str).unique()), channels=["online", "store"])
    ids = small_features.index
    parts = []
    for half in (ids[::2], ids[1::2]):
        parts.append(build_features(tx[tx["customer_id"].isin(half)], AS_OF, ev[ev["customer_id"].isin(half)],
                                    cu[cu["customer_id"].isin(half)], **kw))
    whole = pd.concat(parts).sort_index()
    pd.testing.assert_frame_equal(whole, small_features, rtol=1e-9, atol=1e-9)


tx_base = make_synthetic_crm(n_customers=60, seed=5)


def _future_rows(n_tx, n_ev, seed, max_days, as_of_day):
    """The base log and ``as_of``, and random transactions and events at or after ``as_of`` (new customers, a new
    channel, a new event type), without ever reordering the base rows."""
    rng = np.random.default_rng(seed)
    tx, ev = tx_base.transactions, tx_base.events
    as_of = tx_base.start + pd.Timedelta(days=as_of_day)
    future = lambda k: as_of + pd.to_timedelta(rng.integers(0, max_days * 86400 + 1, k), unit="s")
    new_ids = rng.choice(np.append(tx["customer_id"].unique(), [9999, 10000]), n_tx)
    extra_tx = pd.DataFrame({"customer_id": new_ids, "timestamp": future(n_tx),
                             "amount": rng.normal(20, 30, n_tx).round(2), "transaction_id": rng.integers(1, 9, n_tx),
                             "product_id": rng.integers(1, 600, n_tx), "category": "cat_01",
                             "quantity": 1.0, "channel": rng.choice(["online", "store", "phone"], n_tx)})
    extra_ev = pd.DataFrame({"customer_id": rng.choice(new_ids, n_ev), "timestamp": future(n_ev),
                             "event_type": rng.choice(["web_visit", "complaint", "new_type"], n_ev)})
    tx2 = pd.concat([tx.astype({"category": str, "channel": str}), extra_tx], ignore_index=True)
    ev2 = pd.concat([ev.astype({"event_type": str}), extra_ev], ignore_index=True)
    return tx, ev, as_of, tx2, ev2


FUTURE_KW = dict(event_types=["web_visit", "email_open", "email_click", "support_ticket", "complaint"],
                 channels=["online", "store"])
FUTURE_ROWS = dict(n_tx=st.integers(1, 40), n_ev=st.integers(0, 40), seed=st.integers(0, 10_000),
                   max_days=st.integers(0, 800), as_of_day=st.integers(200, 700))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**FUTURE_ROWS)
def test_rows_at_or_after_as_of_change_nothing(n_tx, n_ev, seed, max_days, as_of_day):
    tx, ev, as_of, tx2, ev2 = _future_rows(n_tx, n_ev, seed, max_days, as_of_day)
    before = build_features(tx, as_of, ev, **FUTURE_KW)
    tx2 = tx2.sample(frac=1.0, random_state=seed)     # order must not matter either (ties at one timestamp may
    after = build_features(tx2, as_of, ev2, **FUTURE_KW)  # sum in another order: equal within rounding)
    pd.testing.assert_frame_equal(before, after, rtol=1e-9, atol=1e-9)


@settings(max_examples=12, deadline=None)
@given(**FUTURE_ROWS, interleave=st.booleans())
def test_rows_at_or_after_as_of_change_no_bit_when_the_old_rows_keep_their_order(n_tx, n_ev, seed, max_days,
                                                                                as_of_day, interleave):
    """README: every feature is unchanged -- exactly, when the rows before as_of keep their order (the future rows
    appended, or interleaved among them)."""
    tx, ev, as_of, tx2, ev2 = _future_rows(n_tx, n_ev, seed, max_days, as_of_day)
    if interleave:                                    # random positions, the old rows' relative order kept
        keys = np.random.default_rng(seed + 1).random(len(tx2))
        keys[:len(tx)] = np.sort(keys[:len(tx)])
        tx2 = tx2.iloc[np.argsort(keys, kind="stable")]
        assert (np.diff(tx2.index[tx2.index < len(tx)]) > 0).all()
    before = build_features(tx, as_of, ev, **FUTURE_KW)
    after = build_features(tx2, as_of, ev2, **FUTURE_KW)
    pd.testing.assert_frame_equal(before, after, check_exact=True)


def test_inferred_values_ignore_future_rows():
    tx = pd.DataFrame({"customer_id": [1, 1], "timestamp": pd.to_datetime(["2024-01-01", "2024-05-01"]),
                       "amount": [10.0, 5.0], "channel": ["web", "store"]})
    f = build_features(tx, "2024-02-01", windows=(30,))
    assert "channel_web_share_30d" in f.columns and "channel_store_share_30d" not in f.columns


def test_missing_optional_columns_give_nan():
    tx = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-20"]),
                       "amount": [np.nan, 4.0]})
    f = build_features(tx, "2024-02-01", windows=(30, 60))
    assert f["product_nunique_30d"].isna().all() and f["quantity_sum_60d"].isna().all()
    assert f.loc["a", "purchase_count_60d"] == 1 and f.loc["a", "amount_sum_60d"] == 0


def test_float32_option(small_crm):
    f = build_features(small_crm.transactions, AS_OF, windows=(30,), dtype="float32")
    assert (f.dtypes == np.float32).all()


@pytest.mark.parametrize("kw, match", [
    ({"windows": (0, 30)}, r"The 'windows' parameter of build_features must be a non-empty sequence"),
    ({"windows": (30, 30)}, r"distinct ints >= 1"),
    ({"event_types": "web"}, r"The 'event_types' parameter of build_features must be None or a sequence"),
    ({"dtype": "int8"}, r"The 'dtype' parameter of build_features must be one of"),
    ({"n_jobs": 0}, r"The 'n_jobs' parameter of build_features must be an int >= 1. Got 0 instead."),
    ({"as_of": "not a date"}, r"The 'as_of' parameter of build_features must be a timestamp"),
])
def test_errors(small_crm, kw, match):
    args = {"as_of": AS_OF, **kw}
    with pytest.raises(ValueError, match=match):
        build_features(small_crm.transactions, **args)


def test_no_history_raises():
    tx = pd.DataFrame({"customer_id": [1], "timestamp": pd.to_datetime(["2024-05-01"]), "amount": [1.0]})
    with pytest.raises(ValueError, match="no transaction before as_of"):
        build_features(tx, "2024-01-01")


def test_catalog_errors():
    with pytest.raises(ValueError, match="The 'windows' parameter of feature_catalog"):
        feature_catalog(windows=[])
    with pytest.raises(ValueError, match="The 'channels' parameter of feature_catalog"):
        feature_catalog(channels=[1, 2])


def test_threads_and_validation_paths_agree(small_crm, small_features):
    tx, ev, cu = small_crm.transactions, small_crm.events, small_crm.customers
    one = build_features(tx, AS_OF, ev, cu, n_jobs=1)
    pd.testing.assert_frame_equal(one, small_features)
    # non-canonical input (string timestamps) goes through schema validation and gives the same features
    raw = tx.assign(timestamp=tx["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"))
    pd.testing.assert_frame_equal(build_features(raw, AS_OF, ev, cu), small_features)
    bad = tx.assign(amount=tx["amount"].where(tx.index != 3, np.inf))
    with pytest.raises(ValueError, match="transactions.amount: infinite values"):
        build_features(bad, AS_OF)


def test_customer_blocks_give_the_same_features(small_crm, small_features, monkeypatch):
    """Large logs are processed in blocks of consecutive customers (bounded memory); values must not change."""
    from crmml.features import _build

    tx, ev, cu = small_crm.transactions, small_crm.events, small_crm.customers
    monkeypatch.setattr(_build, "_BLOCK_ROWS", 700)
    n_rows = int((tx["timestamp"] < AS_OF).sum())
    assert len(_build._block_edges(np.arange(n_rows) * 400 // n_rows, 400, n_rows, 700)) - 1 >= 5
    shuffled = tx.sample(frac=1.0, random_state=1)          # also exercises the sort
    for n_jobs in (1, 2):
        got = build_features(shuffled, AS_OF, ev, cu, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(got, small_features, rtol=1e-9, atol=1e-9)


def test_ids_of_different_kinds_across_frames():
    # hostile audit: text customer ids in transactions with integer ids in events raised numpy's TypeError
    # "'<' not supported between instances of 'str' and 'int'", the other way round a bare ValueError
    # "invalid literal for int() with base 10: 'c1'"; customers whose ids could never match the transactions'
    # got rows of empty purchase features without a word
    from crmml.schema import MixedIdWarning
    tx = pd.DataFrame({"customer_id": ["c1", "c1", "c2"], "timestamp": pd.to_datetime(["2024-01-02", "2024-02-01",
                                                                                       "2024-01-20"]),
                       "amount": [5.0, 7.0, 3.0]})
    ev = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06"]),
                       "event_type": ["web_visit", "web_visit"]})
    with pytest.warns(MixedIdWarning, match=r"none of these 2 rows \(ids e.g. \[1, 2\]\) matches a customer of the "
                                            r"transactions or customers \(e.g. \['c1', 'c2'\]\): they are ignored"):
        out = build_features(tx, AS_OF, events=ev, windows=(30,), n_jobs=1)
    assert list(out.index) == ["c1", "c2"]
    with pytest.warns(MixedIdWarning, match=r"none of these 2 rows \(ids e.g. \['c1', 'c2'\]\)"):
        build_features(tx.assign(customer_id=[1, 1, 2]), AS_OF, events=ev.assign(customer_id=["c1", "c2"]),
                       windows=(30,), n_jobs=1)
    with pytest.warns(MixedIdWarning, match=r"none of the 2 customers matches any of the 2 customers of the "
                                            r"transactions \(transactions e.g. \['c1', 'c2'\], customers e.g. "
                                            r"\['1', '2'\]\)"):
        assert len(build_features(tx, AS_OF, customers=pd.DataFrame({"customer_id": [1, 2]}), windows=(30,),
                                  n_jobs=1)) == 4
    ev_text = ev.assign(customer_id=["1", "2"])          # numeric text still matches integer ids, as before
    got = build_features(tx.assign(customer_id=[1, 1, 2]), AS_OF, events=ev_text, windows=(30,), n_jobs=1)
    want = build_features(tx.assign(customer_id=[1, 1, 2]), AS_OF, events=ev, windows=(30,), n_jobs=1)
    pd.testing.assert_frame_equal(got, want)


def test_as_of_long_after_the_data_warns():
    # hostile audit: build_features with an as_of years after the last row made every customer look inactive
    # without a word (rfm_table, CLVModel and NextBestOffer already warned)
    from crmml.schema import AsOfWarning
    tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-02", "2024-01-20"]),
                       "amount": [5.0, 3.0]})
    with pytest.warns(AsOfWarning, match=r"as_of 2030-01-01 is \d+ days after the last row of transactions"):
        build_features(tx, "2030-01-01", windows=(30,), n_jobs=1)


def test_events_without_a_type_are_counted_in_a_warning():
    # audit: events with a missing event_type were left out of every event feature (event_count too), silently
    import warnings

    from crmml.exceptions import DroppedCustomersWarning
    tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-02", "2024-01-31"]),
                       "amount": [5.0, 4.0]})
    ev = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2], "event_type": ["visit", None, None, "visit", "mail"],
                       "timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-03-01", "2024-01-07",
                                                    "2024-01-08"])})
    with pytest.warns(DroppedCustomersWarning, match=r"build_features: 1 events before as_of have no event_type"):
        f = build_features(tx, "2024-02-01", events=ev, windows=(30,))
    assert f["event_count_30d"].tolist() == [1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DroppedCustomersWarning)
        clean = build_features(tx, "2024-02-01", events=ev.dropna(), windows=(30,))
    pd.testing.assert_frame_equal(f, clean)


def test_channels_without_a_channel_column_are_refused_by_name(small_crm):
    """Audit (probing crmml.spark.score): channels= with transactions that have no channel column ended in an
    internal RuntimeError ("feature family 'channel' computed [...] that its templates do not declare"); it is the
    column's SchemaError now, in build_features and so in crmml score and crmml.spark (which pass a model's
    channels). Without channels= the channel family still gives channel_nunique as NaN (unknown)."""
    from crmml.schema import SchemaError

    tx = small_crm.transactions.drop(columns=["channel"])
    with pytest.raises(SchemaError, match=r"transactions\.channel: the column is missing, but "
                                          r"channels=\['online', 'store'\] asks for the share"):
        build_features(tx, AS_OF, channels=["online", "store"])
    X = build_features(tx, AS_OF)
    assert not [c for c in X.columns if c.startswith("channel_") and "_share_" in c]
    assert X.filter(like="channel_nunique").isna().all().all()
    assert build_features(tx, AS_OF, channels=[]).shape == X.shape


def test_missing_category_and_channel_follow_the_documented_rule():
    # lines without a category or channel count in every other feature, but are no category or channel of their own
    tx = pd.DataFrame({"customer_id": [1, 1, 1, 1],
                       "timestamp": pd.to_datetime(["2024-01-02", "2024-01-05", "2024-01-09", "2024-01-09"]),
                       "amount": [5.0, 6.0, 7.0, 1.0], "category": ["a", None, "b", None],
                       "channel": ["web", None, "store", "web"]})
    f = build_features(tx, "2024-01-10", windows=(30,)).loc[1]
    assert f["purchase_count_30d"] == 3 and f["amount_sum_30d"] == 19.0           # every line counted
    assert f["category_nunique_30d"] == 2 and f["channel_nunique_30d"] == 2        # missing is no value
    assert f["channel_web_share_30d"] == f["channel_store_share_30d"] == pytest.approx(1 / 3)  # first line's channel
