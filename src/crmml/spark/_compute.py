"""The per-customer tables on Spark: build_features, rfm_table, summarize, make_churn_labels.

Each runs the pandas function of the same name on every customer bucket (:mod:`crmml.spark._buckets`)
with the settings that must be equal in every bucket fixed on the driver first: the feature columns
(event types, channels) are discovered once on the cluster when not given, and the output schema
comes from :func:`crmml.features.feature_catalog`.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from crmml._utils import check_as_of, check_in, check_number
from crmml.features import DEFAULT_WINDOWS, compute_features, feature_catalog
from crmml.features._build import _check_windows, _values
from crmml._time import warn_before_first
from crmml.exceptions import ParameterError
from crmml.schema import SchemaError, validate_customers, validate_events, validate_transactions
from crmml.spark._buckets import bucket_apply
from crmml.spark._errors import surface_errors
from crmml.spark._frames import before, check_spark_frame, from_micros, map_spark_columns, micros, spark_schema
from crmml.spark._warnings import recorder

__all__ = ["build_features", "rfm_table", "summarize", "make_churn_labels"]


def _key_dtype(*frames, key="customer_id"):
    """int64 when every frame's key is an integer, else text (as bucket_apply casts it)."""
    from pyspark.sql import types as T

    ints = all(isinstance(f.schema[key].dataType, T.IntegralType) for f in frames if f is not None)
    return np.dtype("int64") if ints else np.dtype(object)


def _history(tx: pd.DataFrame, as_of) -> bool:
    """Whether the bucket has rows before ``as_of``; a bucket skipped for having none is validated first, so a
    bad row (a missing timestamp) raises as in the pandas API instead of leaving its customer out."""
    found = bool(len(tx)) and bool((tx["timestamp"].to_numpy("datetime64[ns]") < as_of.to_datetime64()).any())
    if not found and len(tx):
        validate_transactions(tx, allow_missing_amount=True)
    return found


def _eligible(cu, as_of) -> bool:
    if cu is None or len(cu) == 0:
        return False
    if "signup_date" not in cu.columns:
        return True
    sd = cu["signup_date"].to_numpy("datetime64[ns]")
    return bool((np.isnat(sd) | (sd < as_of.to_datetime64())).any())


def _canonical_parts(parts, as_of):
    """Validated pandas frames of one bucket (0-row frames are passed through: nothing to validate)."""
    tx, ev, cu = parts["transactions"], parts.get("events"), parts.get("customers")
    tx = validate_transactions(tx, allow_missing_amount=True) if len(tx) else tx
    ev = validate_events(ev) if ev is not None and len(ev) else ev
    cu = validate_customers(cu) if cu is not None and len(cu) else cu
    return tx, ev, cu


# ------------------------------------------------------------------------------------------ discovery
def _discover_part(parts, as_of, want_channels, want_types):
    """Channels of purchase occasions and event types of this bucket's customers, as build_features finds them."""
    tx, ev, cu = _canonical_parts(parts, as_of)
    a = as_of.to_datetime64()
    rows = []
    hist = tx[tx["timestamp"].to_numpy("datetime64[ns]") < a] if len(tx) else tx
    if want_channels and len(hist) and "channel" in hist.columns:
        buy = hist[~(hist["amount"].to_numpy(dtype=np.float64, na_value=np.nan) < 0)]
        first = buy.drop_duplicates(["customer_id", "timestamp"], keep="first")["channel"].dropna()
        rows += [("channel", str(v)) for v in pd.unique(first.astype(str))]
    if want_types and ev is not None and len(ev):
        ids = set(hist["customer_id"].tolist())
        if cu is not None and len(cu):
            ok = np.ones(len(cu), bool)
            if "signup_date" in cu.columns:
                sd = cu["signup_date"].to_numpy("datetime64[ns]")
                ok = np.isnat(sd) | (sd < a)
            ids |= set(cu.loc[ok, "customer_id"].tolist())
        e = ev[(ev["timestamp"].to_numpy("datetime64[ns]") < a) & ev["customer_id"].isin(ids).to_numpy()]
        rows += [("event_type", str(v)) for v in pd.unique(e["event_type"].dropna().astype(str))]
    return pd.DataFrame(rows, columns=["kind", "value"])


