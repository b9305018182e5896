"""How the CLI talks to people: one Rich console and a progress reporter for long work."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

console = Console(stderr=True)
"""Status, progress and errors go to stderr so stdout stays clean for data."""

ProgressCallback = Callable[[str], None]
"""Library functions report long work by calling this with a short message per step."""


@contextmanager
def progress(title: str) -> Iterator[ProgressCallback]:
    """Show a spinner titled `title`; the yielded callback updates its message."""
    with console.status(f"[bold]{title}[/]") as status:

        def report(message: str) -> None:
            status.update(f"[bold]{title}[/] {message}")

        yield report
    console.print(f"[green]done[/] {title}")
