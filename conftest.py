"""Fixtures shared by the tests and the doctests of src/ (rootdir conftest): a local Spark session."""

from __future__ import annotations

import os
import shutil

import pytest


@pytest.fixture(scope="session")
def spark():
    """A real local Spark (``local[2]``, 4 shuffle partitions, UI off); skipped without pyspark or Java.

    One session for the whole run: starting the JVM takes 10-30 s on 2 cores. CI installs both
    (``.ci/run``), so these tests run there.
    """
    pytest.importorskip("pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("crmml.spark tests need a Java runtime (apt-get install openjdk-17-jre-headless)")
    from crmml.spark import get_session

    session = get_session("local[2]", shuffle_partitions=4, app_name="crmml-tests",
                          conf={"spark.default.parallelism": "2", "spark.sql.adaptive.enabled": "false"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
