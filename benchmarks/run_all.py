"""Run every benchmarks/bench_*.py at its default sizes, then rewrite docs/benchmarks.md."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"== {script.name}", flush=True)
        subprocess.run([sys.executable, str(script), *sys.argv[1:]], check=True, cwd=HERE)
    subprocess.run([sys.executable, str(HERE / "report.py")], check=True, cwd=HERE)


if __name__ == "__main__":
    main()
