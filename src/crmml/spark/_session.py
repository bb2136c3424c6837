"""A local Spark session configured for crmml (tests, benchmarks, the CLI's ``--master``)."""

from __future__ import annotations

import os
import sys

__all__ = ["get_session"]


def get_session(master: str | None = None, *, shuffle_partitions: int | None = None, app_name: str = "crmml",
                conf: dict | None = None):
    """The active Spark session, or a new one on ``master`` (UI off, UTC session time zone).

    Python workers run this interpreter (``PYSPARK_PYTHON``) unless it is already set, with one
    BLAS/OpenMP thread each (Spark runs one task per core).

    Parameters
    ----------
    master : str, optional
        ``local[2]``, ``spark://host:7077``, ``yarn``...; None keeps the one given by ``spark-submit``
        (or ``local[*]``).
    shuffle_partitions : int, optional
        ``spark.sql.shuffle.partitions`` (crmml.spark's default number of customer buckets).

    Examples
    --------
    >>> spark = getfixture("spark")          # the tests' local[2] session; get_session() returns it
    >>> get_session() is spark, spark.conf.get("spark.sql.session.timeZone")
    (True, 'UTC')
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app_name)
    if master is not None:
        b = b.master(master)
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.session.timeZone": "UTC",
                "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.executorEnv.OMP_NUM_THREADS": "1", "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
                "spark.executorEnv.MKL_NUM_THREADS": "1"}
    if shuffle_partitions is not None:
        settings["spark.sql.shuffle.partitions"] = str(int(shuffle_partitions))
    settings.update(conf or {})
    for k, v in settings.items():
        b = b.config(k, v)
    return b.getOrCreate()
