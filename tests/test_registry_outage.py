"""An MLflow tracking server that cannot be reached: a closed port and a port that accepts
connections but never answers, both real addresses on 127.0.0.1.

Every registry call gives up after mlflow.request_timeout_seconds and request_retries and
says so, naming the URI; nothing reports "no champion" for a server it could not ask.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from zerochurn.configs import Settings, load_settings
from zerochurn.model.champion import RegistryUnavailableError
from zerochurn.model.registry import champion_registry, find_champion, load_champion

HANG_GUARD_SECONDS = 300
"""A subprocess still running after this is stuck: MLflow's defaults wait 20 minutes."""
FAST = {
    "mlflow.request_timeout_seconds": 1,
    "mlflow.request_retries": 0,
    "mlflow.retry_backoff_seconds": 0,
}


@pytest.fixture(scope="module")
def closed_port() -> int:
    """A port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture(params=["closed", "silent"])
def dead_server(request, closed_port, silent_port) -> tuple[str, str]:
    """The URI of an unreachable tracking server and the words its error must use."""
    if request.param == "closed":
        return f"http://127.0.0.1:{closed_port}", "connection refused"
    return f"http://127.0.0.1:{silent_port}", "no answer within 1 s"


def _settings(tmp_path, uri: str) -> Settings:
    overrides = {"workspace": str(tmp_path), "mlflow.tracking_uri": uri, **FAST}
    return load_settings(overrides=overrides, environ={})


def test_finding_the_champion_names_the_server_not_a_missing_champion(tmp_path, dead_server):
    uri, why = dead_server
    settings = _settings(tmp_path, uri)
    for call in (find_champion, load_champion, champion_registry):
        with pytest.raises(RegistryUnavailableError, match=f"MLflow at {uri} is unreachable") as e:
            call(settings)
        assert why in str(e.value) and "no 'champion'" not in str(e.value)
        assert "mlflow.request_timeout_seconds" in str(e.value)


def test_settings_bound_every_request_mlflow_makes(tmp_path, closed_port):
    settings = _settings(tmp_path, f"http://127.0.0.1:{closed_port}")
    with pytest.raises(RegistryUnavailableError):
        find_champion(settings)
    assert os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "1"
    assert os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] == "0"
    assert os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] == "0"


def test_a_password_in_the_uri_is_not_shown(tmp_path, closed_port):
    settings = _settings(tmp_path, f"http://ops:hunter2@127.0.0.1:{closed_port}")
    with pytest.raises(RegistryUnavailableError, match=r"http://ops:\*\*\*\*@127") as error:
        find_champion(settings)
    assert "hunter2" not in str(error.value)


@pytest.mark.parametrize(
    ("server", "command"),
    [
        *(("closed", command) for command in (["models"], ["promote", "1"], ["rollback"])),
        ("closed", ["score"]),
        ("silent", ["score"]),
    ],
)
def test_registry_commands_fail_in_bounded_time_with_the_uri(
    tmp_path, closed_port, silent_port, server, command
):
    """The commands as people run them, in a real process: an error line, no traceback."""
    port = {"closed": closed_port, "silent": silent_port}[server]
    uri = f"http://127.0.0.1:{port}"
    why = {"closed": "connection refused", "silent": "no answer within 1 s"}[server]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZEROCHURN_", "MLFLOW_"))}
    env |= {
        "ZEROCHURN_MLFLOW__TRACKING_URI": uri,
        "ZEROCHURN_MLFLOW__REQUEST_TIMEOUT_SECONDS": "1",
        "ZEROCHURN_MLFLOW__REQUEST_RETRIES": "0",
        "ZEROCHURN_MLFLOW__RETRY_BACKOFF_SECONDS": "0",
    }
    argv = [sys.executable, "-m", "zerochurn.cli", "--workspace", str(tmp_path), *command]
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=HANG_GUARD_SECONDS, check=False
    )
    output = " ".join((done.stdout + done.stderr).split())
    assert done.returncode == 1, output
    assert f"MLflow at {uri} is unreachable ({why}" in output
    assert "Traceback" not in output