def _discover(frames, as_of, want_channels, want_types, n_buckets):
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField("kind", T.StringType()), T.StructField("value", T.StringType())])
    fn = functools.partial(_discover_part, as_of=as_of, want_channels=want_channels, want_types=want_types)
    with surface_errors():
        found = bucket_apply(frames, fn, schema, n_buckets=n_buckets).distinct().collect()
    by = {"channel": set(), "event_type": set()}
    for r in found:
        by[r["kind"]].add(r["value"])
    return tuple(sorted(by["channel"])), tuple(sorted(by["event_type"]))


# ------------------------------------------------------------------------------------------ features
def _features_part(parts, as_of, windows, event_types, channels, dtype):
    tx, ev, cu = _canonical_parts(parts, as_of)
    if not _history(tx, as_of) and not _eligible(cu, as_of):
        return None
    return compute_features(tx, as_of, ev, cu, windows, event_types=event_types, channels=channels,
                            dtype=dtype, n_jobs=1)


def build_features(transactions, as_of, events=None, customers=None, windows=DEFAULT_WINDOWS, *,
                   event_types=None, channels=None, attribute_columns=None, dtype="float64", columns=None,
                   n_buckets=None):
    """:func:`crmml.features.build_features` on Spark DataFrames: one row per customer.

    Every customer's rows are processed together in one bucket, so each row equals the pandas
    result (on the same rows, timestamps in microseconds). The columns are those of
    :func:`crmml.features.feature_catalog` for the settings, the same in every bucket: event
    types and channels not given are discovered once on the cluster (one extra Spark job).

    Parameters
    ----------
    transactions, events, customers : pyspark.sql.DataFrame
        Standard-schema frames (``events`` and ``customers`` optional).
    as_of : timestamp or str
    windows : sequence of int, default=(7, 14, 30, 60, 90, 180, 365)
    event_types, channels : sequence of str, optional
        Fix the per-type and per-channel columns (default: discovered as the pandas API does).
    attribute_columns : sequence of str, optional
        Customer columns that become ``attr_{column}`` features (default: all but ``customer_id``
        and ``signup_date``). Numeric and boolean columns give doubles, others text.
    dtype : {"float64", "float32"}, default="float64"
    columns : dict, optional
        Your column names -> canonical names, as in the pandas API (one mapping for every frame, or one
        per frame name); applied with ``toDF`` on the driver.
    n_buckets : int, optional
        Customer-hash buckets (default ``spark.sql.shuffle.partitions``).

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id`` then the features (lazy; nothing runs until an action).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import build_features, to_spark, to_pandas
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [20.0, 35.0, 12.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-02-25"])})
    >>> f = to_pandas(build_features(to_spark(getfixture("spark"), tx), "2024-03-01"), index="customer_id")
    >>> f["amount_sum_90d"].tolist()
    [55.0, 12.0]
    """
    owner = "build_features"
    as_of = check_as_of(as_of, owner)
    windows = _check_windows(windows, owner)
    event_types = _values(event_types, "event_types", owner)
    channels = _values(channels, "channels", owner)
    check_in(dtype, "dtype", owner, ("float64", "float32"))
    f = map_spark_columns(columns, transactions=transactions, events=events, customers=customers)
    transactions, events, customers = f["transactions"], f["events"], f["customers"]
    tx = check_spark_frame(transactions, "transactions", owner)
    ev = None if events is None else check_spark_frame(events, "events", owner)
    cu = None if customers is None else check_spark_frame(customers, "customers", owner)
    attrs = ()
    if cu is not None:
        cols = [c for c in cu.columns if c not in ("customer_id", "signup_date")]
        attrs = tuple(cols if attribute_columns is None else _values(attribute_columns, "attribute_columns", owner))
        unknown = [c for c in attrs if c not in cols]
        if unknown:
            raise ParameterError(f"The 'attribute_columns' parameter of crmml.spark.{owner} names columns that "
                                 f"customers does not have: {unknown}. Its columns: {cu.columns[:20]}.")
        cu = cu.select("customer_id", *(["signup_date"] if "signup_date" in cu.columns else []),
                       *[f"`{c}`" for c in attrs])
    frames = {"transactions": tx, "events": ev, "customers": cu}
    want_ch = channels is None and "channel" in tx.columns
    want_ev = event_types is None and ev is not None
    if want_ch or want_ev:
        found_ch, found_ev = _discover(frames, as_of, want_ch, want_ev, n_buckets)
        channels = found_ch if want_ch else channels
        event_types = found_ev if want_ev else event_types
    if "channel" not in tx.columns:
        channels = None
    cat = feature_catalog(windows, event_types=event_types if ev is not None else None,
                          channels=channels or (), attributes=attrs if cu is not None else None)
    dtypes = {"customer_id": _key_dtype(tx, ev, cu)}
    from pyspark.sql import types as T

    kinds = {} if cu is None else {f.name: f.dataType for f in cu.schema.fields}
    from crmml.features._registry import slug

    numeric_attr = {f"attr_{slug(c)}": isinstance(kinds[c], (T.NumericType, T.BooleanType)) for c in attrs}
    for name in cat["name"]:
        if name in numeric_attr:
            dtypes[name] = np.dtype("float64") if numeric_attr[name] else np.dtype(object)
        else:
            dtypes[name] = np.dtype(dtype)
    fn = functools.partial(_features_part, as_of=as_of, windows=windows, event_types=event_types,
                           channels=channels, dtype=dtype)
    return bucket_apply(frames, fn, spark_schema(dtypes), n_buckets=n_buckets,
                        warnings_to=recorder(tx.sparkSession, as_of, ("after",)))   # as the pandas API checks


