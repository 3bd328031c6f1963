"""The Spark session of the ``spark`` engine (PySpark 4; Java 17 or 21 on the machine).

The master is the one given, else ``RECOSTACK_SPARK_MASTER``, else
``local[*]``: ``spark://host:7077`` (a standalone cluster), ``yarn``,
``k8s://...``, or whatever ``spark-submit`` set up (a session that already
exists in the process is used as it is, so ``spark-submit`` and test
fixtures choose). PySpark is an optional dependency (``pip install
recostack[spark]``); without it the engine says how to get it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from recostack.errors import Unprocessable

__all__ = ["DEFAULT_MASTER", "spark_master", "spark_session"]

DEFAULT_MASTER = "local[*]"


def spark_master(master: str | None = None) -> str:
    return master or os.environ.get("RECOSTACK_SPARK_MASTER") or DEFAULT_MASTER


def spark_session(master: str | None = None) -> Any:  # pyspark.sql.SparkSession
    """The active Spark session, or a new one on ``master``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:  # pragma: no cover - pyspark is installed by .ci/run
        raise Unprocessable(
            "engine spark needs PySpark: pip install 'recostack[spark]' (and Java 17+)",
            field="engine",
        ) from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # executors run this interpreter (where recostack is installed); on a cluster, set
    # PYSPARK_PYTHON to an interpreter of the executors' machines that has recostack
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(spark_master(master))
        .appName("recostack")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.driver.memory", os.environ.get("RECOSTACK_SPARK_DRIVER_MEMORY", "4g"))
        .getOrCreate()
    )
