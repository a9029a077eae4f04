"""The engines that run transaction-level expressions.

The rules, the ledger and the per-customer aggregation are ibis expressions, written once. They run
on an in-process DuckDB connection by default, and unchanged on Apache Spark (local mode, a cluster
given by its master URL, or a session that already exists) for data beyond one machine.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from rfm.errors import RFMInputError

if TYPE_CHECKING:
    import ibis
    from ibis.backends import BaseBackend

BACKENDS = ("duckdb", "spark")
#: DuckDB's memory cap per connection (``RFM_DUCKDB_MEMORY`` overrides it, e.g. ``4GB``).
DUCKDB_MEMORY = "1GB"

_names = itertools.count()
_spark_master: str | None = None


def connect(backend: str = "duckdb") -> BaseBackend:
    """A new ibis connection: in-process DuckDB, or the Spark session (see :func:`use_spark`)."""
    import ibis

    if backend == "duckdb":
        connection = ibis.duckdb.connect()
        connection.raw_sql("SET enable_progress_bar = false")
        # DuckDB takes up to 80% of RAM by default; with a cap it spills its hash tables to disk, which on
        # the largest Parquet benchmark was also faster and used far less memory (see bench/RESULTS.md).
        limit = os.environ.get("RFM_DUCKDB_MEMORY", DUCKDB_MEMORY)
        connection.con.execute("SET memory_limit = ?", [limit])
        connection.con.execute("SET temp_directory = ?", [str(scratch() / "duckdb")])
        return connection
    if backend == "spark":
        return ibis.pyspark.connect(spark_session())
    raise ValueError(f"backend={backend!r} is not available; use one of {', '.join(BACKENDS)}")


def use_spark(master: str | None) -> None:
    """Run Spark on ``master`` (e.g. ``spark://host:7077``); default: an existing session, else ``local[*]``."""
    global _spark_master
    _spark_master = master


def spark_missing() -> str | None:
    """Why Spark cannot run here (pyspark or Java missing), or ``None`` when it can."""
    import importlib.util
    import shutil

    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (make spark, or pip install -r requirements-spark.txt)"

    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        return "Java is not installed (Spark needs a Java 17 or 21 runtime)"
    return None


def spark_session() -> Any:
    """The active Spark session, or a new one on :func:`use_spark`'s master (``local[*]`` by default)."""
    reason = spark_missing()
    if reason:
        raise RFMInputError(f"The Spark engine cannot start: {reason}.")
    import warnings

    from pyspark.sql import SparkSession

    # pyspark 4.3 warns on every conversion that it is not yet tested with pandas 3; the conversions
    # ibis uses (Arrow both ways) are covered by the engine parity tests.
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    warnings.filterwarnings("ignore", message="The copy keyword is deprecated", module=r"pyspark\.")

    active = SparkSession.getActiveSession()
    if active is not None and _spark_master is None:
        return active
    # A laptop's Spark binds to loopback unless told otherwise; a cluster sets its own address.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (
        SparkSession.builder.appName("rfm-studio")
        .master(_spark_master or "local[*]")
        # Local mode runs the executors inside the driver: 1 GB, Spark's default, is too little for the
        # cached rows of a 10M-row file. A cluster's own settings win (this applies only to a new JVM).
        .config("spark.driver.memory", os.environ.get("RFM_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


_scratch_dir: Path | None = None


def scratch() -> Path:
    """This process's folder for temporary files (converted CSVs, uploads, DuckDB's spill), removed at exit."""
    global _scratch_dir
    if _scratch_dir is None:
        _scratch_dir = Path(tempfile.mkdtemp(prefix="rfm-scan-"))
        atexit.register(shutil.rmtree, _scratch_dir, True)
    _scratch_dir.mkdir(parents=True, exist_ok=True)
    return _scratch_dir


def temp_name(prefix: str = "rfm_transactions") -> str:
    """A name for a table or view that no other in this process has."""
    return f"{prefix}_{next(_names)}"


def load_frame(connection: BaseBackend, frame: pd.DataFrame) -> ibis.Table:
    """Hand a pandas frame to the engine as an ibis table.

    On DuckDB the frame goes over as Arrow, which DuckDB scans in place: copying it into a table
    first cost more than the whole cleaning step.
    """
    import pyarrow as pa

    name = temp_name()
    if connection.name == "duckdb":
        connection.con.register(name, pa.Table.from_pandas(frame, preserve_index=False))
        return connection.table(name)
    # Spark: a temporary view of the frame, living as long as the session (ibis' memtables are dropped
    # after each query, which breaks a cached plan that still reads them).
    connection._session.createDataFrame(frame).createOrReplaceTempView(name)
    return connection.table(name)
