"""Waiting for another process (a job worker, a supervisor's child) to reach a state, in tests.

One helper for every test that starts a real process: the timeout is generous because a fresh process
starts Django on a machine that may be busy with other work (CI, several test runs); it is a bound on a
hang, never a timing assertion.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
PROCESS_TIMEOUT = 180.0


def wait_for(predicate: Callable[[], T], timeout: float = PROCESS_TIMEOUT, what: str = "") -> T:
    """Poll until `predicate()` is truthy and return its value; AssertionError naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")
