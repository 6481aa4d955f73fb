"""Search finds what readers type: the drug names each paper prints, adverse-event terms, baseline factors, study
names and labels, though the site's search index leaves the data tables out.

The term index (search/terms.json, livingevidence/pages/search_terms.py) is checked as data, for its size on the
HCC site and on a synthetic 1,000-study package, and in Chromium through the search box.
"""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from livingevidence.analysis.synthesis import synthesise_all
from livingevidence.load import load_package
from livingevidence.pages.indexes import dump
from livingevidence.pages.search_terms import term_index
from tests.browser_helpers import wait_until

PACKAGE = load_package()
INDEX = term_index(PACKAGE, synthesise_all(PACKAGE))  # as the build writes it
# The drug names each of the five papers prints (tests/ may name the topic; the generator may not).
PRINTED = {
    "li-trp-tr": ["camrelizumab", "sintilimab", "tislelizumab", "pembrolizumab", "regorafenib"],
    "ma-rego-pd1": ["sintilimab", "tislelizumab", "pembrolizumab", "regorafenib"],
    "han-tace-rego": ["regorafenib", "sorafenib", "lenvatinib"],
    "tace-ici-mtt": ["PD-(L)1 inhibitor", "molecular targeted therapy"],
    "lp-vs-r": ["lenvatinib", "regorafenib", "camrelizumab", "sintilimab", "tislelizumab", "pembrolizumab"],
}
SIZE_LIMIT_GZ = 150_000  # the extra bytes the search may cost at 1,000 studies


def _lookup(index: dict, query: str) -> dict[str, set[str]]:
    """{term: page urls} of the terms whose words begin with every query word (what search-terms.js does)."""
    words = lambda text: [w for w in re.split(r"[^0-9a-z]+", text.lower()) if w]  # noqa: E731
    q = words(query)
    out: dict[str, set[str]] = {}
    for text, _note, pages in index["terms"]:
        tw = words(text)
        if all(any(w.startswith(x) for w in tw) for x in q):
            out.setdefault(text, set()).update(index["pages"][p][0] for p in pages)
    return out


def _pages_for(index: dict, query: str) -> set[str]:
    return set().union(*_lookup(index, query).values()) if _lookup(index, query) else set()


def test_every_drug_name_a_paper_prints_leads_to_its_study() -> None:
    index = INDEX
    for study, names in PRINTED.items():
        for name in names:
            assert f"studies/{study}/" in _pages_for(index, name), (study, name)


def test_an_agent_named_for_a_class_points_only_at_the_studies_that_print_it() -> None:
    """Ma et al. give sintilimab, tislelizumab or pembrolizumab, never camrelizumab: the term's study links say so,
    and the class's regimen and comparison pages come under its own note."""
    index = INDEX
    notes = [n[0] for n in index["notes"]]
    by_note = {notes[note]: {index["pages"][p][0] for p in pages} for text, note, pages in index["terms"]}
    named = {
        index["pages"][p][0]
        for text, note, pages in index["terms"]
        if text == "camrelizumab" and notes[note] == "named in the study's arms"
        for p in pages
    }
    assert named == {"studies/li-trp-tr/", "studies/lp-vs-r/"}
    assert "counted as PD-1 inhibitor" in by_note
    assert "regimens/rego-pd1/" in _pages_for(index, "camrelizumab")


def test_adverse_events_baseline_factors_and_outcomes() -> None:
    index = INDEX
    hfsr = _lookup(index, "hand-foot skin")
    assert set(hfsr) == {"Hand-foot skin reaction"}
    assert {"studies/li-trp-tr/", "studies/ma-rego-pd1/", "studies/lp-vs-r/"} <= hfsr["Hand-foot skin reaction"]
    assert "comparisons/rego-pd1-vs-rego/" in hfsr["Hand-foot skin reaction"]
    assert "studies/han-tace-rego/" in _pages_for(index, "hand-foot syndrome")
    assert {f"studies/{s}/" for s in ("li-trp-tr", "ma-rego-pd1", "han-tace-rego", "lp-vs-r")} <= _pages_for(
        index, "ECOG"
    )
    assert "studies/ma-rego-pd1/" in _pages_for(index, "ALBI grade")
    assert "studies/tace-ici-mtt/" in _pages_for(index, "TACE resistance")  # an outcome
    assert "comparisons/rego-pd1-vs-rego/" in _pages_for(index, "overall survival")
    assert "studies/li-trp-tr/" in _pages_for(index, "TRP")  # an arm's label


def test_the_index_is_the_same_for_the_same_data() -> None:
    again = load_package()
    assert dump(INDEX) == dump(term_index(again, synthesise_all(again)))


