"""Run a pandas function per customer-hash bucket: ``groupBy(bucket).applyInPandas``.

Every frame of a call (transactions, events, customers, leads) is tagged, its columns prefixed with
the frame's name, and the frames are unioned, so one ``applyInPandas`` sees, for each bucket
``pmod(xxhash64(key), n_buckets)``, all rows of its customers from every frame at once (a
multi-frame cogroup). A group is one bucket: a customer's rows are never split (``mapInPandas``
would split them across Arrow batches). Inside the function the rows are put back into pandas
frames with the original dtypes (timestamps ``datetime64[ns]``, crossing as microseconds since 1970 so that
neither time zone nor pyarrow's range matters: :func:`crmml.spark._frames.micros`; integers ``int64``), sorted in a
canonical order (:func:`crmml.spark._frames.canonical_order`), and BLAS/OpenMP pools are limited to
one thread: Spark runs one task per core.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml.spark._frames import NAT_MICROS, _quiet, canonical_order, from_micros, micros
from crmml.spark._warnings import recording

__all__ = ["bucket_apply", "default_buckets"]

_FRAME, _BUCKET = "_crmml_frame", "_crmml_bucket"


def default_buckets(spark) -> int:
    """Buckets by default: ``spark.sql.shuffle.partitions``."""
    return max(1, int(spark.conf.get("spark.sql.shuffle.partitions")))


def _prepared(sdf, name, key, key_type):
    """Columns prefixed, key kept, timestamps as micros (:func:`micros`, NULL as NAT_MICROS); the dtype plan."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    cols, plan = [], {}
    for f in sdf.schema.fields:
        c, t = F.col(f"`{f.name}`"), f.dataType
        if f.name == key:
            continue
        if isinstance(t, (T.TimestampType, T.TimestampNTZType, T.DateType)):
            c, kind = F.coalesce(micros(f.name, t), F.lit(NAT_MICROS)), "micros"
        elif isinstance(t, T.IntegralType):
            c, kind = c.cast(T.LongType()), "int"
        elif isinstance(t, T.BooleanType):
            kind = "bool"
        else:
            kind = "asis"
        cols.append(c.alias(f"{name}__{f.name}"))
        plan[f.name] = kind
    keycol = F.col(f"`{key}`").cast(key_type).alias(key)
    return sdf.select(keycol, F.lit(name).alias(_FRAME), *cols), plan


def _restore(part: pd.DataFrame, name: str, key: str, plan: dict) -> pd.DataFrame:
    out = {key: part[key].to_numpy()}
    for col, kind in plan.items():
        s = part[f"{name}__{col}"]
        if kind == "micros":
            out[col] = from_micros(s, name, col)
        elif kind in ("int", "bool") and not s.isna().any():
            out[col] = s.to_numpy().astype(np.int64 if kind == "int" else bool)
        else:
            out[col] = s
    return canonical_order(pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v)
                                         for k, v in out.items()}))


def _to_output(result, schema) -> pd.DataFrame:
    names = [f.name for f in schema.fields]
    if result is None or len(result) == 0:
        return pd.DataFrame({n: pd.Series([], dtype=object) for n in names})
    if any(n is not None for n in result.index.names):
        result = result.reset_index()
    out = {}
    for n in names:
        s = result[n]
        if isinstance(s.dtype, pd.CategoricalDtype) or (s.dtype != object and pd.api.types.is_string_dtype(s.dtype)):
            # text as Python strings: pyspark's Arrow writer refuses a chunked pyarrow string column (pandas' str
            # dtype after a concat, e.g. CLVModel.predict's rule of model and no-purchase customers)
            s = s.astype(object).where(s.notna(), None)
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            s = s.astype("datetime64[us]")
        out[n] = s.reset_index(drop=True)
    return pd.DataFrame(out)


def bucket_apply(frames: dict, func, schema, *, key: str = "customer_id", n_buckets: int | None = None,
                 warnings_to=None):
    """``func({name: pandas frame})`` on every bucket of customers; a Spark DataFrame with ``schema``.

    Parameters
    ----------
    frames : dict of {str: pyspark.sql.DataFrame or None}
        The inputs, each with the ``key`` column (frames given as None are left out).
    func : callable
        Gets ``{name: pandas DataFrame}`` (a frame with 0 rows when the bucket holds none of that
        frame's rows) and returns a pandas frame with the columns of ``schema`` (or the key as index),
        or None for nothing. Must be picklable (a module-level function or a ``functools.partial``).
    schema : StructType
    key : str, default="customer_id"
    n_buckets : int, optional
        Default: ``spark.sql.shuffle.partitions``.
    warnings_to : pyspark Accumulator, optional
        Where each bucket records its crmml warnings (:func:`crmml.spark._warnings.recorder`); without it they
        stay on the workers (jobs whose warnings another job reports, such as a probe of a few customers).
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    frames = {n: f for n, f in frames.items() if f is not None}
    spark = next(iter(frames.values())).sparkSession
    n_buckets = default_buckets(spark) if n_buckets is None else int(n_buckets)
    types = {type(f.schema[key].dataType) for f in frames.values()}
    key_type = T.StringType() if any(issubclass(t, T.StringType) for t in types) else T.LongType()
    prepared, plans = [], {}
    for name, sdf in frames.items():
        p, plans[name] = _prepared(sdf, name, key, key_type)
        prepared.append(p)
    union = prepared[0]
    for p in prepared[1:]:
        union = union.unionByName(p, allowMissingColumns=True)
    union = union.withColumn(_BUCKET, F.pmod(F.xxhash64(F.col(key)), F.lit(n_buckets)))

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1), _quiet():
            tag = pdf[_FRAME].to_numpy()
            parts = {name: _restore(pdf.loc[tag == name], name, key, plan) for name, plan in plans.items()}
            out = func(parts) if warnings_to is None else recording(func, parts, warnings_to)
            return _to_output(out, schema)

    return union.groupBy(_BUCKET).applyInPandas(run, schema)
