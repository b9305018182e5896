"""The SparkSession the CLI starts: Java found, settings that keep the numbers exact, quiet logs.

Settings every zerochurn session gets (engine.spark_conf can override each):

- UTC session time zone: Spark reads naive timestamps in the session zone, so any other
  zone would shift dates by hours;
- Parquet timestamps as TIMESTAMP_MICROS, which pandas reads back exactly (Spark's default
  INT96 loses the time zone);
- Arrow between the JVM and pandas, with the slow and lossy fallback off, so a type Arrow
  cannot carry fails loudly;
- no web UI, the driver on 127.0.0.1, temporary folders of its own (removed at the end),
  and log4j2 settings that print errors only.

`spark_session` stops the JVM too: pyspark's stop() alone leaves it running, and a later
session in the same process would silently reuse its memory and Java options.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from zerochurn.configs.settings import EngineConfig
from zerochurn.spark.java import JavaRuntime, find_java

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOG4J2_FILE = Path(__file__).with_name("log4j2.properties")
PANDAS_WARNING = "PySpark does not yet fully support pandas"
"""pyspark 4.3 warns so on import with pandas 3; every test here says it works."""
JAVA_CACHE_ENV = "ZEROCHURN_JAVA_CACHE"
"""Where wrapper JAVA_HOMEs go (java.wrapped_home); default ~/.cache/zerochurn/java."""
GATEWAY_EXIT_SECONDS = 30


def java_cache(environ: dict[str, str]) -> Path:
    """Folder for wrapper JAVA_HOMEs: $ZEROCHURN_JAVA_CACHE, else $XDG_CACHE_HOME/zerochurn/java."""
    if environ.get(JAVA_CACHE_ENV):
        return Path(environ[JAVA_CACHE_ENV])
    base = Path(environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "zerochurn" / "java"


def prepare_environment() -> JavaRuntime:
    """Set what Spark's launcher reads before the JVM starts: JAVA_HOME and the Python.

    Workers run this interpreter (PYSPARK_PYTHON), so they import the same zerochurn.
    """
    runtime = find_java(dict(os.environ), java_cache(dict(os.environ)))
    os.environ["JAVA_HOME"] = str(runtime.home)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYTHONWARNINGS", f"ignore:{PANDAS_WARNING}")
    warnings.filterwarnings("ignore", message=PANDAS_WARNING)
    return runtime


SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}
"""Settings that keep the numbers exact, wherever the session runs (module docstring)."""
SUBMITTED_ENV = "PYSPARK_GATEWAY_PORT"
"""Set when spark-submit started this Python: its JVM, master and resources are the session's."""


def submitted(environ: dict[str, str]) -> bool:
    """Whether spark-submit runs this process (its master and JVM apply, not engine's)."""
    return SUBMITTED_ENV in environ


def session_conf(
    engine: EngineConfig, scratch: Path, *, under_submit: bool = False
) -> dict[str, str]:
    """Spark settings of a zerochurn session; engine.spark_conf wins over each of them.

    scratch: a folder of this session for Spark's local and warehouse folders.
    under_submit: spark-submit started the JVM, so only SQL_CONF and engine.spark_conf apply.
    """
    given = dict(engine.spark_conf)
    if under_submit:
        return SQL_CONF | given
    java_options = f"-Dlog4j2.configurationFile={LOG4J2_FILE.resolve().as_uri()}"
    conf = {
        **SQL_CONF,
        "spark.driver.memory": engine.spark_driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.local.dir": str(scratch / "local"),
        "spark.sql.warehouse.dir": str(scratch / "warehouse"),
        "spark.executorEnv.PYTHONWARNINGS": f"ignore:{PANDAS_WARNING}",
    }
    extra_options = given.pop("spark.driver.extraJavaOptions", "")
    conf["spark.driver.extraJavaOptions"] = f"{java_options} {extra_options}".strip()
    if not engine.spark_master.startswith("local"):
        for key in ("spark.driver.host", "spark.driver.bindAddress", "spark.local.dir"):
            del conf[key]  # a cluster's driver must be reachable and use its own disks
    return conf | given


def _stop_gateway() -> None:
    """End the JVM behind pyspark's gateway: it exits when its stdin closes."""
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return
    gateway.shutdown()
    SparkContext._gateway = None
    SparkContext._jvm = None
    process = getattr(gateway, "proc", None)
    if process is not None:
        process.stdin.close()
        try:
            process.wait(timeout=GATEWAY_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def spark_session(engine: EngineConfig, app_name: str = "zerochurn") -> Iterator[SparkSession]:
    """A new SparkSession on engine.spark_master; stopped, JVM and temp folders gone, on exit.

    Under spark-submit the session is spark-submit's (its --master, JVM and resources;
    engine.spark_master is not used) and only stopped. Raises java.JavaNotFoundError when
    no Java 17+ can be found, RuntimeError when a session is already running in this
    process (its settings would be used instead).
    """
    under_submit = submitted(dict(os.environ))
    if under_submit:
        warnings.filterwarnings("ignore", message=PANDAS_WARNING)
    else:
        prepare_environment()
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is not None:
        raise RuntimeError(
            "a SparkSession is already running in this process: pass it to "
            "zerochurn.spark.features_spark / score_spark instead of starting another"
        )
    scratch = Path(tempfile.mkdtemp(prefix="zerochurn-spark-"))
    builder = SparkSession.builder.appName(app_name)
    if not under_submit:
        builder = builder.master(engine.spark_master)
    for key, value in session_conf(engine, scratch, under_submit=under_submit).items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
        if not under_submit:
            spark.sparkContext.setLogLevel("ERROR")
        yield spark
    finally:
        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        if not under_submit:
            _stop_gateway()
        shutil.rmtree(scratch, ignore_errors=True)
