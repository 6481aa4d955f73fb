"""Study pages a phone can read: results first, long tables folded, the first result within the first two
screens at 412 px and every page at most 15,000 px tall with its sections folded (it was 67,000 px)."""

from __future__ import annotations

import pytest

from livingevidence import paths
from livingevidence.load import load_package

pytestmark = pytest.mark.browser
SCREEN = 900  # px: the phone's viewport height (412 x 900)
MAX_HEIGHT = 15_000


@pytest.mark.parametrize("study_id", list(load_package(paths.DATAPACKAGE_DIR).studies))
def test_study_page_fits_a_phone(browser, site_url: str, study_id: str, artifacts) -> None:
    page = browser.new_page(viewport={"width": 412, "height": SCREEN})
    try:
        page.goto(f"{site_url}studies/{study_id}/", wait_until="networkidle")
        page.wait_for_timeout(1500)  # charts drawn
        measured = page.evaluate(
            """() => {
                const results = document.querySelector('h2#results');
                let first = results && results.nextElementSibling;
                while (first && first.tagName === 'H3') first = first.nextElementSibling;
                return {height: document.documentElement.scrollHeight,
                        results: results ? results.getBoundingClientRect().top + scrollY : null,
                        first: first ? first.getBoundingClientRect().top + scrollY : null};
            }"""
        )
        print(f"{study_id}: {measured['height']} px tall at 412 px; first result at {measured['first']} px")
        page.screenshot(path=str(artifacts / f"phone-study-{study_id}.png"))
        assert measured["results"] is not None, "the page has no Results section"
        assert measured["first"] <= 2 * SCREEN, f"the first result starts at {measured['first']} px"
        assert measured["height"] <= MAX_HEIGHT, f"{measured['height']} px tall"
    finally:
        page.close()
