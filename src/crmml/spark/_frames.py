"""Spark <-> pandas frames: input checks, canonical Spark types and timestamps in microseconds.

Spark stores timestamps in microseconds; pandas in nanoseconds. :func:`to_spark` floors pandas
timestamps to the microsecond and writes them as ``TIMESTAMP_NTZ`` (naive, as the crmml schema
keeps them; tz-aware ones in UTC); :func:`to_pandas` reads them back as ``datetime64[ns]``. Every
timestamp crosses to pandas as microseconds since 1970 (:func:`micros`): tz-aware ``TIMESTAMP`` as
the UTC instant, naive ``TIMESTAMP_NTZ`` and ``DATE`` as they are, so nothing depends on the session
or driver time zone, and dates that ``datetime64[ns]`` cannot hold get the pandas validator's
:class:`crmml.SchemaError` (:func:`from_micros`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmml._schema_coerce import _in_range
from crmml._utils import check_in
from crmml.exceptions import CrmmlError, ParameterError
from crmml.schema import SPECS, SchemaError, map_columns, map_frames, normalize_ids

__all__ = ["SparkInputError", "check_spark_frame", "map_spark_columns", "to_spark", "to_pandas", "spark_schema",
           "canonical_order", "micros", "from_micros", "last_timestamp"]

#: id columns of the canonical frames that to_spark brings to the pandas API's id rule
_ID_COLUMNS = ("customer_id", "lead_id", "product_id")

#: how to turn a Spark column of another type into the canonical one (the driver-side error's hint)
_HINTS = {"id": " (cast it: integer ids with .cast('long'), others with .cast('string'); the pandas API's rule for "
                "float ids such as 1.0 needs every row of the column, so Spark frames give ids as integers or text)",
          "datetime": " (parse text with pyspark.sql.functions.to_timestamp(col, format) and numbers with "
                      "timestamp_micros/timestamp_seconds; the pandas API's day-first rule needs every row of the "
                      "column at once)",
          "float": " (cast it with .cast('double'))"}


class SparkInputError(TypeError, ValueError, CrmmlError):
    """A ``crmml.spark`` function got something other than a Spark DataFrame (e.g. a pandas frame).

    >>> import pandas as pd
    >>> from crmml.spark import to_pandas
    >>> to_pandas(pd.DataFrame({"customer_id": [1]}))
    Traceback (most recent call last):
    crmml.spark._frames.SparkInputError: to_pandas expects a pyspark.sql.DataFrame. Got DataFrame instead.
    """


def _is_spark_frame(obj) -> bool:
    try:
        from pyspark.sql import DataFrame
    except ImportError:  # pragma: no cover - pyspark is the extra
        return False
    return isinstance(obj, DataFrame)


def check_spark_frame(sdf, frame: str, owner: str, *, key: str = "customer_id"):
    """Check that ``sdf`` is a Spark DataFrame with the canonical columns of ``frame``; return it.

    Raises :class:`SparkInputError` for anything but a Spark DataFrame and
    :class:`crmml.SchemaError` for repeated column names, missing canonical columns or columns of the
    wrong type (from ``sdf.schema``: no Spark job).
    """
    from pyspark.sql import types as T

    if not _is_spark_frame(sdf):
        hint = (" (convert it with crmml.spark.to_spark(spark, df), or use the pandas API)"
                if isinstance(sdf, pd.DataFrame) else "")
        raise SparkInputError(f"The {frame!r} argument of crmml.spark.{owner} must be a pyspark.sql.DataFrame. "
                              f"Got {type(sdf).__name__} instead{hint}.")
    spec = SPECS[frame]
    map_columns(pd.DataFrame(columns=list(sdf.columns)), None, frame)        # repeated names: the pandas rule
    fields = {f.name: f.dataType for f in sdf.schema.fields}
    for col in spec.required:
        if col not in fields:
            raise SchemaError(frame, col, f"required column is missing from the Spark DataFrame; got columns "
                              f"{list(fields)[:20]} (map your names with columns={{'your_name': '{col}'}})")
    for col, kind in spec.columns.items():
        if col not in fields:
            continue
        t = fields[col]
        ok = {"id": (T.IntegralType, T.StringType), "datetime": (T.TimestampType, T.TimestampNTZType, T.DateType),
              "float": (T.NumericType,), "str": (T.StringType,), "label": (T.NumericType,)}[kind]
        if not isinstance(t, ok):
            raise SchemaError(frame, col, f"has Spark type {t.simpleString()}, expected "
                              f"{' or '.join(c.__name__.replace('Type', '').lower() for c in ok)}"
                              f"{_HINTS.get(kind, '')}")
    return sdf


def map_spark_columns(columns, **frames) -> dict:
    """The ``columns=`` argument of the pandas API on Spark frames: :func:`crmml.schema.map_frames` applied to
    their column names (same rules, same :class:`crmml.SchemaError`), the frames renamed with ``toDF``.

    Frames that are None or not Spark frames are returned as they are (:func:`check_spark_frame` names them).
    """
    if not columns:
        return frames
    spark = {n: f for n, f in frames.items() if _is_spark_frame(f)}
    mapped = map_frames(columns, **{n: pd.DataFrame(columns=list(f.columns)) for n, f in spark.items()})
    out = dict(frames)
    for n, f in spark.items():
        names = [str(c) for c in mapped[n].columns]
        if names != list(f.columns):
            out[n] = f.toDF(*names)
    return out


def micros(column: str, dtype):
    """A Spark column: the timestamp ``column`` as microseconds since 1970 (a long; NULL stays NULL).

    Tz-aware ``TIMESTAMP``: the UTC instant; naive ``TIMESTAMP_NTZ`` and ``DATE``: the wall-clock time as
    it is. Neither depends on the session time zone.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if isinstance(dtype, T.TimestampType):
        return F.unix_micros(F.col(f"`{column}`"))
    c = f"CAST(`{column}` AS TIMESTAMP_NTZ)" if isinstance(dtype, T.DateType) else f"`{column}`"
    return F.expr(f"timestampdiff(MICROSECOND, TIMESTAMP_NTZ '1970-01-01 00:00:00', {c})")


