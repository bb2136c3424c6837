"""crmml.spark on a real local Spark returns exactly what the pandas API returns.

Data: make_synthetic_crm with events and customer attributes, timestamps floored to the microsecond
(Spark's resolution) and rows in canonical order (crmml.spark sorts each bucket the same way).
Spark frames are compared with the pandas API after sorting by customer, with check_exact=True.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from crmml.churn import ChurnModel, make_churn_labels, make_churn_snapshot
from crmml.features._registry import model_channels
from crmml.clv import CLVModel, summarize
from crmml.datasets import make_synthetic_crm
from crmml.features import build_features
from crmml.recommend import NextBestOffer
from crmml.scoring import LeadScorer
from crmml.segmentation import CustomerClusterer, RFMSegmenter, rfm_table

N_CUSTOMERS = 20_000
AS_OF = pd.Timestamp("2024-07-01")


def _us(df):
    from crmml.spark import canonical_order

    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_datetime64_dtype(df[c].dtype):
            df[c] = df[c].dt.floor("us")
    return canonical_order(df)


def _text(df):
    """Categorical columns as text (Spark has no categorical type; to_pandas(categories=...) restores them)."""
    df = df.copy()
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype(str).where(df[c].notna(), np.nan)
    return df


@pytest.fixture(scope="module")
def crm(spark):
    from crmml.spark import to_spark

    raw = make_synthetic_crm(n_customers=N_CUSTOMERS, seed=7)
    pdf = {n: _us(getattr(raw, n)) for n in ("transactions", "events", "customers", "leads")}
    sdf = {n: to_spark(spark, f).cache() for n, f in pdf.items()}
    return pdf, sdf


def _equal(got_sdf, expected, index="customer_id"):
    from crmml.spark import to_pandas

    got = to_pandas(got_sdf, index=index)
    assert_frame_equal(got, _text(expected).sort_index(kind="mergesort"), check_exact=True)


def test_build_features_equals_pandas(crm):
    from crmml import spark as cs

    pdf, sdf = crm
    expected = build_features(pdf["transactions"], AS_OF, pdf["events"], pdf["customers"])
    got = cs.build_features(sdf["transactions"], AS_OF, sdf["events"], sdf["customers"])
    assert got.columns[1:] == list(expected.columns)
    _equal(got, expected)


@pytest.mark.parametrize("name", ["rfm_table", "summarize", "make_churn_labels"])
def test_tables_equal_pandas(crm, name):
    from crmml import spark as cs

    pdf, sdf = crm
    pandas_fn = {"rfm_table": rfm_table, "summarize": summarize, "make_churn_labels": make_churn_labels}[name]
    _equal(getattr(cs, name)(sdf["transactions"], AS_OF), pandas_fn(pdf["transactions"], AS_OF))


def test_fit_clv_same_parameters_and_scores(crm):
    from crmml import spark as cs

    pdf, sdf = crm
    expected = CLVModel(horizon_days=180).fit(pdf["transactions"], AS_OF)
    model = cs.fit_clv(sdf["transactions"], AS_OF, horizon_days=180)
    assert_frame_equal(model.purchase_model_.summary_, expected.purchase_model_.summary_, check_exact=True)
    assert_frame_equal(model.spend_model_.summary_, expected.spend_model_.summary_, check_exact=True)
    _equal(cs.score(model, sdf["transactions"], AS_OF), expected.predict(pdf["transactions"], as_of=AS_OF))


@pytest.mark.parametrize("method", ["rfm", "clusters"])
def test_score_segments_equal_pandas(crm, method):
    from crmml import spark as cs

    pdf, sdf = crm
    table = rfm_table(pdf["transactions"], AS_OF)
    model = (RFMSegmenter() if method == "rfm" else CustomerClusterer(random_state=0)).fit(table)
    fitted_on_spark = cs.fit_segmenter(sdf["transactions"], AS_OF, method=method,
                                       **({} if method == "rfm" else {"random_state": 0}))
    assert_frame_equal(fitted_on_spark.transform(table), model.transform(table), check_exact=True)
    _equal(cs.score(model, sdf["transactions"], AS_OF), model.transform(table))


def test_score_churn_equals_pandas(crm):
    from crmml import spark as cs

    pdf, sdf = crm
    tx, ev, cu = pdf["transactions"], pdf["events"], pdf["customers"]
    cutoff = AS_OF - pd.Timedelta(days=45)
    X, y = make_churn_snapshot(tx, cutoff, 45, events=ev, customers=cu)
    model = ChurnModel(random_state=0, n_estimators=60).fit(X.select_dtypes("number"), y.to_numpy())
    channels = model_channels(model.feature_names_in_, tx["channel"])
    Xs = build_features(tx, AS_OF, ev, cu, channels=channels).reindex(columns=list(model.feature_names_in_))
    expected = model.explain(Xs, top_n=3)        # reasons=True: explain's columns include predict_risk's
    assert_series_equal(expected["churn_probability"], model.predict_risk(Xs), check_exact=True)
    _equal(cs.score(model, sdf["transactions"], AS_OF, sdf["events"], sdf["customers"], reasons=True), expected)


def test_score_next_best_offer_equals_pandas(crm):
    from crmml import spark as cs
    from crmml.spark import to_pandas

    pdf, sdf = crm
    model = NextBestOffer().fit(pdf["transactions"], as_of=AS_OF)
    tx = pdf["transactions"]
    expected = model.recommend(tx.loc[tx["timestamp"] < AS_OF, "customer_id"].unique(), k=3)   # seen before as_of
    got = to_pandas(cs.score(model, sdf["transactions"], AS_OF, k=3), sort=False)
    keys = ["customer_id", "rank"]
    assert_frame_equal(got.sort_values(keys).reset_index(drop=True),
                       _text(expected).sort_values(keys).reset_index(drop=True), check_exact=True)


def test_score_leads_equals_pandas(crm):
    from crmml import spark as cs

    pdf, sdf = crm
    leads = pdf["leads"]
    model = LeadScorer(random_state=0).fit(leads)
    expected = model.score_leads(leads)
    why = model.explain(leads, top_n=3)
    expected = expected.join(why[[c for c in why.columns if c not in expected.columns]])
    _equal(cs.score(model, sdf["leads"], reasons=True), expected, index="lead_id")


def test_more_buckets_than_customers_and_empty_buckets(spark, crm):
    """64 buckets for 12 customers: most buckets are empty, some hold only events or customers."""
    from crmml import spark as cs
    from crmml.spark import to_spark

    pdf, _ = crm
    ids = pdf["customers"]["customer_id"].iloc[:12].to_numpy()
    tx = pdf["transactions"][pdf["transactions"]["customer_id"].isin(ids[:8])].reset_index(drop=True)
    ev = pdf["events"][pdf["events"]["customer_id"].isin(ids[4:])].reset_index(drop=True)
    cu = pdf["customers"][pdf["customers"]["customer_id"].isin(ids)].reset_index(drop=True)
    cu["signup_date"] = pd.Timestamp("2023-01-01")          # every customer is eligible, with or without history
    stx, sev, scu = (to_spark(spark, f) for f in (tx, ev, cu))
    kw = {"event_types": ["web_visit", "email_open"], "channels": ["store", "online"]}
    expected = build_features(tx, AS_OF, ev, cu, **kw)
    assert len(expected) == 12
    _equal(cs.build_features(stx, AS_OF, sev, scu, n_buckets=64, **kw), expected)
    _equal(cs.rfm_table(stx, AS_OF, n_buckets=64), rfm_table(tx, AS_OF))
    model = RFMSegmenter().fit(rfm_table(tx, AS_OF))
    _equal(cs.score(model, stx, AS_OF, n_buckets=64), model.transform(rfm_table(tx, AS_OF)))


# ------------------------------------------------------------------------------------------ wrong use
def test_pandas_frame_is_refused_by_name(crm):
    from crmml import spark as cs

    pdf, _ = crm
    with pytest.raises(cs.SparkInputError, match=r"must be a pyspark.sql.DataFrame. Got DataFrame.*to_spark"):
        cs.build_features(pdf["transactions"], AS_OF)
    with pytest.raises(cs.SparkInputError, match="must be a pyspark.sql.DataFrame"):
        cs.score(RFMSegmenter(), pdf["transactions"], AS_OF)


def test_missing_canonical_column_is_a_schema_error(crm):
    from crmml import SchemaError
    from crmml import spark as cs

    _, sdf = crm
    renamed = sdf["transactions"].withColumnRenamed("amount", "Total")
    with pytest.raises(SchemaError, match=r"transactions.amount: required column is missing"):
        cs.rfm_table(renamed, AS_OF)
    wrong = sdf["transactions"].withColumn("timestamp", sdf["transactions"]["amount"])
    with pytest.raises(SchemaError, match=r"transactions.timestamp: has Spark type double"):
        cs.summarize(wrong, AS_OF)


def test_bad_values_inside_a_bucket_surface_as_schema_error(spark):
    from crmml import SchemaError
    from crmml import spark as cs
    from crmml.spark import to_pandas, to_spark

    tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
                       "amount": [1.0, np.inf]})
    with pytest.raises(SchemaError, match=r"transactions.amount"):
        to_pandas(cs.rfm_table(to_spark(spark, tx), AS_OF))


def test_model_failing_its_checks_on_a_worker_fails_with_the_loaders_message(crm, monkeypatch, tamper):
    """The bytes shipped to the workers were tampered with: the job fails with ModelLoadError, not a Java trace."""
    from crmml import spark as cs
    from crmml.persistence import ModelLoadError
    from crmml.spark import _score

    pdf, sdf = crm
    model = RFMSegmenter().fit(rfm_table(pdf["transactions"], AS_OF))
    bad = tamper(_score._model_bytes(model))         # the driver's model is fine; the workers get these bytes
    monkeypatch.setattr(_score, "_model_bytes", lambda m: bad)
    with pytest.raises(ModelLoadError, match=r"tampered with or corrupted.*metadata.json") as info:
        cs.score(model, sdf["transactions"], AS_OF)
    assert "Traceback" not in str(info.value) and "java" not in str(info.value).lower()


def test_timestamps_round_trip_in_microseconds_and_tz_aware_as_utc(spark):
    from pyspark.sql import functions as F

    from crmml import spark as cs
    from crmml.spark import to_pandas, to_spark

    tx = pd.DataFrame({"customer_id": [1, 1], "amount": [1.0, 2.0],
                       "timestamp": pd.to_datetime(["2024-01-01 10:00:00.123456789", "2024-01-03 23:30:00.000000000"])})
    s = to_spark(spark, tx)
    back = to_pandas(s, index="customer_id")
    assert back["timestamp"].dtype == np.dtype("datetime64[ns]")
    assert back["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 10:00:00.123456")
    # the same instants as a tz-aware Spark TIMESTAMP, in another session time zone: same result
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        micros = to_spark(spark, tx.assign(timestamp=tx["timestamp"].dt.floor("us").astype("int64") // 1000))
        ltz = micros.withColumn("timestamp", F.timestamp_micros("timestamp"))      # TIMESTAMP: an instant
        got = to_pandas(cs.summarize(ltz, "2024-01-04"), index="customer_id")
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert_frame_equal(got, summarize(_us(tx), "2024-01-04"), check_exact=True)


def test_to_pandas_restores_categorical_columns(spark):
    """README: "Categorical columns come back as text (cs.to_pandas(..., categories={...}) restores them)": RFM
    segments (categorical) sent through Spark come back as text, and with ``categories=`` equal the pandas frame
    exactly, the fitted category order included. (That cs.score gives these segments as text:
    test_score_segments_equal_pandas.)"""
    from crmml.spark import to_pandas, to_spark

    tx = make_synthetic_crm(n_customers=150, seed=5, with_events=False).transactions
    rfm = rfm_table(tx, AS_OF)
    expected = RFMSegmenter().fit(rfm).transform(rfm).sort_index(kind="mergesort")
    expected.loc[expected.index[:3], "segment"] = np.nan                 # a missing value stays missing
    cats = {c: list(expected[c].cat.categories) for c in expected.columns
            if isinstance(expected[c].dtype, pd.CategoricalDtype)}
    assert "segment" in cats and len(cats["segment"]) > 3 and cats["segment"] != sorted(cats["segment"])
    sdf = to_spark(spark, expected.reset_index())
    as_text = to_pandas(sdf, index="customer_id")
    assert not any(isinstance(as_text[c].dtype, pd.CategoricalDtype) for c in cats)
    restored = to_pandas(sdf, index="customer_id", categories={**cats, "not_a_column": ["x"]})
    assert_frame_equal(restored, expected, check_exact=True)
    assert list(restored["segment"].cat.categories) == cats["segment"]     # the fitted order, not sorted


@pytest.mark.parametrize("bad", [20240701, "9999-12-31"])
def test_score_refuses_a_bad_cutoff(spark, bad):
    from crmml import spark as cs
    from crmml._time import AsOfError
    from crmml.spark import to_spark

    tx = make_synthetic_crm(n_customers=20, seed=2, with_events=False).transactions
    model = RFMSegmenter().fit(rfm_table(tx, AS_OF))
    with pytest.raises(AsOfError, match="The 'as_of' parameter of "):
        cs.score(model, to_spark(spark, tx), bad)
