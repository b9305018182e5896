"""Render docs/benchmarks.md from every benchmarks/results/*.json the scripts wrote."""

from __future__ import annotations

import json
from pathlib import Path

from harness import RESULTS_DIR

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"

INTRO = """# Benchmarks

Written by `make bench` (benchmarks/run_all.py); do not edit by hand. Every figure is the
median of several runs, each in a fresh process (`repeats`), at three sizes so the growth
of cost is visible. `seconds` times the measured step only; `peak_rss_mb` is the peak
resident memory of the whole measuring process. Targets from the issues are listed with
each benchmark's script.
"""


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(key, "")) for key in columns) + " |")
    return lines


def render(results: list[dict]) -> str:
    """Markdown with one table per benchmark and the machine it ran on.

    A result's "targets" (a list of rows, as the families benchmark writes) follow as a
    second table, and its "note" (words on what the rows show) as a paragraph.
    """
    parts = [INTRO]
    for result in results:
        machine = ", ".join(f"{k} {v}" for k, v in result["machine"].items())
        parts.append(f"## {result['name']}\n\nMachine: {machine}.\n")
        parts += _table(result["rows"])
        if result.get("targets"):
            parts += ["", "Targets:", "", *_table(result["targets"])]
        if result.get("note"):
            parts += ["", result["note"]]
        parts.append("")
    return "\n".join(parts) + "\n"


def main() -> None:
    results = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*.json"))]
    DOC.write_text(render(results))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
