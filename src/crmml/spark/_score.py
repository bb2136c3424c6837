"""score: every fitted crmml model that scores customers (or leads), on Spark, bucket by bucket.

The model travels as its :mod:`crmml.persistence` bytes in a broadcast (never pickled) and is
loaded, with every check of :func:`crmml.persistence.load`, once per Python worker process (a
module-level cache keyed by the bytes' SHA-256). Before the lazy scoring frame is returned, a small
job loads the model on the workers, so a model that fails its checks there raises
:class:`crmml.persistence.ModelLoadError` on the driver with the loader's message.
"""

from __future__ import annotations

import functools
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from crmml._utils import check_as_of, check_number
from crmml.exceptions import ParameterError
from crmml.features import DEFAULT_WINDOWS
from crmml.schema import SchemaError
from crmml.spark._buckets import bucket_apply
from crmml.spark._compute import _discover, _features_part, _history
from crmml.spark._errors import surface_errors
from crmml.spark._frames import before, check_spark_frame, last_timestamp, map_spark_columns, spark_schema
from crmml.spark._warnings import recorder

__all__ = ["score"]

#: class name -> (frame scored, key)
KINDS = {
    "RFMSegmenter": ("transactions", "customer_id"),
    "CustomerClusterer": ("transactions", "customer_id"),
    "CLVModel": ("transactions", "customer_id"),
    "ChurnModel": ("transactions", "customer_id"),
    "NextBestOffer": ("transactions", "customer_id"),
    "LeadScorer": ("leads", "lead_id"),
    "RuleLeadScorer": ("leads", "lead_id"),
}

#: class name -> the AsOfWarning checks of its pandas scoring (rfm_table, CLVModel.predict, build_features)
AS_OF_CHECKS = {"RFMSegmenter": ("after", "before"), "CustomerClusterer": ("after", "before"),
                "CLVModel": ("after", "before"), "ChurnModel": ("after",)}

_MODELS: dict = {}          # sha256 -> model, per worker process


def _model_bytes(model) -> bytes:
    """The model's crmml.persistence file, as bytes."""
    from crmml.persistence import save

    with tempfile.TemporaryDirectory(prefix="crmml-spark-") as d:
        path = save(model, Path(d) / "model.zip", format="zip")
        return Path(path).read_bytes()


