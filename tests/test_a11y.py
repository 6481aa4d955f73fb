"""Accessibility: axe-core finds no serious or critical violation, charts have text alternatives, and the
interactive parts work by keyboard.

axe-core is not vendored: the test installs the pinned version from the npm registry into .build/cache/ on first
use (`npm install --prefix`, no install scripts) and checks the file's SHA-256 against the pin below, so the
repository carries no 650 kB minified third-party file, an upgrade is a two-line change, and a tampered download
fails the test. Without npm or network the tests are skipped locally and fail in CI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from livingevidence import paths
from tests.browser_helpers import wait_until

AXE_VERSION = "4.14.1"
AXE_SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"  # node_modules/axe-core/axe.min.js
AXE_DIR = paths.BUILD_DIR / "cache" / f"axe-core-{AXE_VERSION}"

# The pages the issue names, in both colour schemes.
PAGES = {
    "home": "",
    "studies index": "studies/",
    "study": "studies/li-trp-tr/",
    "comparison": "comparisons/add-pd1-to-regorafenib/",
    "data": "data/",
    "cite": "cite/",
}


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"axe-core is needed in CI: {reason}")
    pytest.skip(f"axe-core not available: {reason}")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The text of axe.min.js at the pinned version and hash (installed with npm on first use)."""
    target = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not target.is_file():
        npm = shutil.which("npm")
        if npm is None:
            _unavailable("npm is not installed")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                str(npm),
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                "--no-save",
                f"axe-core@{AXE_VERSION}",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0 or not target.is_file():
            _unavailable(f"npm install failed: {result.stderr[-500:]}")
    data = target.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest == AXE_SHA256, f"axe.min.js {AXE_VERSION} has SHA-256 {digest}, not the pinned {AXE_SHA256}"
    return data.decode("utf-8")


def _wait_for_charts(page) -> None:
    if page.locator(".le-chart").count():
        wait_until(
            page, "() => [...document.querySelectorAll('.le-chart')].every(el => el.querySelector('svg'))", timeout=20
        )


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(browser, site_url: str, axe_source: str, scheme: str) -> None:
    # The page's CSP forbids injected inline scripts, axe included: bypass it for this audit only.
    context = browser.new_context(color_scheme=scheme, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    found: dict[str, list[str]] = {}
    for name, path in PAGES.items():
        page.goto(site_url + path, wait_until="networkidle")
        _wait_for_charts(page)
        expected = "slate" if scheme == "dark" else "default"
        assert page.locator("body").get_attribute("data-md-color-scheme") == expected
        page.evaluate(axe_source)
        violations = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
        )
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        if serious:
            found[name] = [f"{v['impact']} {v['id']}: {v['help']} {v['nodes']}" for v in serious]
    context.close()
    assert found == {}, found


def test_every_chart_has_a_text_alternative(built_site: Path) -> None:
    """role="img" with the sentence as its name, a visible caption, and the data as a table in a <details>."""
    from html.parser import HTMLParser

    class Figures(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.charts: list[dict[str, str | None]] = []
            self.stack: list[str] = []
            self.figure: dict[str, int] | None = None
            self.figures: list[dict[str, int]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "figure" and "le-figure" in (a.get("class") or ""):
                self.figure = {"figcaption": 0, "details": 0, "table": 0}
                self.figures.append(self.figure)
            elif self.figure is not None and tag in self.figure:
                self.figure[tag] += 1
            if tag == "div" and "le-chart" in (a.get("class") or "").split():
                self.charts.append(a)

        def handle_endtag(self, tag: str) -> None:
            if tag == "figure":
                self.figure = None

    total = 0
    for page in built_site.rglob("*.html"):
        parser = Figures()
        parser.feed(page.read_text(encoding="utf-8"))
        for chart in parser.charts:
            assert chart.get("role") == "img", page
            assert len((chart.get("aria-label") or "").strip()) > 20, page
        for figure in parser.figures:
            assert figure == {"figcaption": 1, "details": 1, "table": 1}, page
        assert len(parser.charts) == len(parser.figures), page
        total += len(parser.charts)
    assert total >= 20


def _tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches `selector` (fails after `limit` presses)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.browser
def test_sortable_table_by_keyboard(browser, site_url: str) -> None:
    page = browser.new_page()
    page.goto(site_url + "studies/", wait_until="networkidle")
    _tab_to(page, "#studies-table thead th:nth-child(5) button")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none", "focus is not visible"
    page.keyboard.press("Enter")
    header = page.locator("#studies-table thead th").nth(4)
    assert header.get_attribute("aria-sort") == "ascending"
    values = [int(x) for x in page.locator("#studies-table tbody tr td:nth-child(5)").all_inner_texts()]
    assert values == sorted(values)
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "descending"
    values = [int(x) for x in page.locator("#studies-table tbody tr td:nth-child(5)").all_inner_texts()]
    assert values == sorted(values, reverse=True)
    page.close()


@pytest.mark.browser
def test_chart_data_opens_by_keyboard(browser, site_url: str) -> None:
    page = browser.new_page()
    page.goto(site_url + "studies/li-trp-tr/", wait_until="networkidle")
    _wait_for_charts(page)
    _tab_to(page, "details.le-chart-data > summary")
    assert page.evaluate("document.activeElement.parentElement.open") is False
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.parentElement.open") is True
    assert page.locator("details.le-chart-data[open] table").first.is_visible()
    page.close()


@pytest.mark.browser
def test_wide_tables_scroll_by_keyboard(browser, site_url: str) -> None:
    """On a phone-sized window a wide table's wrapper is a named, focusable region."""
    page = browser.new_page(viewport={"width": 700, "height": 900})
    page.goto(site_url + "studies/li-trp-tr/", wait_until="networkidle")
    regions = page.locator(".le-table-wrap[tabindex='0'][role='region']")
    assert regions.count() >= 1
    assert "table" in (regions.first.get_attribute("aria-label") or "")
    page.close()
