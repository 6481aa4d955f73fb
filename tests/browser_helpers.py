"""Helpers for the browser tests."""

from __future__ import annotations

import time
from typing import Any


def wait_until(page: Any, expression: str, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (or arrow function) until it is truthy; fail after `timeout` seconds.

    Playwright's wait_for_function polls by evaluating the predicate as a string inside the page, which the
    site's Content-Security-Policy (no 'unsafe-eval') refuses as soon as the first check is false (charts
    render one per task, so it often is). page.evaluate goes through the DevTools protocol, which the CSP
    does not govern.
    """
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for: {expression}")
        page.wait_for_timeout(50)
