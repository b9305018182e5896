"""A real BentoML server for end-to-end tests: start on a free 127.0.0.1 port, then kill.

Test modules import this helper (pytest puts tests/ on sys.path); it is not a test.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from zerochurn.configs import Settings
from zerochurn.serving.launch import serve_command, wait_until_ready

API_KEY = "test-key"
READY_SECONDS = 120
REQUEST_SECONDS = 30
SERVICE_ENV = {
    "ZEROCHURN_API_KEYS": API_KEY,
    "BENTOML_DO_NOT_TRACK": "true",
}


CHROMIUM_ENV = "ZEROCHURN_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-headless-shell")
CHROMIUM_MISSING = (
    "no chromium on the PATH: install it (Debian: sudo apt-get install -y chromium) or set "
    f"{CHROMIUM_ENV}; `make test` installs it when run as root"
)


def system_chromium() -> str | None:
    """The system's Chromium for Playwright: ZEROCHURN_CHROMIUM, else chromium on the PATH."""
    found = (shutil.which(name) for name in CHROMIUM_NAMES)
    return os.environ.get(CHROMIUM_ENV) or next(filter(None, found), None)


def free_port() -> int:
    """A port no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    """A running service: its base URL, an authenticated client, its log file and the
    supervisor process (`bentoml serve`)."""

    url: str
    client: httpx.Client
    log: Path
    process: subprocess.Popen

    def post(self, path: str, body: object = None, **kwargs) -> httpx.Response:
        return self.client.post(path, json={} if body is None else body, **kwargs)


@contextmanager
def start_server(argv: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[Server]:
    """Start a server, wait for /readyz (with a deadline), yield it, kill its process group."""
    with log.open("w") as output:
        process = subprocess.Popen(
            argv, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        ready = wait_until_ready(url, process, READY_SECONDS)
        assert process.poll() is None, f"server exited:\n{log.read_text()[-3000:]}"
        assert ready, f"not ready:\n{log.read_text()[-3000:]}"
        headers = {"Authorization": f"Bearer {API_KEY}"}
        with httpx.Client(base_url=url, headers=headers, timeout=REQUEST_SECONDS) as client:
            yield Server(url, client, log, process)
    finally:
        if process.poll() is None:  # a test may have killed it
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def serve_settings(settings: Settings, log: Path) -> Iterator[Server]:
    """The service of `settings` on a free port, started as `zerochurn serve` starts it, with
    API_KEY as its key and no ZEROCHURN_ variable of this process."""
    port = free_port()
    settings = settings.model_copy(
        update={"serving": settings.serving.model_copy(update={"port": port})}
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ZEROCHURN_")}
    argv, env = serve_command(settings, environ | SERVICE_ENV)
    with start_server(argv, env, log, port) as running:
        yield running