# ------------------------------------------------------------------------------------------ small tables
def _tx_table(owner, transactions, as_of, part_fn, out_columns, n_buckets, columns=None, warn=None, **kwargs):
    """The per-customer table of ``part_fn`` on every bucket; ``warn``: the :func:`recorder` arguments of the
    pandas function's warnings (None: its buckets raise none)."""
    transactions = map_spark_columns(columns, transactions=transactions)["transactions"]
    tx = check_spark_frame(transactions, "transactions", owner)
    dtypes = {"customer_id": _key_dtype(tx), **out_columns}
    fn = functools.partial(part_fn, as_of=as_of, **kwargs)
    acc = None if warn is None else recorder(tx.sparkSession, as_of, **warn)
    return bucket_apply({"transactions": tx}, fn, spark_schema(dtypes), n_buckets=n_buckets, warnings_to=acc)


def _rfm_part(parts, as_of, returns_only):
    from crmml.segmentation import rfm_table as pd_rfm

    tx = parts["transactions"]
    if not _history(tx, as_of):
        return None
    return pd_rfm(tx, as_of, returns_only=returns_only)


def rfm_table(transactions, as_of, *, returns_only="drop", columns=None, n_buckets=None):
    """:func:`crmml.segmentation.rfm_table` on a Spark DataFrame (same columns, one row per customer).

    Customers with only returns before ``as_of`` are left out (``returns_only="drop"``) as in the pandas
    API; its :class:`crmml.exceptions.DroppedCustomersWarning` (their count) and ``AsOfWarning`` are issued
    on the driver when the rows are computed in a :func:`crmml.spark.surface_errors` block (``to_pandas``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import rfm_table, to_spark, to_pandas
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 20.0, 5.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"])})
    >>> to_pandas(rfm_table(to_spark(getfixture("spark"), tx), "2024-03-02"), index="customer_id")["frequency"].tolist()
    [2, 1]
    """
    owner = "rfm_table"
    as_of = check_as_of(as_of, owner)
    check_in(returns_only, "returns_only", owner, ("drop", "keep"))
    cols = {"recency": "float64", "frequency": "int64", "monetary": "float64", "avg_order_value": "float64",
            "tenure": "float64", "returns": "float64"}
    return _tx_table(owner, transactions, as_of, _rfm_part, cols, n_buckets, columns, returns_only=returns_only,
                     warn=OUTSIDE)


def _summary_part(parts, as_of, freq, occasion, start):
    from crmml.clv import summarize as pd_summarize

    tx = parts["transactions"]
    if not _history(tx, as_of):
        return None
    return pd_summarize(tx, as_of, freq=freq, occasion=occasion, start=start)


SUMMARY_COLUMNS = {"frequency": "int64", "recency": "float64", "T": "float64", "monetary_value": "float64"}

#: the warnings of a function that cuts the history with crmml._utils.history_before (rfm_table, summarize)
OUTSIDE = {"checks": ("after", "before")}


