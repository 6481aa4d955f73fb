"""Two data versions deployed to a local gh-pages branch, its tree served over HTTP, read in Chromium.

The version menu keeps the study a reader is on when the other version has it, and lands on that version's home
page with a notice when it does not; no page requests a missing file (the site root's sitemap.xml used to 404);
the cite box names the address the page is actually served at.
"""

from __future__ import annotations

import http.server
import io
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from livingevidence.release.deploy import deploy
from tests.browser_helpers import wait_until
from tests.release_helpers import ADDED_STUDY, fixture_versions, init_repo
from tests.test_e2e import PageWatch

pytestmark = pytest.mark.browser
STUDY = "li-trp-tr"  # in both versions; ADDED_STUDY is in 1.1.0 only


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def pages_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve an (empty) folder, deploy 1.0.0 and 1.1.0 at the served address, extract gh-pages into the folder."""
    tmp = tmp_path_factory.mktemp("versions")
    served = tmp / "served"
    served.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        v1, v2 = fixture_versions(tmp)
        repo = init_repo(tmp / "repo")
        assert deploy(v1, repo=repo, site_url=address).status == "published"
        assert deploy(v2, repo=repo, site_url=address).status == "published"
        tar = subprocess.run(["git", "-C", str(repo), "archive", "gh-pages"], capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            archive.extractall(served, filter="data")
        yield address
    finally:
        server.shutdown()


def _switch(page, address: str, start: str, version: str) -> str:
    """Open `start`, choose `version` in the header's version menu, return where the browser lands."""
    page.goto(address + start, wait_until="networkidle")
    wait_until(page, "() => document.querySelectorAll('.md-version__link').length >= 2")
    page.hover(".md-version")
    before = page.url
    page.locator(f'.md-version__link[href$="/{version}/"]').click()
    page.wait_for_url(lambda url: url != before, wait_until="networkidle")
    return page.url.removeprefix(address)


def test_the_version_menu_keeps_the_study(browser, pages_site: str) -> None:
    page = browser.new_page()
    watch = PageWatch(page, pages_site)
    assert _switch(page, pages_site, f"1.1.0/studies/{STUDY}/", "1.0.0") == f"1.0.0/studies/{STUDY}/"
    assert page.locator(".le-version-notice").count() == 0
    assert page.locator("h1").first.inner_text().startswith("Li et al")
    # The cite box gives the address the page is served at, and the latest/ address apart.
    addresses = page.locator(".le-cite-addresses a")
    assert addresses.nth(0).get_attribute("href") == page.url
    assert addresses.nth(1).get_attribute("href") == f"{pages_site}latest/studies/{STUDY}/"
    assert _switch(page, pages_site, f"1.0.0/studies/{STUDY}/", "1.1.0") == f"1.1.0/studies/{STUDY}/"
    assert _switch(page, pages_site, f"latest/studies/{STUDY}/", "1.0.0") == f"1.0.0/studies/{STUDY}/"
    assert _switch(page, pages_site, "1.1.0/comparisons/", "1.0.0") == "1.0.0/comparisons/"
    assert watch.failed == [] and watch.foreign == [] and watch.errors == [], (watch.failed, watch.errors)
    page.close()


def test_a_page_missing_from_the_version_lands_on_its_home_with_a_notice(
    browser, pages_site: str, artifacts: Path
) -> None:
    page = browser.new_page()
    watch = PageWatch(page, pages_site)
    assert _switch(page, pages_site, f"1.1.0/studies/{ADDED_STUDY}/", "1.0.0") == "1.0.0/"
    notice = page.locator(".le-version-notice")
    assert notice.count() == 1 and notice.get_attribute("role") == "status"
    text = notice.inner_text()
    page.screenshot(path=str(artifacts / "version-notice.png"))
    assert "Not in data version 1.0.0" in text and "Ma et al." in text and f"studies/{ADDED_STUDY}/" in text
    # The notice is said once: reloading the home page shows none.
    page.reload(wait_until="networkidle")
    assert page.locator(".le-version-notice").count() == 0
    assert watch.failed == [] and watch.foreign == [] and watch.errors == [], (watch.failed, watch.errors)
    page.close()


def test_no_page_requests_a_missing_sitemap(browser, pages_site: str) -> None:
    """mkdocs-material fetches sitemap.xml beside the page's version folder and beside every rel=alternate link
    (the feed): both exist, and list what the selector needs."""
    page = browser.new_page()
    requested: list[str] = []
    page.on("response", lambda r: requested.append(f"{r.status} {r.url}") if "sitemap" in r.url else None)
    page.goto(pages_site + f"1.0.0/studies/{STUDY}/", wait_until="networkidle")
    assert f"200 {pages_site}1.0.0/sitemap.xml" in requested
    assert all(line.startswith("200 ") for line in requested), requested
    page.close()
