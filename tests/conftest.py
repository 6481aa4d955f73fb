"""Shared fixtures: one real build of the site per test session, served on localhost."""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from livingevidence import paths

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = paths.ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the real package once into a temporary directory."""
    from livingevidence.site import build_site

    out = tmp_path_factory.mktemp("site") / "site"
    build_site(paths.DATAPACKAGE_DIR, out)
    return out


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site_url(built_site: Path) -> Iterator[str]:
    """Serve the built site on a free localhost port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), partial(_Quiet, directory=str(built_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (look at them)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def copy_package(dest: Path) -> Path:
    """A writable copy of the real data package."""
    target = dest / "datapackage"
    shutil.copytree(paths.DATAPACKAGE_DIR, target)
    return target