def summarize(transactions, as_of, *, freq="D", occasion="period", start=None, columns=None, n_buckets=None):
    """:func:`crmml.clv.summarize` on a Spark DataFrame: frequency, recency, T, monetary_value per customer.

    Its warnings (customers with only returns, ``AsOfWarning``) are issued on the driver when the rows are
    computed in a :func:`crmml.spark.surface_errors` block (``to_pandas``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import summarize, to_spark, to_pandas
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 20.0, 5.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-05"])})
    >>> to_pandas(summarize(to_spark(getfixture("spark"), tx), "2024-01-21"), index="customer_id")["T"].tolist()
    [19.0, 15.0]
    """
    owner = "summarize"
    as_of = check_as_of(as_of, owner)
    check_in(freq, "freq", owner, ("D", "W"))
    check_in(occasion, "occasion", owner, ("period", "transaction"))
    start = None if start is None else check_as_of(start, owner, "start")
    return _tx_table(owner, transactions, as_of, _summary_part, SUMMARY_COLUMNS, n_buckets, columns, freq=freq,
                     occasion=occasion, start=start, warn=OUTSIDE)


def _labels_part(parts, as_of, horizon_days, lookback_days):
    from crmml.churn._labels import churn_labels

    tx = parts["transactions"]
    if not len(tx):
        return None
    return churn_labels(validate_transactions(tx, allow_missing_amount=True), as_of, horizon_days,
                        lookback_days, warn=False)


def _label_checks(tx, as_of, lookback_days):
    """First and last timestamp, rows, rows in the look-back window and purchases among them, in one job."""
    from pyspark.sql import functions as F

    from crmml._time import shift_days

    ts = micros("timestamp", tx.schema["timestamp"].dataType)
    window = before(tx, as_of) & ~before(tx, shift_days(as_of, -lookback_days))
    bought = window & ~F.coalesce(F.col("amount") < 0, F.lit(False))
    with surface_errors():
        row = tx.agg(F.min(ts), F.max(ts), F.count(F.lit(1)), F.count(F.when(window, 1)),
                     F.count(F.when(bought, 1))).collect()[0]
    first, last = (None if v is None else pd.Timestamp(from_micros([v], "transactions", "timestamp")[0])
                   for v in row[:2])
    return first, last, *(int(v) for v in row[2:])


def make_churn_labels(transactions, as_of, horizon_days=45, *, lookback_days=365, columns=None, n_buckets=None):
    """:func:`crmml.churn.make_churn_labels` on a Spark DataFrame (``churned``, ``last_purchase``,
    ``purchases_in_horizon``); warns on the driver, as the pandas API does, when the data end early, when
    ``as_of`` is on or before the first row, or when the look-back window holds only returns or no row.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import make_churn_labels, to_spark, to_pandas
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 2], "amount": [10.0, 20.0, 15.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-10", "2024-03-05", "2024-02-01"])})
    >>> lab = make_churn_labels(to_spark(getfixture("spark"), tx), "2024-03-01", horizon_days=5)
    >>> to_pandas(lab, index="customer_id")["churned"].tolist()
    [0, 1]
    """
    from crmml.churn._labels import warn_labels_end, warn_no_purchase_in_window, warn_no_row_in_window

    owner = "make_churn_labels"
    as_of = check_as_of(as_of, owner)
    check_number(horizon_days, "horizon_days", owner, low=1)
    check_number(lookback_days, "lookback_days", owner, low=1)
    tx = check_spark_frame(map_spark_columns(columns, transactions=transactions)["transactions"], "transactions",
                           owner)
    end = as_of + pd.Timedelta(days=horizon_days)
    first, last, n_rows, n_window, n_bought = _label_checks(tx, as_of, lookback_days)
    if n_rows == 0:
        raise SchemaError("transactions", None, "the frame is empty (0 rows)")
    # the pandas API's three warnings, from one small job on the whole frame (the buckets raise none)
    if last is not None and last < end - pd.Timedelta(days=1):
        warn_labels_end(last, end, stacklevel=2)
    if first is not None:
        warn_before_first(as_of, first, n_rows, stacklevel=2)
    if n_window and not n_bought:
        warn_no_purchase_in_window(n_window, stacklevel=2)
    if not n_window and first is not None and first < as_of:
        warn_no_row_in_window(as_of, lookback_days, stacklevel=2)
    cols = {"churned": "int64", "last_purchase": "datetime64[ns]", "purchases_in_horizon": "int64"}
    return _tx_table(owner, tx, as_of, _labels_part, cols, n_buckets, horizon_days=int(horizon_days),
                     lookback_days=int(lookback_days))
