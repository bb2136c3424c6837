"""crmml.spark on hostile and unusual inputs: the pandas API's result, or the same named crmml error.

Small frames, one local Spark session (the rootdir ``spark`` fixture). Each test names what it checks;
the pandas reference runs on the same rows (``crmml.spark.to_pandas`` of the Spark input).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from crmml import SchemaError
from crmml.churn import make_churn_labels
from crmml.clv import summarize
from crmml.exceptions import IdTypeError, NoHistoryError, ParameterError
from crmml.features import build_features
from crmml.segmentation import RFMSegmenter, rfm_table

AS_OF = "2024-03-01"
TX = pd.DataFrame({"customer_id": [1, 1, 2, 3], "amount": [10.0, 20.0, 5.0, 7.0],
                   "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-15", "2024-02-10"])})


def _frame(spark, rows, ts_type="timestamp_ntz"):
    return spark.createDataFrame(rows, f"customer_id long, timestamp {ts_type}, amount double")


def test_null_timestamp_alone_in_its_bucket_is_refused_not_dropped(spark):
    """Before: a customer whose only row had a NULL timestamp was skipped without validation by rfm_table and
    summarize (its bucket had no history), so it vanished from the result; the pandas API raises SchemaError."""
    from crmml import spark as cs

    sdf = _frame(spark, [(1, dt.datetime(2024, 1, 1), 1.0), (2, None, 2.0)])
    for fn in (cs.rfm_table, cs.summarize):
        with pytest.raises(SchemaError, match=r"transactions.timestamp: missing timestamps"):
            cs.to_pandas(fn(sdf, AS_OF, n_buckets=64))


@pytest.mark.parametrize("ts_type", ["timestamp_ntz", "timestamp"])
def test_timestamps_beyond_2262_get_the_pandas_validators_error(spark, ts_type):
    """Before: a naive year-2500 timestamp failed with a raw PythonException (pyarrow's cast to nanoseconds), and a
    tz-aware one wrapped around silently (a wrong date, a wrong result). Now both get the pandas validator's
    SchemaError; dates before 1970 still equal the pandas API."""
    from crmml import spark as cs

    far = _frame(spark, [(1, dt.datetime(2024, 1, 1), 1.0), (2, dt.datetime(2500, 1, 2), 2.0)], ts_type)
    with pytest.raises(SchemaError, match=r"transactions.timestamp: .*1677-09-22"):
        cs.to_pandas(cs.rfm_table(far, AS_OF))
    old = _frame(spark, [(1, dt.datetime(1950, 1, 1, 0, 0, 0, 7), 1.0), (2, dt.datetime(1969, 12, 31), 2.0)], ts_type)
    got = cs.to_pandas(cs.rfm_table(old, AS_OF), index="customer_id")
    assert_frame_equal(got, rfm_table(cs.to_pandas(old), AS_OF), check_exact=True)


def test_session_and_driver_time_zone_do_not_shift_tz_aware_timestamps(spark, monkeypatch):
    """Before: cs.to_pandas read a tz-aware TIMESTAMP column in the session time zone (New York: 5 h earlier than
    the UTC the computations use), and the driver-side last timestamp (score's default as_of, the labels' warning)
    in the driver's local time. Now both are the UTC instant whatever the time zones."""
    import time

    from pyspark.sql import functions as F

    from crmml import spark as cs

    tx = TX.assign(timestamp=TX["timestamp"] + pd.Timedelta(hours=23))
    sdf = cs.to_spark(spark, tx).withColumn("timestamp", F.col("timestamp").cast("timestamp"))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        back = cs.to_pandas(sdf.withColumn("timestamp", F.col("timestamp")))      # instants as UTC, naive
        labels = cs.to_pandas(cs.make_churn_labels(sdf, "2024-01-20", horizon_days=5), index="customer_id")
        seg = RFMSegmenter().fit(rfm_table(tx, "2024-02-11"))
        scored = cs.to_pandas(cs.score(seg, sdf), index="customer_id")            # as_of: the day after the last
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        monkeypatch.delenv("TZ")
        time.tzset()
    expected = tx.sort_values(list(tx.columns)).reset_index(drop=True)[list(back.columns)]
    assert_frame_equal(back, expected.astype({"timestamp": "datetime64[ns]"}), check_exact=True)
    assert_frame_equal(labels, make_churn_labels(tx, "2024-01-20", horizon_days=5), check_exact=True)
    expected = seg.transform(rfm_table(tx, "2024-02-11"))
    assert scored["segment"].tolist() == expected["segment"].astype(str).tolist()


def test_columns_mapping_is_accepted_as_in_the_pandas_api(spark):
    """Before: the Spark functions had no columns= (TypeError: unexpected keyword argument); now the pandas API's
    mapping rules apply (map_frames), with its SchemaError for a bad mapping."""
    from crmml import spark as cs

    theirs = TX.rename(columns={"customer_id": "Cust", "amount": "Total"})
    sdf = cs.to_spark(spark, theirs)
    m = {"Cust": "customer_id", "Total": "amount"}
    for name, pandas_fn in [("rfm_table", rfm_table), ("summarize", summarize)]:
        got = cs.to_pandas(getattr(cs, name)(sdf, AS_OF, columns=m), index="customer_id")
        assert_frame_equal(got, pandas_fn(theirs, AS_OF, columns=m), check_exact=True)
    got = cs.to_pandas(cs.build_features(sdf, AS_OF, columns=m), index="customer_id")
    assert_frame_equal(got, build_features(theirs, AS_OF, columns=m), check_exact=True)
    with pytest.raises(SchemaError, match="column mapping names columns"):
        cs.rfm_table(sdf, AS_OF, columns={"Nope": "amount"})


def test_empty_frame_where_a_job_already_runs_is_the_pandas_error(spark):
    """Before: make_churn_labels on 0 rows returned 0 labels and score without as_of raised a plain ValueError; the
    pandas API raises SchemaError('the frame is empty'). Both now raise it (from the job each already ran). Nothing
    before as_of: NoHistoryError (was a plain ValueError)."""
    from crmml import spark as cs

    empty = cs.to_spark(spark, TX.iloc[:0])
    seg = RFMSegmenter().fit(rfm_table(TX, AS_OF))
    with pytest.raises(SchemaError, match=r"transactions: the frame is empty"):
        cs.make_churn_labels(empty, AS_OF)
    with pytest.raises(SchemaError, match=r"transactions: the frame is empty"):
        cs.score(seg, empty)
    with pytest.raises(NoHistoryError, match="no row before as_of"):
        cs.score(seg, cs.to_spark(spark, TX), "2000-01-01")


def test_named_errors_raised_on_a_worker_keep_their_class(spark):
    """Before: only SchemaError/ModelLoadError were rebuilt on the driver; a NextBestOffer fitted on integer ids and
    given text ids failed with a raw PythonException around IdTypeError. Now the worker's crmml class is raised."""
    from pyspark.sql import functions as F

    from crmml import spark as cs
    from crmml.recommend import NextBestOffer

    tx = TX.assign(product_id=["a", "b", "a", "c"])
    nbo = NextBestOffer().fit(tx)
    text_ids = cs.to_spark(spark, tx).withColumn("customer_id", F.concat(F.lit("c"), F.col("customer_id")))
    with pytest.raises(IdTypeError) as info:
        cs.score(nbo, text_ids, AS_OF)
    assert "Traceback" not in str(info.value) and "java" not in str(info.value).lower()


def test_wrong_types_are_refused_on_the_driver_with_a_fix(spark):
    """Float ids, text dates and text amounts: the pandas API's column-wide rules (ids such as 1.0, day-first dates)
    need every row at once, so Spark frames must give canonical types. Before: a SchemaError without a fix; now it
    says how to cast. Also: a repeated column name (Spark allows it) is the pandas rule's SchemaError, not a
    Spark AnalysisException later."""
    from crmml import spark as cs

    floats = spark.createDataFrame([(1.0, dt.datetime(2024, 1, 1), 1.0)], "customer_id double, timestamp timestamp, amount double")
    with pytest.raises(SchemaError, match=r"customer_id: has Spark type double.*cast\('long'\)"):
        cs.rfm_table(floats, AS_OF)
    text = spark.createDataFrame([(1, "01/02/2024", "5")], "customer_id long, timestamp string, amount string")
    with pytest.raises(SchemaError, match=r"timestamp: has Spark type string.*to_timestamp"):
        cs.summarize(text, AS_OF)
    with pytest.raises(SchemaError, match=r"amount: has Spark type string.*cast\('double'\)"):
        cs.summarize(text.withColumn("timestamp", text["timestamp"].cast("timestamp")), AS_OF)
    dup = cs.to_spark(spark, TX).selectExpr("customer_id", "timestamp", "amount", "amount")
    with pytest.raises(SchemaError, match="appear more than once"):
        cs.rfm_table(dup, AS_OF)


def test_to_pandas_to_spark_and_canonical_order_refuse_bad_arguments_by_name(spark):
    """Before: to_pandas(index='nope') failed with pandas' KeyError after collecting everything, categories=[...]
    with AttributeError; to_spark turned a tz-aware column into text and a repeated column name into
    AttributeError; canonical_order(a Spark frame) raised TypeError: object has no len()."""
    from crmml import spark as cs

    sdf = cs.to_spark(spark, TX)
    for bad in ("nope", 12345, ["customer_id", 3]):
        with pytest.raises(ParameterError, match="'index' parameter of to_pandas"):
            cs.to_pandas(sdf, index=bad)
    with pytest.raises(ParameterError, match="'categories' parameter of to_pandas"):
        cs.to_pandas(sdf, categories=["a"])
    aware = TX.assign(timestamp=TX["timestamp"].dt.tz_localize("Europe/Paris"))
    back = cs.to_pandas(cs.to_spark(spark, aware))
    expected = TX.assign(timestamp=aware["timestamp"].dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]"))
    assert_frame_equal(back, expected.sort_values(list(TX.columns)).reset_index(drop=True), check_exact=True)
    with pytest.raises(SchemaError, match="appear more than once"):
        cs.to_spark(spark, pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(cs.SparkInputError, match="canonical_order expects a pandas DataFrame"):
        cs.canonical_order(sdf)


def test_to_spark_applies_the_pandas_id_rule(spark):
    """Before: object ids mixing numbers and text became text silently (the pandas API warns MixedIdWarning), and
    float ids such as 1.0 reached Spark as doubles, which every crmml.spark function then refused."""
    from crmml import spark as cs
    from crmml.schema import MixedIdWarning

    mixed = TX.assign(customer_id=pd.Series([1, "b", 1, "b"], dtype=object))
    with pytest.warns(MixedIdWarning, match="mixes"):
        back = cs.to_pandas(cs.to_spark(spark, mixed))
    assert set(back["customer_id"]) == {"1", "b"}
    floats = TX.assign(customer_id=TX["customer_id"].astype(float))
    assert_frame_equal(cs.to_pandas(cs.rfm_table(cs.to_spark(spark, floats), AS_OF), index="customer_id"),
                       rfm_table(floats, AS_OF), check_exact=True, check_dtype=False)


def test_cases_that_already_matched_the_pandas_api(spark):
    """Audited and equal before this change (kept as regression checks): NULL ids, duplicate customers, extra and
    reordered columns, as_of as date / tz-aware timestamp / NaT / number."""
    from pyspark.sql import functions as F

    from crmml import spark as cs
    from crmml._time import AsOfError

    nulls = _frame(spark, [(1, dt.datetime(2024, 1, 1), 1.0), (None, dt.datetime(2024, 1, 2), 2.0)])
    with pytest.raises(SchemaError, match="null ids are not allowed"):
        cs.to_pandas(cs.rfm_table(nulls, AS_OF))
    sdf = cs.to_spark(spark, TX)
    cu = cs.to_spark(spark, pd.DataFrame({"customer_id": [1, 1, 2], "age": [30, 31, 40]}))
    with pytest.raises(SchemaError, match="customers.customer_id: ids must be unique"):
        cs.to_pandas(cs.build_features(sdf, AS_OF, customers=cu))
    odd = sdf.withColumn("zzz", F.lit("x")).select("amount", "zzz", "timestamp", "customer_id")
    assert_frame_equal(cs.to_pandas(cs.rfm_table(odd, AS_OF), index="customer_id"), rfm_table(TX, AS_OF),
                       check_exact=True)
    for as_of in (dt.date(2024, 3, 1), pd.Timestamp("2024-03-01 01:00", tz="Europe/Paris")):
        assert_frame_equal(cs.to_pandas(cs.summarize(sdf, as_of), index="customer_id"), summarize(TX, as_of),
                           check_exact=True)
    for bad in (pd.NaT, 20240301):
        with pytest.raises(AsOfError):
            cs.summarize(sdf, bad)


def test_a_churn_model_missing_its_customer_features_is_refused(spark):
    """Before: the features a bucket could not build (customer attributes when customers= was not passed) were
    scored as missing values, silently giving other probabilities than the pandas API with the customers frame."""
    from crmml import spark as cs
    from crmml.churn import ChurnModel, make_churn_snapshot
    from crmml.datasets import make_synthetic_crm

    crm = make_synthetic_crm(n_customers=300, seed=4, with_events=False)
    cutoff = crm.start + pd.Timedelta(days=400)
    X, y = make_churn_snapshot(crm.transactions, cutoff, 45, customers=crm.customers)
    model = ChurnModel(n_estimators=20, random_state=0).fit(X, y.to_numpy())
    with pytest.raises(SchemaError, match=r"the churn model reads \d+ feature\(s\) these frames do not give"):
        cs.score(model, cs.to_spark(spark, crm.transactions), cutoff + pd.Timedelta(days=45))


def test_clv_scores_of_a_base_with_returns_only_customers_equal_pandas(spark):
    """Before: a SparkJobError (pyarrow could not convert the chunked text column `rule`, 'model' beside
    'no_purchase'); now the pandas API's rows, bit for bit."""
    import warnings

    from crmml import spark as cs
    from crmml.clv import CLVModel

    rows = [(c, 10.0 + c, f"2024-01-{c:02d}") for c in range(1, 9)] + [(c, 12.0, "2024-02-10") for c in (1, 3, 5)]
    rows += [(100 + c, -5.0, f"2024-02-{c:02d}") for c in range(1, 6)]
    tx = pd.DataFrame({"customer_id": [r[0] for r in rows], "amount": [r[1] for r in rows],
                       "timestamp": pd.to_datetime([r[2] for r in rows])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = CLVModel(horizon_days=90).fit(tx[tx["amount"] > 0], "2024-03-01")
        expected = model.predict(tx, as_of="2024-03-01")
        got = cs.to_pandas(cs.score(model, cs.to_spark(spark, tx), "2024-03-01", n_buckets=4), index="customer_id")
    assert (expected["rule"] == "no_purchase").sum() == 5
    assert_frame_equal(got, expected.assign(rule=expected["rule"].astype(object)).sort_index(kind="mergesort"),
                       check_exact=True, check_dtype=False)
