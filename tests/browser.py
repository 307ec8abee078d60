"""The one way the browser tests start Chromium: Debian's binary (never a downloaded one), software WebGL for
MapLibre, no background networking (closed networks), and Django's async guard lifted while Playwright's
event loop runs in the test thread beside plain synchronous ORM calls."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--disable-background-networking",
    "--disable-component-update",
]


@contextmanager
def chromium(extra_args: list[str] | None = None) -> Iterator[Any]:
    """A launched headless Chromium. Missing Chromium skips locally and fails under CI (make test installs it)."""
    if not CHROMIUM.exists():
        message = "Debian chromium is not installed (scripts/ensure-system installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as p:
            instance = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + (extra_args or []))
            try:
                yield instance
            finally:
                instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