def from_micros(values, frame: str, column: str) -> np.ndarray:
    """``datetime64[ns]`` from microseconds since 1970 (int64, the minimum or NaN/None meaning NaT);
    :class:`crmml.SchemaError` (the pandas validator's, naming ``frame.column``) for dates that
    nanoseconds cannot hold."""
    v = pd.Series(values)
    if pd.api.types.is_integer_dtype(v.dtype):
        us = v.to_numpy(dtype=np.int64).astype("datetime64[us]")       # int64 min is NaT
    else:
        missing = v.isna().to_numpy()
        us = np.full(len(v), np.datetime64("NaT"), dtype="datetime64[us]")
        us[~missing] = v[~missing].to_numpy().astype(np.int64).astype("datetime64[us]")
    return _in_range(pd.Series(us), frame, column).to_numpy()


#: NULL timestamps cross as this (int64 min, NaT in numpy): the column stays int64, exact beyond 2**53 us
NAT_MICROS = np.iinfo(np.int64).min


def last_timestamp(sdf, column: str = "timestamp"):
    """``(latest timestamp, number of rows)`` of ``sdf`` in one small job; the timestamp naive (UTC when the
    column is tz-aware), None when there is none, whatever the session and driver time zones."""
    from pyspark.sql import functions as F

    from crmml.spark._errors import surface_errors

    with surface_errors():
        last, n = sdf.agg(F.max(micros(column, sdf.schema[column].dataType)), F.count(F.lit(1))).collect()[0]
    return (None if last is None else pd.Timestamp(from_micros([last], "transactions", column)[0])), int(n)


def before(sdf, as_of: pd.Timestamp, column: str = "timestamp"):
    """A Spark condition ``column < as_of`` (naive timestamps as they are, tz-aware ones in UTC)."""
    from pyspark.sql import functions as F

    limit = (as_of.value + 999) // 1000              # ts_us < as_of (ns)  <=>  ts_us < ceil(as_of / 1 us)
    return micros(column, sdf.schema[column].dataType) < F.lit(limit)