def _load_bytes(blob: bytes, sha: str):
    """The model of ``blob``, loaded (and checked) once per process."""
    from crmml.persistence import load

    if sha not in _MODELS:
        fd, path = tempfile.mkstemp(prefix="crmml-model-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
            _MODELS.clear()                        # one model at a time per worker: bounded memory
            _MODELS[sha] = load(path)
        finally:
            os.unlink(path)
    return _MODELS[sha]


def _check_on_worker(_, bc, sha):
    return [type(_load_bytes(bc.value, sha)).__name__]


# ------------------------------------------------------------------------------------------ per bucket
def score_frames(model, parts, as_of, reasons, k, features):
    """The pandas scoring of one set of frames (what ``crmml.spark.score`` runs in every bucket)."""
    name = type(model).__name__
    if KINDS[name][0] == "leads":
        leads = parts["leads"]
        if not len(leads):
            return None
        out = model.score_leads(leads)
        if reasons:
            why = model.explain(leads, top_n=3)
            out = out.join(why[[c for c in why.columns if c not in out.columns]])
        return out
    tx = parts["transactions"]
    if name == "NextBestOffer":                    # the customers with a row before as_of, as every other kind
        seen = tx["timestamp"].to_numpy("datetime64[ns]") < as_of.to_datetime64()
        ids = pd.unique(tx["customer_id"].to_numpy()[seen])
        return model.recommend(ids, k=k) if len(ids) else None
    if name == "ChurnModel":
        from crmml.features._registry import scoring_frame

        X = _features_part(parts, as_of, **features)
        if X is None:
            return None
        X = scoring_frame(X, model.feature_names_in_)
        return model.explain(X, top_n=3) if reasons else model.predict_risk(X).to_frame()
    if not _history(tx, as_of):
        return None
    if name == "CLVModel":
        return model.predict(tx, as_of=as_of)
    from crmml.spark._compute import _rfm_part

    return model.transform(_rfm_part(parts, as_of, "drop"))


def _score_part(parts, bc, sha, **kwargs):
    return score_frames(_load_bytes(bc.value, sha), parts, **kwargs)


def _dtypes_part(parts, bc, sha, **kwargs):
    out = _score_part(parts, bc, sha, **kwargs)
    if out is None:
        return None
    if any(n is not None for n in out.index.names):
        out = out.reset_index()
    return pd.DataFrame({"column": [str(c) for c in out.columns], "dtype": [str(d) for d in out.dtypes],
                         "position": np.arange(len(out.columns))})


def _model_channels(model, tx, as_of):
    """The channel columns of the model's features, as ``crmml score`` builds them (values found in the rows of
    ``tx`` before ``as_of``: a spelling that appears only later, e.g. 'Online' for the model's 'online', would
    make the features read a channel with no purchases)."""
    from crmml.features._registry import model_channels   # one rule for both engines

    if "channel" not in tx.columns:
        return model_channels(model.feature_names_in_)
    with surface_errors():
        values = [r[0] for r in tx.where(before(tx, as_of) & tx["channel"].isNotNull()).select("channel")
                  .distinct().collect()]
    return model_channels(model.feature_names_in_, values)


def _as_dtype(text: str):
    try:
        return pd.api.types.pandas_dtype(text)
    except TypeError:
        return np.dtype(object)


# ------------------------------------------------------------------------------------------ public
def score(model, transactions, as_of=None, events=None, customers=None, *, reasons=False, k=5, columns=None,
          n_buckets=None):
    """Score customers (or leads) with a fitted crmml model on Spark; rows equal the pandas API's.

    What runs in each customer bucket is what ``crmml score`` runs on one machine:
    ``RFMSegmenter`` / ``CustomerClusterer``: ``model.transform(rfm_table(tx, as_of))``;
    ``CLVModel``: ``model.predict(tx, as_of=as_of)``; ``ChurnModel``: ``predict_risk`` (or
    ``explain`` with ``reasons``) on ``build_features(tx, as_of, events, customers)`` with the
    model's channel columns (as ``crmml score``; their spelling from the rows before ``as_of``), in the model's
    feature order (a feature the frames do not give is a ``SchemaError``);
    ``NextBestOffer``: ``recommend(customers with a row before as_of, k=k)``; ``LeadScorer`` / ``RuleLeadScorer``:
    ``score_leads(leads)`` (with ``explain`` columns when ``reasons``). Their warnings (``AsOfWarning``, returns-only
    customers, events without a type, ids unseen in fit) are issued on the driver as the pandas scoring issues them,
    when the rows are computed in a :func:`crmml.spark.surface_errors` block (``to_pandas``).

    Parameters
    ----------
    model : fitted crmml model, or the path of a saved one
    transactions : pyspark.sql.DataFrame
        Standard transactions (a leads frame for lead scorers).
    as_of : timestamp or str, optional
        Default: the day after the last transaction.
    events, customers : pyspark.sql.DataFrame, optional
        Feature inputs of ``ChurnModel``.
    reasons : bool, default=False
    k : int, default=5
        Offers per customer (``NextBestOffer``).
    columns : dict, optional
        Your column names -> canonical names (one mapping for every frame, or one per frame name).
    n_buckets : int, optional

    Returns
    -------
    pyspark.sql.DataFrame
        The key column then the pandas API's output columns.

    Raises
    ------
    crmml.persistence.ModelLoadError
        When the model cannot be loaded on the workers (the loader's message).
    crmml.SchemaError
        Input frames that fail their checks (an empty transactions frame when ``as_of`` is not given).
    crmml.exceptions.NoHistoryError
        Nothing to score: no row before ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.segmentation import RFMSegmenter, rfm_table
    >>> from crmml.spark import score, to_spark, to_pandas
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3, 3], "amount": [10.0, 20.0, 5.0, 8.0],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-03-05"])})
    >>> model = RFMSegmenter().fit(rfm_table(tx, "2024-04-01"))
    >>> out = to_pandas(score(model, to_spark(getfixture("spark"), tx), "2024-04-01"), index="customer_id")
    >>> out["segment"].tolist() == model.transform(rfm_table(tx, "2024-04-01"))["segment"].astype(str).tolist()
    True
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    owner = "score"
    if isinstance(model, (str, os.PathLike)):
        from crmml.persistence import load

        model = load(model)
    name = type(model).__name__
    if name not in KINDS:
        raise ParameterError(f"crmml.spark.score cannot score with a {name}; it scores with "
                             f"{', '.join(sorted(KINDS))}.")
    frame, key = KINDS[name]
    check_number(k, "k", owner, low=1)
    f = map_spark_columns(columns, **{frame: transactions, "events": events, "customers": customers})
    transactions, events, customers = f[frame], f["events"], f["customers"]
    main = check_spark_frame(transactions, frame, owner, key=key)
    frames = {frame: main}
    features = {}
    if frame == "transactions":
        if as_of is None:
            last, n_rows = last_timestamp(main)
            if last is None:
                raise SchemaError("transactions", None, "the frame is empty (0 rows)" if n_rows == 0 else
                                  f"missing timestamps (null/NaT) are not allowed ({n_rows:,} rows)")
            as_of = last.normalize() + pd.Timedelta(days=1)
        as_of = check_as_of(as_of, owner)
    if name == "ChurnModel":
        ev = None if events is None else check_spark_frame(events, "events", owner)
        cu = None if customers is None else check_spark_frame(customers, "customers", owner)
        frames.update(events=ev, customers=cu)
        et = _discover(frames, as_of, False, True, n_buckets)[1] if ev is not None else None
        features = {"windows": DEFAULT_WINDOWS, "dtype": "float64", "event_types": et,
                    "channels": _model_channels(model, main, as_of)}
    spark = main.sparkSession
    blob = _model_bytes(model)
    sha = hashlib.sha256(blob).hexdigest()
    bc = spark.sparkContext.broadcast(blob)
    n_check = max(1, spark.sparkContext.defaultParallelism)
    with surface_errors():
        spark.sparkContext.parallelize(range(n_check), n_check).flatMap(
            functools.partial(_check_on_worker, bc=bc, sha=sha)).collect()
    kwargs = dict(bc=bc, sha=sha, as_of=as_of, reasons=bool(reasons), k=int(k), features=features)
    # the output schema: the pandas API's own dtypes, on the rows of a few keys
    history = main if frame == "leads" else main.where(before(main, as_of))
    few = [r[0] for r in history.select(key).limit(3).collect()]
    probe = {n: (f.where(F.col(key).isin(few)) if f is not None else None) for n, f in frames.items()}
    dschema = T.StructType([T.StructField("column", T.StringType()), T.StructField("dtype", T.StringType()),
                            T.StructField("position", T.LongType())])
    with surface_errors():
        rows = bucket_apply(probe, functools.partial(_dtypes_part, **kwargs), dschema, key=key,
                            n_buckets=1).collect()
    if not rows:
        from crmml.exceptions import NoHistoryError

        raise NoHistoryError(f"crmml.spark.score: nothing to score in {frame}: no row before as_of={as_of}.")
    cols = sorted({(r["position"], r["column"], r["dtype"]) for r in rows})
    schema = spark_schema({c: _as_dtype(d) for _, c, d in cols})
    acc = recorder(spark, as_of, AS_OF_CHECKS.get(name, ()))
    return bucket_apply(frames, functools.partial(_score_part, **kwargs), schema, key=key, n_buckets=n_buckets,
                        warnings_to=acc)

