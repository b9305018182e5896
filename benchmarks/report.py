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


def render(results: list[dict]) -> str:
    """Markdown with one table per benchmark and the machine it ran on."""
    parts = [INTRO]
    for result in results:
        machine = ", ".join(f"{k} {v}" for k, v in result["machine"].items())
        columns = list(dict.fromkeys(key for row in result["rows"] for key in row))
        parts.append(f"## {result['name']}\n\nMachine: {machine}.\n")
        parts.append("| " + " | ".join(columns) + " |")
        parts.append("|" + "---|" * len(columns))
        for row in result["rows"]:
            parts.append("| " + " | ".join(_cell(row.get(key, "")) for key in columns) + " |")
        parts.append("")
    return "\n".join(parts) + "\n"


def main() -> None:
    results = [json.loads(path.read_text()) for path in sorted(RESULTS_DIR.glob("*.json"))]
    DOC.write_text(render(results))
    print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