def test_section_anchors_exist_on_the_built_pages(built_site: Path) -> None:
    index = INDEX
    for text, note, pages in index["terms"]:
        anchors = index["notes"][note][1]
        for p in pages:
            url = index["pages"][p][0]
            anchor = anchors.get(url[0])
            if anchor:
                html = (built_site / url / "index.html").read_text(encoding="utf-8")
                assert f'id="{anchor}"' in html, (text, url, anchor)
    assert json.loads((built_site / "search" / "terms.json").read_text(encoding="utf-8")) == index


def _sizes(index: dict) -> tuple[int, int]:
    data = dump(index).encode()
    return len(data), len(gzip.compress(data, 6))


def test_index_size_on_the_hcc_site_and_at_1000_studies(tmp_path: Path) -> None:
    from livingevidence.tools.synth import generate

    raw, gz = _sizes(INDEX)
    package = tmp_path / "s1000"
    package.mkdir()
    for name, text in generate(1000).items():
        (package / name).write_text(text, encoding="utf-8")
    synthetic = load_package(package)
    raw_1000, gz_1000 = _sizes(term_index(synthetic, synthesise_all(synthetic)))
    print(f"\nsearch/terms.json: HCC {raw:,} B ({gz:,} B gz); 1,000 studies {raw_1000:,} B ({gz_1000:,} B gz)")
    assert gz_1000 <= SIZE_LIMIT_GZ and gz <= SIZE_LIMIT_GZ


# --- in the browser -------------------------------------------------------------------------------------------


def _search(page, query: str) -> dict[str, list[str]]:
    """Type `query` into the search box; return {"term · what it is": [page paths]} of the data-table results."""
    box = page.locator(".md-search__input")
    box.fill("")
    box.click()
    page.keyboard.type(query)
    answered = f"() => {{ const b = document.querySelector('.le-terms'); return b && b.dataset.query === {query!r}; }}"
    wait_until(page, answered)
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.le-terms__item')].map(item => [
            item.querySelector('.le-terms__term').textContent,
            [...item.querySelectorAll('a')].map(a => new URL(a.href).pathname + new URL(a.href).hash)]))"""
    )


def _found(results: dict[str, list[str]]) -> set[str]:
    return {href.split("#")[0].strip("/") for hrefs in results.values() for href in hrefs}


@pytest.mark.browser
def test_the_search_box_finds_drugs_adverse_events_and_baseline_factors(browser, site_url: str) -> None:
    from tests.test_e2e import PageWatch

    page = browser.new_page()
    watch = PageWatch(page, site_url)
    page.goto(site_url, wait_until="networkidle")
    for study, names in PRINTED.items():
        for name in names:
            assert f"studies/{study}" in _found(_search(page, name)), (study, name)
    results = _search(page, "hand-foot skin reaction")
    assert "/studies/ma-rego-pd1/#adverse-events" in results["Hand-foot skin reaction · adverse event"]
    assert "/comparisons/rego-pd1-vs-rego/#adverse-events" in results["Hand-foot skin reaction · adverse event"]
    named = _search(page, "camrelizumab")["camrelizumab · named in the study's arms"]
    assert named == [f"/studies/{s}/#design-arms-and-populations" for s in ("li-trp-tr", "lp-vs-r")]
    results = _search(page, "child-pugh")
    assert "/studies/li-trp-tr/#baseline-characteristics" in results["Child-Pugh · baseline characteristic"]
    # Closing the search drops the list (no stale links behind the page); opening it again redraws it.
    page.keyboard.press("Escape")
    wait_until(page, "() => document.querySelectorAll('.le-terms a').length === 0")
    page.locator(".md-search__input").click()
    wait_until(page, "() => document.querySelectorAll('.le-terms a').length > 0")
    # Following a result goes to the study's section.
    page.locator(".le-terms a", has_text="Ma et al.").first.click()
    page.wait_for_url(re.compile(r"/studies/ma-rego-pd1/#baseline-characteristics$"))
    assert watch.failed == [] and watch.errors == [] and watch.foreign == [], (watch.failed, watch.errors)
    page.close()


@pytest.mark.browser
def test_the_search_box_finds_study_names_and_labels(browser, site_url: str) -> None:
    """Study labels and titles are in the theme's own index (the study page's heading and opening lines)."""
    page = browser.new_page()
    page.goto(site_url, wait_until="networkidle")
    for query, study in (("Ma et al", "ma-rego-pd1"), ("Multicenter Retrospective", "ma-rego-pd1")):
        page.locator(".md-search__input").fill("")
        page.locator(".md-search__input").click()
        page.keyboard.type(query)
        page.wait_for_selector(".md-search-result__item", timeout=20000)
        hrefs = page.evaluate("() => [...document.querySelectorAll('.md-search-result__link')].map(a => a.href)")
        assert any(f"/studies/{study}/" in h for h in hrefs), (query, hrefs[:5])
    page.close()
