"""End-to-end: the built site in headless Chromium, as a reader meets it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from livingevidence.load import load_package
from tests.browser_helpers import wait_until

pytestmark = pytest.mark.browser
PACKAGE = load_package()
PAGES = (
    ["", "studies/", "comparisons/", "regimens/", "data/", "data/checks/", "data/dictionary/", "methods/", "cite/"]
    + [f"studies/{s}/" for s in PACKAGE.studies]
    + [f"comparisons/{c}/" for c in PACKAGE.comparisons]
    + [f"regimens/{r}/" for r in PACKAGE.regimens]
)


class PageWatch:
    """Collects console errors, failed requests and requests to other hosts for one page."""

    def __init__(self, page, base: str) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.foreign: list[str] = []
        host = urlparse(base).netloc
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(r.url))
        page.on("response", lambda r: self.failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        page.on(
            "request",
            lambda r: (
                self.foreign.append(r.url)
                if urlparse(r.url).netloc not in (host, "") and not r.url.startswith(("data:", "blob:"))
                else None
            ),
        )


def wait_for_charts(page) -> int:
    """Wait until every chart container holds an svg; return how many there are."""
    count = page.locator(".le-chart").count()
    if count:
        wait_until(
            page,
            "() => [...document.querySelectorAll('.le-chart')].every(el => el.querySelector('svg, canvas'))",
            timeout=20,
        )
    return count


@pytest.mark.parametrize("path", PAGES)
def test_page_loads_clean_and_draws_charts(browser, site_url: str, path: str) -> None:
    page = browser.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url + path, wait_until="networkidle")
    wait_for_charts(page)
    assert page.locator("h1").count() == 1
    assert "Data version" in page.locator(".le-version").inner_text()
    assert watch.errors == [], watch.errors
    assert watch.failed == [], watch.failed
    assert watch.foreign == [], f"requests to other hosts: {watch.foreign}"
    page.close()


def test_study_and_comparison_pages_have_charts(browser, site_url: str) -> None:
    page = browser.new_page()
    page.goto(site_url + "studies/li-trp-tr/", wait_until="networkidle")
    assert wait_for_charts(page) >= 3
    page.goto(site_url + "comparisons/add-pd1-to-regorafenib/", wait_until="networkidle")
    assert wait_for_charts(page) >= 3
    # Every forest plot has its text version and its data as a table.
    assert page.locator(".le-forest-text li").count() >= 3
    assert page.locator(".le-chart-data table").count() >= 3
    page.close()


def test_charts_render_after_instant_navigation(browser, site_url: str) -> None:
    page = browser.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url, wait_until="networkidle")
    page.locator("a[href$='comparisons/add-pd1-to-regorafenib/']").first.click()
    page.wait_for_url("**/comparisons/add-pd1-to-regorafenib/")
    assert wait_for_charts(page) >= 3
    page.locator("a[href$='studies/ma-rego-pd1/']").first.click()
    page.wait_for_url("**/studies/ma-rego-pd1/")
    assert wait_for_charts(page) >= 2
    assert watch.errors == [], watch.errors
    page.close()


def test_sortable_studies_table(browser, site_url: str) -> None:
    page = browser.new_page()
    page.goto(site_url + "studies/", wait_until="networkidle")
    header = page.locator("#studies-table thead th").nth(4)
    header.locator("button").click()
    first = [int(x) for x in page.locator("#studies-table tbody tr td:nth-child(5)").all_inner_texts()]
    assert first == sorted(first)
    header.locator("button").click()
    second = [int(x) for x in page.locator("#studies-table tbody tr td:nth-child(5)").all_inner_texts()]
    assert second == sorted(second, reverse=True)
    page.close()


@pytest.mark.parametrize(
    ("name", "path", "width"),
    [
        ("home", "", 1280),
        ("study", "studies/li-trp-tr/", 1280),
        ("comparison", "comparisons/add-pd1-to-regorafenib/", 1280),
        ("comparison-phone", "comparisons/add-pd1-to-regorafenib/", 390),
        ("regimen", "regimens/rego/", 1280),
    ],
)
def test_screenshots(browser, site_url: str, artifacts: Path, name: str, path: str, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(site_url + path, wait_until="networkidle")
    wait_for_charts(page)
    target = artifacts / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000
    page.close()


def test_site_search_works_offline(browser, site_url: str) -> None:
    page = browser.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url, wait_until="networkidle")
    page.locator(".md-search__input").click()
    page.keyboard.type("regorafenib")  # the theme listens for key events, which fill() does not send
    page.wait_for_selector(".md-search-result__item", timeout=20000)
    assert page.locator(".md-search-result__item").count() >= 3
    assert watch.foreign == []
    page.close()


def test_dark_mode_charts_render(browser, site_url: str, artifacts: Path) -> None:
    page = browser.new_page(color_scheme="dark", viewport={"width": 1280, "height": 900})
    watch = PageWatch(page, site_url)
    page.goto(site_url + "comparisons/add-pd1-to-regorafenib/", wait_until="networkidle")
    assert page.locator("body").get_attribute("data-md-color-scheme") == "slate"
    assert wait_for_charts(page) >= 3
    page.screenshot(path=str(artifacts / "comparison-dark.png"))
    assert watch.errors == []
    page.close()
