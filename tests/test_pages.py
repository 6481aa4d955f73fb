"""Generated pages: golden files for one study and one comparison, and page numbers equal the JSON API."""

from __future__ import annotations

import json
import os
import re
from html import escape as html_escape
from pathlib import Path

import pytest

from livingevidence.analysis.synthesis import synthesise
from livingevidence.checks import validate_package
from livingevidence.load import load_package
from livingevidence.numbers import format_estimate
from livingevidence.pages.common import problems_by_study
from livingevidence.pages.comparison import comparison_page
from livingevidence.pages.render import md_escape, md_inline, render
from livingevidence.pages.study import study_page

GOLDEN = Path(__file__).parent / "golden"
PACKAGE = load_package()


def _check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        if not os.environ.get("UPDATE_GOLDEN"):
            pytest.fail(f"golden file {path} was missing and has been written; review and commit it")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def test_study_page_golden() -> None:
    report = validate_package(Path("datapackage"))
    problems = problems_by_study(PACKAGE, report.warnings)
    page = study_page(PACKAGE, PACKAGE.studies["li-trp-tr"], problems.get("li-trp-tr", []))
    _check_golden("study-li-trp-tr.md", render(page.template, **page.context))


def test_comparison_page_golden() -> None:
    cid = "add-pd1-to-regorafenib"
    page = comparison_page(PACKAGE, PACKAGE.comparisons[cid], synthesise(PACKAGE, cid))
    _check_golden("comparison-add-pd1-to-regorafenib.md", render(page.template, **page.context))


def test_contributor_text_is_inert() -> None:
    payload = '<script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)> "q" *em*'
    for rendered in (str(md_escape(payload)), str(md_inline(payload))):
        assert "<script" not in rendered
        assert "<img" not in rendered
        assert 'href="javascript' not in rendered
    html = str(md_inline("[ok](https://example.org) [bad](javascript:alert(1))"))
    assert 'href="https://example.org"' in html
    assert "href" not in html.replace('href="https://example.org"', "")


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+\.\d{2,3}", text))


@pytest.mark.parametrize("cid", list(PACKAGE.comparisons))
def test_comparison_page_numbers_equal_api(built_site: Path, cid: str) -> None:
    """Every pooled estimate and CI on the page appears in the JSON API with the same value."""
    api = json.loads((built_site / "api" / "comparisons" / f"{cid}.json").read_text(encoding="utf-8"))
    html = (built_site / "comparisons" / cid / "index.html").read_text(encoding="utf-8")
    for analysis in api["analyses"]:
        pooled = analysis["pooled"]
        if not pooled:
            continue
        for key in ("estimate", "ci_low", "ci_high"):
            value = pooled[key]
            shown = html_escape(format_estimate(value, ratio=analysis["log_scale"]))
            if analysis["key"].endswith(("-rr", "-hr-unadjusted", "-hr-adjusted")) and not analysis["key"].startswith(
                "ae-"
            ):
                assert shown in html, f"{analysis['key']} {key}={shown} missing from the page"


def test_api_index_lists_everything(built_site: Path) -> None:
    index = json.loads((built_site / "api" / "index.json").read_text(encoding="utf-8"))
    assert {s["id"] for s in index["studies"]} == set(PACKAGE.studies)
    assert {c["id"] for c in index["comparisons"]} == set(PACKAGE.comparisons)
    for s in index["studies"]:
        assert (built_site / "api" / s["href"]).exists()
    assert index["version"] == PACKAGE.info.version


def test_every_generated_page_exists(built_site: Path) -> None:
    for sid in PACKAGE.studies:
        assert (built_site / "studies" / sid / "index.html").exists()
        assert (built_site / "downloads" / "studies" / f"{sid}.zip").exists()
    for cid in PACKAGE.comparisons:
        assert (built_site / "comparisons" / cid / "index.html").exists()
    for rid in PACKAGE.regimens:
        assert (built_site / "regimens" / rid / "index.html").exists()


def test_no_page_references_another_host(built_site: Path) -> None:
    """No script, stylesheet, font or image is loaded from elsewhere (links to DOIs are fine)."""
    pattern = re.compile(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?:)?//', re.I)
    for html in built_site.rglob("*.html"):
        text = html.read_text(encoding="utf-8")
        assert not pattern.search(text), f"{html} loads from another host"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text


def test_link_filters_only_make_https_doi_and_pubmed_links() -> None:
    from livingevidence.pages.common import link
    from livingevidence.pages.render import doi_url, is_safe_url, pmid_url, safe_url

    assert doi_url("10.1186/s12876-021-01967-3") == "https://doi.org/10.1186/s12876-021-01967-3"
    assert doi_url('10.1234/"><img/src=x>') == "https://doi.org/10.1234/%22%3E%3Cimg/src%3Dx%3E"
    assert doi_url("10.1234/a b") is None
    assert doi_url("javascript:alert(1)") is None and doi_url("") is None and doi_url(None) is None
    assert pmid_url("34567890") == "https://pubmed.ncbi.nlm.nih.gov/34567890/"
    assert pmid_url("12 OR 1=1") is None and pmid_url(None) is None
    assert safe_url("https://example.org/x?y=1") == "https://example.org/x?y=1"
    for bad in (
        "javascript:alert(1)",
        "https:///x",
        "https://a b",
        "https://u:p@example.org/",
        "//example.org",
        "ftp://x.org",
    ):
        assert not is_safe_url(bad), bad
        assert safe_url(bad) is None
    assert str(link("../studies/a/", "<b>x</b>")) == '<a href="../studies/a/">&lt;b&gt;x&lt;/b&gt;</a>'
    for bad in ("javascript:alert(1)", "https://evil.example/", "//evil.example", '"><script>'):
        with pytest.raises(ValueError):
            link(bad, "x")


def test_notes_render_no_images_and_only_safe_links() -> None:
    html = str(md_inline("![pixel](https://tracker.example/p.png) [ok](https://example.org) <b>raw</b>"))
    assert "<img" not in html and "tracker.example/p.png" in html  # the text remains, no request is made
    assert '<a href="https://example.org">ok</a>' in html
    assert "&lt;b&gt;raw&lt;/b&gt;" in html
