"""How a service process is started: its argv and environment, and where BentoML keeps its home.

`zerochurn serve` execs `serve_command`'s argv; `import-model` and `build-bento` set
`bentoml_environment` before bentoml first reads it. The service reads its settings back
from SETTINGS_ENV (serving/runtime.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from http import HTTPStatus

import httpx

from zerochurn.configs.settings import Settings

SERVICE = "zerochurn.serving.service:ChurnService"
"""Import path of the BentoML service class."""
SETTINGS_ENV = "ZEROCHURN_SERVING_SETTINGS"
"""Environment variable with the full settings as JSON, set by `zerochurn serve`."""
BENTOML_HOME_ENV = "BENTOML_HOME"
BENTOML_HOME_DIR = "bentoml"
"""BentoML's home (model store, Bentos) inside the workspace unless BENTOML_HOME is set."""
READY_POLL_SECONDS = 0.2
"""Pause between two /readyz probes of a starting service."""


def bentoml_environment(settings: Settings, environ: dict[str, str]) -> dict[str, str]:
    """`environ` plus BENTOML_HOME (default <workspace>/bentoml) and no usage tracking."""
    home = environ.get(BENTOML_HOME_ENV) or str((settings.workspace / BENTOML_HOME_DIR).resolve())
    return {**environ, BENTOML_HOME_ENV: home, "BENTOML_DO_NOT_TRACK": "true"}


def serve_command(settings: Settings, environ: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """argv and environment that start the service under `settings` (paths made absolute)."""
    serving = settings.serving
    resolved = settings.model_copy(
        update={
            "workspace": settings.workspace.resolve(),
            "serving": serving.model_copy(
                update={"scores_dir": serving.scores_dir and serving.scores_dir.resolve()}
            ),
        }
    )
    argv = [sys.executable, "-m", "bentoml", "serve", SERVICE]
    argv += ["--host", serving.host, "--port", str(serving.port)]
    env = bentoml_environment(settings, environ) | {SETTINGS_ENV: resolved.model_dump_json()}
    return argv, env


def wait_until_ready(url: str, process: subprocess.Popen, seconds: float) -> bool:
    """Probe `url`/readyz until it answers 200 (True); False once `process` exits or
    `seconds` pass. For the scripts and tests that start a service and talk to it."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == HTTPStatus.OK:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(READY_POLL_SECONDS)
    return False
