"""A writer process killed with SIGKILL at a random moment, for the durability tests."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from collections.abc import Sequence


def kill_at_random(
    code: str, args: Sequence[str], *, after: int, max_delay: float, rng: random.Random
) -> int:
    """Run `python -c code *args` and SIGKILL it at a random moment; the last write it acknowledged.

    The writer prints one integer after each write that returned (acknowledged). Once it
    has acknowledged `after` writes it is killed within `max_delay` seconds.
    """
    writer = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True
    )
    for _ in range(after):
        acknowledged = int(writer.stdout.readline())
    time.sleep(rng.uniform(0.0, max_delay))
    writer.send_signal(signal.SIGKILL)
    rest = writer.stdout.read().split()
    writer.wait()
    return int(rest[-1]) if rest else acknowledged
