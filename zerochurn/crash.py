"""Named crash points: where a test kills this process to prove that what it writes survives.

Writers that must stay consistent when killed (the registry's champion change, a training
run, batch scoring, atomic file writes) call `crash_point(name)` between their steps.
Nothing happens unless the environment variable ZEROCHURN_CRASH_AT names that point; then
the process sends itself SIGKILL there, as `kill -9` or a power cut would: no cleanup, no
`finally`, no atexit. The kill tests (tests/test_crash_consistency.py) run real
subprocesses with it; it is never set in production.
"""

from __future__ import annotations

import os
import signal

CRASH_AT_ENV = "ZEROCHURN_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL here when ZEROCHURN_CRASH_AT is `name`."""
    if os.environ.get(CRASH_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