def spark_type(dtype):
    """The Spark type of a pandas dtype (categoricals and text become strings)."""
    from pyspark.sql import types as T

    if pd.api.types.is_bool_dtype(dtype):
        return T.BooleanType()
    if pd.api.types.is_integer_dtype(dtype):
        return T.LongType()
    if pd.api.types.is_float_dtype(dtype):
        return T.FloatType() if np.dtype(dtype) == np.float32 else T.DoubleType()
    if pd.api.types.is_datetime64_any_dtype(dtype):      # tz-aware: in UTC (for_spark)
        return T.TimestampNTZType()
    return T.StringType()


def spark_schema(dtypes) -> "StructType":  # noqa: F821
    """A Spark schema from ``{column: pandas dtype}`` (see :func:`spark_type`)."""
    from pyspark.sql import types as T

    return T.StructType([T.StructField(str(c), spark_type(d), True) for c, d in dict(dtypes).items()])


def for_spark(pdf: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``pdf`` ready for Arrow -> Spark: timestamps floored to microseconds, categories as text."""
    out = pdf.copy()
    for c in out.columns:
        s = out[c]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            out[c] = s.astype(object).where(s.notna(), None)
        elif isinstance(s.dtype, pd.DatetimeTZDtype):
            out[c] = s.dt.tz_convert("UTC").dt.tz_localize(None).dt.floor("us").astype("datetime64[us]")
        elif pd.api.types.is_datetime64_dtype(s.dtype):
            out[c] = s.dt.floor("us").astype("datetime64[us]")
    return out


def to_spark(spark, pdf: pd.DataFrame):
    """A Spark DataFrame from a pandas frame (index kept as a column when it is named).

    Timestamps are floored to the microsecond (Spark's resolution) and stored as ``TIMESTAMP_NTZ``;
    categorical columns become strings. Id columns (``customer_id``, ``lead_id``, ``product_id``) held as
    floats or objects follow the pandas API's id rule (:func:`crmml.schema.normalize_ids`: integer-valued ids
    become integers; text mixed with numbers becomes text, with a ``MixedIdWarning``).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import to_spark, to_pandas
    >>> spark = getfixture("spark")
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]),
    ...                    "amount": [5.0, 7.5]})
    >>> to_pandas(to_spark(spark, tx), index="customer_id")["amount"].tolist()
    [5.0, 7.5]
    """
    if not isinstance(pdf, pd.DataFrame):
        raise SparkInputError(f"to_spark expects a pandas DataFrame. Got {type(pdf).__name__} instead.")
    if any(n is not None for n in pdf.index.names):
        clash = [n for n in pdf.index.names if n in pdf.columns]
        if clash:
            raise SchemaError("frame", clash[0], "is both an index level and a column; drop or rename one")
        pdf = pdf.reset_index()
    map_columns(pdf.iloc[:0], None, "frame")           # repeated column names: the pandas rule
    for col in _ID_COLUMNS:       # the pandas API's id rule (1.0 -> 1; text mixed with numbers: MixedIdWarning)
        if col in pdf.columns and pdf[col].dtype.kind in "Of" and not pdf[col].isna().any():
            pdf = pdf.assign(**{col: normalize_ids(pdf[col], name=col, frame="frame")})
    out = for_spark(pdf)
    return spark.createDataFrame(out, schema=spark_schema(pdf.dtypes))


def to_pandas(sdf, *, index=None, sort=True, categories=None) -> pd.DataFrame:
    """Collect a Spark DataFrame to pandas: ``datetime64[ns]`` timestamps, optional index and categories.

    Parameters
    ----------
    sdf : pyspark.sql.DataFrame
    index : str or list of str, optional
        Column(s) to set as index (``"customer_id"`` for crmml results).
    sort : bool, default=True
        Sort by the index (or by every column when there is no index).
    categories : dict, optional
        ``{column: categories}``: restore categorical columns (Spark has no categorical type).

    Raises
    ------
    crmml.SchemaError, crmml.persistence.ModelLoadError, SparkJobError
        The crmml error a Spark task raised (bad values in a bucket, a model failing its checks).

    Examples
    --------
    >>> import pandas as pd
    >>> from crmml.spark import to_spark
    >>> sdf = to_spark(getfixture("spark"), pd.DataFrame({"customer_id": [2, 1], "score": [0.5, 0.25]}))
    >>> to_pandas(sdf, index="customer_id")["score"].tolist()
    [0.25, 0.5]
    """
    if not _is_spark_frame(sdf):
        raise SparkInputError(f"to_pandas expects a pyspark.sql.DataFrame. Got {type(sdf).__name__} instead.")
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from crmml.spark._errors import surface_errors

    keys = [] if index is None else [index] if isinstance(index, str) else index
    if not isinstance(keys, (list, tuple)) or any(not isinstance(k, str) or k not in sdf.columns for k in keys):
        raise ParameterError(f"The 'index' parameter of to_pandas must be a column name or a list of them "
                             f"(columns: {sdf.columns[:20]}). Got {index!r} instead.")
    check_in(sort, "sort", "to_pandas", (True, False))
    if categories is not None and not isinstance(categories, dict):
        raise ParameterError(f"The 'categories' parameter of to_pandas must be a dict {{column: categories}}. "
                             f"Got {type(categories).__name__} instead.")
    stamps = {f.name: f.dataType for f in sdf.schema.fields
              if isinstance(f.dataType, (T.TimestampType, T.TimestampNTZType))}
    cols = [micros(f.name, f.dataType).alias(f.name) if f.name in stamps else F.col(f"`{f.name}`")
            for f in sdf.schema.fields]
    with _quiet(), surface_errors():
        pdf = (sdf.select(*cols) if stamps else sdf).toPandas()
    for f in sdf.schema.fields:
        if f.name in stamps:                     # microseconds: the UTC instant / the naive time, any time zone
            pdf[f.name] = from_micros(pdf[f.name], "frame", f.name)
        elif isinstance(f.dataType, T.StringType):
            pdf[f.name] = pdf[f.name].astype("str").where(pdf[f.name].notna(), np.nan)
    for c, cats in (categories or {}).items():
        if c in pdf.columns:
            pdf[c] = pd.Categorical(pdf[c], categories=list(cats))
    if index is not None:
        pdf = pdf.set_index(index)
        if sort:
            pdf = pdf.sort_index(kind="mergesort")
    elif sort and len(pdf.columns):
        pdf = pdf.sort_values(list(pdf.columns), kind="mergesort").reset_index(drop=True)
    return pdf


def canonical_order(pdf: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by every column (categoricals by their text), a stable order whatever Spark's shuffle did.

    Sums over a customer's lines are rounded in line order; crmml.spark sorts each bucket's rows this
    way, so results equal the pandas API on a frame sorted the same way.

    >>> import pandas as pd
    >>> canonical_order(pd.DataFrame({"customer_id": [2, 1, 1], "amount": [5.0, 3.0, 1.0]}))["amount"].tolist()
    [1.0, 3.0, 5.0]
    """
    if not isinstance(pdf, pd.DataFrame):
        raise SparkInputError(f"canonical_order expects a pandas DataFrame (collect a Spark one with "
                              f"crmml.spark.to_pandas). Got {type(pdf).__name__} instead.")
    if len(pdf) < 2:
        return pdf
    cols = [c for c in ("customer_id", "lead_id", "timestamp") if c in pdf.columns]
    cols += [c for c in pdf.columns if c not in cols]
    order = np.lexsort([_sort_key(pdf[c]) for c in reversed(cols)])
    return pdf.iloc[order].reset_index(drop=True)


def _sort_key(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s.to_numpy("datetime64[ns]").view(np.int64)
    if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
        return s.to_numpy(dtype=np.float64, na_value=np.nan) if pd.api.types.is_float_dtype(s.dtype) \
            else s.to_numpy()
    return pd.factorize(s.astype(str).where(s.notna(), None), sort=True)[0]


class _quiet:
    """Silence pyspark's FutureWarning about pandas >= 3 around a conversion."""

    def __enter__(self):
        import warnings

        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
        warnings.filterwarnings("ignore", message=".*PySpark does not yet fully support pandas.*")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
