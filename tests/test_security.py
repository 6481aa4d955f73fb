"""The Content-Security-Policy: declared on every page, strict, documented for servers, and really satisfied.

The static tests read every built page; the browser tests open every page in Chromium and listen for
`securitypolicyviolation` events, also while the reader searches, switches the colour scheme, follows links with
the theme's instant navigation and hovers over charts.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from livingevidence import paths
from tests.browser_helpers import wait_until


def _policy() -> str:
    text = paths.MKDOCS_YML.read_text(encoding="utf-8")
    config = yaml.safe_load(re.sub(r"!!python/\S+", "", text))
    return config["extra"]["csp"]


def _directives(policy: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


class _Head(HTMLParser):
    """Elements in order, with attributes and the text of scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))
            self.inline.append((tag, dict(attrs), ""))

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            tag, attrs, text = self.inline[-1]
            self.inline[-1] = (tag, attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._open = None


def test_the_policy_is_strict() -> None:
    d = _directives(_policy())
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'"], "no inline script, no eval, no other host"
    assert d["style-src"] == ["'self'"]
    assert d["object-src"] == ["'none'"] and d["base-uri"] == ["'self'"] and d["frame-src"] == ["'none'"]
    assert d["img-src"] == ["'self'", "data:"]  # the theme's icons are data: URIs in its stylesheet
    assert not any("unsafe" in v for values in d.values() for v in values)


def test_the_header_for_servers_is_documented() -> None:
    about = (paths.DOCS_DIR / "about.md").read_text(encoding="utf-8")
    assert f"Content-Security-Policy: {_policy()}; frame-ancestors 'none'" in about


def test_every_page_declares_the_policy_before_any_script_or_style(built_site: Path) -> None:
    policy = _policy()
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 25
    problems: list[str] = []
    for page in pages:
        rel = page.relative_to(built_site).as_posix()
        parsed = _Head()
        parsed.feed(page.read_text(encoding="utf-8"))
        metas = [
            i
            for i, (tag, a) in enumerate(parsed.elements)
            if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy"
        ]
        if len(metas) != 1 or parsed.elements[metas[0]][1].get("content") != policy:
            problems.append(f"{rel}: no CSP meta tag with the policy of mkdocs.yml")
            continue
        loads = [
            i
            for i, (tag, a) in enumerate(parsed.elements)
            if tag in ("script", "style") or (tag == "link" and a.get("rel") == "stylesheet")
        ]
        if loads and loads[0] < metas[0]:
            problems.append(f"{rel}: a script or stylesheet comes before the CSP meta tag")
        for tag, attrs, text in parsed.inline:
            data_block = tag == "script" and attrs.get("type") in ("application/json", "application/ld+json")
            if text.strip() and not data_block:
                problems.append(f"{rel}: inline <{tag}> {text.strip()[:60]!r}")
        for tag, attrs in parsed.elements:
            for name, value in attrs.items():
                if name.startswith("on") or name == "style":
                    problems.append(f"{rel}: <{tag} {name}=...> needs 'unsafe-inline'")
                if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                    problems.append(f"{rel}: <{tag} {name}={value!r}>")
    assert problems == [], "\n".join(problems[:30])


# Chromium: record every violation the page reports.
_LISTEN = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(
  `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber} ${e.sample || ''}`));
"""


def _all_pages(site: Path) -> list[str]:
    return sorted(
        "" if p.parent == site else p.parent.relative_to(site).as_posix() + "/" for p in site.rglob("index.html")
    )


def _settle(page) -> None:
    if page.locator(".le-chart").count():
        wait_until(
            page, "() => [...document.querySelectorAll('.le-chart')].every(el => el.querySelector('svg'))", timeout=20
        )


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_page_violates_the_policy(browser, built_site: Path, site_url: str, scheme: str) -> None:
    context = browser.new_context(color_scheme=scheme)
    context.add_init_script(_LISTEN)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    violations: dict[str, list[str]] = {}
    pages = _all_pages(built_site)
    if scheme == "dark":  # the dark scheme changes colours, not scripts: the pages with charts suffice
        pages = [p for p in pages if p.startswith(("studies/", "comparisons/", "regimens/")) and p.count("/") == 2]
    for path in pages:
        page.goto(site_url + path, wait_until="networkidle")
        _settle(page)
        found = page.evaluate("window.__cspViolations")
        if found:
            violations[path] = found
    context.close()
    assert violations == {}, violations
    assert errors == [], errors


@pytest.mark.browser
def test_interactions_keep_to_the_policy(browser, site_url: str) -> None:
    """Search (a web worker and its index), the palette toggle (charts redrawn), instant navigation, tooltips."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(_LISTEN)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(site_url, wait_until="networkidle")
    page.locator(".md-search__input").click()
    page.keyboard.type("regorafenib")
    page.wait_for_selector(".md-search-result__item", timeout=20000)
    page.keyboard.press("Escape")
    page.locator("a[href$='comparisons/add-pd1-to-regorafenib/']").first.click()
    page.wait_for_url("**/comparisons/add-pd1-to-regorafenib/")
    _settle(page)
    box = page.locator(".le-chart").first.bounding_box()
    assert box is not None
    for fx in (0.3, 0.5, 0.7, 0.9):
        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * 0.5)
    page.locator("label.md-header__button[for^='__palette']:visible").first.click()
    wait_until(page, "document.body.getAttribute('data-md-color-scheme') === 'slate'")
    wait_until(
        page,
        "() => [...document.querySelectorAll('.le-chart')].every(el => el.getAttribute('data-le-theme') === 'dark')",
        timeout=20,
    )
    found = page.evaluate("window.__cspViolations")
    context.close()
    assert found == []
    assert errors == []


def test_the_theme_scripts_moved_to_files_match_the_installed_theme() -> None:
    """templates/overrides/assets/javascripts/le-theme/*.js are the theme's inline scripts, verbatim but for the
    values the inline code had templated in. After a mkdocs-material upgrade this fails until they are re-copied."""
    import material

    theme = Path(material.__file__).parent / "templates" / "partials" / "javascripts"
    ours = paths.TEMPLATES_DIR / "overrides" / "assets" / "javascripts" / "le-theme"
    substitutions = {
        'new URL("{{ config.extra.scope | d(base_url) }}",location)': (
            'new URL(document.currentScript.getAttribute("data-md-scope"),location)'
        ),
        'new URL("{{ base_url }}")': 'new URL(document.currentScript.getAttribute("data-md-base"),location)',
    }
    expected = {"base": "base", "palette": "palette", "announce": "announce", "consent": "consent"}
    expected |= {"outdated": "outdated", "content": "content-tabs"}
    for partial, name in expected.items():
        scripts = re.findall(r"<script>(.*?)</script>", (theme / f"{partial}.html").read_text(encoding="utf-8"), re.S)
        code = scripts[0]
        for old, new in substitutions.items():
            code = code.replace(old, new)
        assert "{{" not in code and "{%" not in code, partial
        mine = (ours / f"{name}.js").read_text(encoding="utf-8")
        assert mine.rstrip("\n").endswith(code), f"{name}.js differs from the theme's {partial}.html"
    content = re.findall(r"<script>(.*?)</script>", (theme / "content.html").read_text(encoding="utf-8"), re.S)
    assert len(content) == 2 and (ours / "content.js").read_text(encoding="utf-8").rstrip("\n").endswith(content[1])
    assert sorted(p.stem for p in theme.glob("*.html")) == sorted(expected), "the theme has a new inline script"
