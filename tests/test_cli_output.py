"""What the CLI prints about itself and about the service's key."""

from __future__ import annotations

from typer.testing import CliRunner

import zerochurn
from zerochurn.cli import app
from zerochurn.cli.run import key_expression, masked
from zerochurn.configs import load_settings


def test_version_goes_to_stdout():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"zerochurn {zerochurn.__version__}\n"


def test_a_key_is_printed_masked():
    key = "FAxcY10XCTewEmtwnj4qa9yPnnjhYKsB"
    assert masked(key) == "FAxc...YKsB"
    assert masked("short") == "s...t"
    assert masked("abc") == "..."


def test_the_curl_line_reads_the_key_from_where_it_is(tmp_path, monkeypatch):
    settings = load_settings(overrides={"workspace": str(tmp_path / "my ws")}, environ={})
    monkeypatch.delenv("ZEROCHURN_API_KEYS", raising=False)
    assert key_expression(settings, "k1") == ("serving.api_keys", "KEY")
    monkeypatch.setenv("ZEROCHURN_API_KEYS", "k1,k2")
    assert key_expression(settings, "k1") == (
        "ZEROCHURN_API_KEYS",
        "${ZEROCHURN_API_KEYS%%,*}",
    )
    key_file = tmp_path / "my ws" / "api_key"
    key_file.parent.mkdir()
    key_file.write_text("k1\n")
    assert key_expression(settings, "k1") == (str(key_file), f"$(cat '{key_file}')")
