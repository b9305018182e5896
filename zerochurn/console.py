"""How the CLI talks to people: Rich consoles for messages and data, and progress of long work.

Messages, progress and errors go to stderr (`console`); tables that are data (`zerochurn
models`, score summaries) to stdout (`data_console`), so `zerochurn models > versions.txt`
or `| grep` gets the data alone. Without a terminal (CI, nohup, tee, a pipe) nothing is
hard-wrapped: a printed command stays on one line and table cells are never cut.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape

UNWRAPPED_WIDTH = 100_000
"""Line width of a console that writes to no terminal: wide enough that nothing wraps."""


def _console(*, stderr: bool) -> Console:
    """A console on stderr or stdout; soft-wrapped and unbounded when that is no terminal."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, soft_wrap=True, width=UNWRAPPED_WIDTH)


console = _console(stderr=True)
"""Status, progress and errors: stderr, so stdout stays clean for data."""

data_console = _console(stderr=False)
"""Tables that are data: stdout."""

ProgressCallback = Callable[[str], None]
"""Library functions report long work by calling this with a short message per step."""


def elapsed(seconds: float) -> str:
    """A duration as people read it: "4.2s", "3m 27s", "1h 02m"."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, second = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {second:02d}s"
    hours, minute = divmod(minutes, 60)
    return f"{hours}h {minute:02d}m"


@contextmanager
def progress(title: str) -> Iterator[ProgressCallback]:
    """Report the steps of long work titled `title`, then how long it took.

    On a terminal a spinner shows the latest step; without one (CI, nohup, tee) each step
    is printed as one line with the time since the work began, so a log shows where a
    long run is and how long each step took. Interrupted (Ctrl-C, SIGTERM), it says so.
    """
    start = time.monotonic()
    try:
        if console.is_terminal:
            with console.status(f"[bold]{title}[/]") as status:

                def update(message: str) -> None:
                    status.update(f"[bold]{title}[/] {escape(message)}")

                yield update
        else:
            console.print(f"[bold]{title}[/] ...")

            def line(message: str) -> None:
                console.print(f"  [dim]{elapsed(time.monotonic() - start):>7}[/] {escape(message)}")

            yield line
    except KeyboardInterrupt:
        console.print(f"[yellow]stopped[/] {title} after {elapsed(time.monotonic() - start)}")
        raise
    console.print(f"[green]done[/] {title} in {elapsed(time.monotonic() - start)}")
