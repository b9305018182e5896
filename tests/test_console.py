"""How the CLI talks without a terminal: no hard wrapping, one line per step with its time."""

from __future__ import annotations

import pytest

from zerochurn.console import console, data_console, elapsed, progress


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.04, "0.0s"), (4.25, "4.2s"), (59.9, "59.9s"), (207, "3m 27s"), (3725, "1h 02m")],
)
def test_elapsed_reads_like_a_stopwatch(seconds, text):
    assert elapsed(seconds) == text


def test_without_a_terminal_nothing_wraps(capsys):
    assert not console.is_terminal and not data_console.is_terminal
    command = "mlflow ui --backend-store-uri sqlite:///" + "very/long/path/" * 20 + "mlflow.db"
    console.print(command)
    data_console.print("cell " * 60)
    captured = capsys.readouterr()
    assert captured.err == command + "\n"
    assert captured.out == "cell " * 60 + "\n"


def test_without_a_terminal_each_step_is_a_line_with_its_elapsed_time(capsys):
    with progress("training") as report:
        report("fitting LightGBM")
        report("trial 2 of 5: calibration AUC 0.7712 [best 0.7790]")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "training ..."
    assert lines[1].split() == ["0.0s", "fitting", "LightGBM"]
    # brackets in a message are text, not markup
    assert lines[2].endswith("trial 2 of 5: calibration AUC 0.7712 [best 0.7790]")
    assert lines[3] == "done training in 0.0s"


def test_an_interrupted_step_says_it_stopped(capsys):
    with pytest.raises(KeyboardInterrupt), progress("scoring") as report:
        report("building features")
        raise KeyboardInterrupt
    assert capsys.readouterr().err.splitlines()[-1] == "stopped scoring after 0.0s"
