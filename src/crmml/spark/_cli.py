"""``crmml score --engine spark``: parquet datasets in and out, one ``spark-submit``-able command."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

__all__ = ["score_command", "read_parquet"]

#: canonical datetime columns, per frame kind
_DATETIMES = ("timestamp", "signup_date", "created_at")


def read_parquet(spark, path, mapping=None):
    """A parquet dataset (folder, file or glob) as a Spark DataFrame with canonical names.

    Parquet written by pandas stores nanosecond timestamps, which Spark does not read as timestamps:
    they are read as integers and converted (floored) to microseconds.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    sdf = spark.read.parquet(str(path))
    for theirs, canonical in (mapping or {}).items():
        if theirs in sdf.columns:
            sdf = sdf.withColumnRenamed(theirs, canonical)
    for f in sdf.schema.fields:
        if f.name in _DATETIMES and isinstance(f.dataType, T.LongType):
            sdf = sdf.withColumn(f.name, F.timestamp_micros(F.floor(F.col(f.name) / 1000)))
    return sdf


def _prepare(args):
    from crmml._cli_guard import UserError
    from crmml._tables import parse_mapping
    from crmml.persistence import load
    from crmml.spark._errors import surface_errors
    from crmml.spark._score import KINDS
    from crmml.spark._session import get_session

    if args.batch is not None:
        raise UserError("--batch is for --engine pandas; on Spark, customers are processed in buckets.")
    model = load(args.model)
    name = type(model).__name__
    if name not in KINDS:
        raise UserError(f"{args.model}: a {name} cannot be used by 'crmml score --engine spark'.")
    spark = get_session(args.master)
    try:
        with surface_errors():
            sdf = read_parquet(spark, args.input, parse_mapping(args.map))
    except Exception as exc:
        if type(exc).__module__.startswith(("pyspark", "py4j")):
            raise UserError(f"--input {args.input}: Spark cannot read it as parquet "
                            f"({str(exc).splitlines()[0][:200]}).") from None
        raise
    return model, spark, sdf


def _score_to_url(args, say):
    from crmml.spark._errors import surface_errors
    from crmml.spark._score import score

    model, spark, sdf = _prepare(args)
    with surface_errors():
        score(model, sdf, args.as_of, reasons=args.reasons, k=args.k).write.mode("errorifexists").parquet(
            str(args.output))
    say(f"scored with {type(model).__name__} on Spark ({spark.sparkContext.master}) -> {args.output}")
    return 0


def score_command(args, say):
    """Score ``args.input`` with ``args.model`` on Spark and write ``args.output`` (a parquet folder).

    The folder is written beside the target under a temporary name and renamed once complete, so the
    output path holds either nothing or every row. A URL (``hdfs://``, ``s3a://``...) is written by
    Spark's output committer instead (complete when its ``_SUCCESS`` marker is there).
    """
    from crmml._cli_guard import UserError
    from crmml.spark._errors import surface_errors
    from crmml.spark._score import score

    if "://" in str(args.output):                 # hdfs://, s3a://...: Spark's output committer (a _SUCCESS
        return _score_to_url(args, say)          # marker once every part is committed)
    out = Path(args.output)
    if out.exists():
        raise UserError(f"--output {out}: already exists; crmml --engine spark writes a new parquet folder.")
    model, spark, sdf = _prepare(args)
    name = type(model).__name__
    tmp = out.parent / f".{out.name}.{uuid.uuid4().hex}.tmp"
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with surface_errors():
            scored = score(model, sdf, args.as_of, reasons=args.reasons, k=args.k)
            scored.write.parquet(str(tmp))
        tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    n = spark.read.parquet(str(out)).count()
    say(f"scored {n:,} rows with {name} on Spark ({spark.sparkContext.master}) -> {out}")
    return 0
