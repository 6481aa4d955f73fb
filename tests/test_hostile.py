"""Hostile contributor text stays inert: a package with an attack payload in every text field builds, and no payload
becomes markup, a link, an attribute or running script on any page.

The package is tests/fixtures/valid/ with every free-text field replaced (tests/hostile.py). The static tests parse
every HTML page of the built site; the browser test opens every page in Chromium with the page's CSP bypassed, so
that it is the escaping, not the CSP, that is tested.
"""

from __future__ import annotations

import csv
import http.server
import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser_helpers import wait_until
from tests.hostile import VALID, make_hostile_package, payload_markers

# Attributes whose value is a URL: a payload must never put a scheme other than http(s)/mailto there.
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "poster", "data", "cite", "background"}
# Tags that notes rendered as inline Markdown may legitimately produce from contributor text.
MARKDOWN_TAGS = {"em", "strong", "code", "a"}


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


def _parse(path: Path) -> _Elements:
    parser = _Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def _signatures(site: Path) -> set[tuple[str, tuple[str, ...]]]:
    """(tag, attribute names) of every element of every page."""
    out: set[tuple[str, tuple[str, ...]]] = set()
    for page in site.rglob("*.html"):
        out |= {(tag, tuple(sorted(attrs))) for tag, attrs in _parse(page).elements}
    return out


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The hostile package, its site, and the site of the unmodified fixture (the reference structure)."""
    from livingevidence.site import build_site

    root = tmp_path_factory.mktemp("hostile")
    package = make_hostile_package(root)
    build_site(package, root / "site")
    build_site(VALID, root / "clean")
    return {"package": package, "site": root / "site", "clean": root / "clean"}


def test_the_hostile_package_is_valid(sites: dict[str, Path]) -> None:
    from livingevidence.checks import validate_package

    report = validate_package(sites["package"])
    assert report.errors == [], report.to_text()
    assert len(payload_markers(sites["package"])) > 150


def test_payload_text_reaches_the_pages(sites: dict[str, Path]) -> None:
    html = "".join(p.read_text(encoding="utf-8") for p in sites["site"].rglob("*.html"))
    shown = set(re.findall(r"XSS\d+", html))
    planted = payload_markers(sites["package"])
    assert len(shown) > 0.6 * len(planted), "most payloads should appear on some page, as text"
    assert "&lt;script&gt;alert(" in html  # escaped, i.e. shown as text


def test_no_element_or_attribute_comes_from_a_payload(sites: dict[str, Path]) -> None:
    clean = _signatures(sites["clean"])
    found: list[str] = []
    for page in sorted(sites["site"].rglob("*.html")):
        rel = page.relative_to(sites["site"]).as_posix()
        parsed = _parse(page)
        for tag, attrs in parsed.elements:
            for name, value in attrs.items():
                if name.startswith("on"):
                    found.append(f"{rel}: <{tag} {name}={value!r}>")
                if name in URL_ATTRIBUTES and value:
                    scheme = urlsplit(value.strip()).scheme.lower()
                    if scheme not in ("", "http", "https", "mailto"):
                        found.append(f"{rel}: <{tag} {name}={value!r}>")
            signature = (tag, tuple(sorted(attrs)))
            if signature not in clean and tag not in MARKDOWN_TAGS:
                found.append(f"{rel}: new element {signature} {attrs}")
        for attrs, text in parsed.scripts:
            kind = attrs.get("type") or "text/javascript"
            if "src" in attrs:
                assert urlsplit(attrs["src"] or "").netloc == "", f"{rel}: a script from another host"
                assert not text.strip(), f"{rel}: a script with both src and inline code"
            elif kind in ("application/json", "application/ld+json"):
                json.loads(text)  # a payload that closed the <script> would leave invalid JSON behind
            else:
                found.append(f"{rel}: inline script {text[:80]!r}")
    assert found == [], "\n".join(found[:30])


def test_titles_are_escaped(sites: dict[str, Path]) -> None:
    for page in sites["site"].rglob("*.html"):
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        title = re.search(r"<title>(.*?)</title>", head, re.S)
        assert title is not None
        assert "<" not in title.group(1), f"{page}: {title.group(1)[:120]}"


def test_the_json_api_carries_the_text_as_written(sites: dict[str, Path]) -> None:
    """JSON files hold the contributor's text exactly (not HTML-escaped, not rendered): consumers escape it."""
    package, site = sites["package"], sites["site"]
    with (package / "arms.csv").open(encoding="utf-8", newline="") as fh:
        arms = {row["arm_id"]: row for row in csv.DictReader(fh)}
    study = json.loads((site / "api" / "studies" / "fixture-a.json").read_text(encoding="utf-8"))
    for row in study["tables"]["arms"]:
        assert row["label"] == arms[row["arm_id"]]["label"]
        assert row["description"] == (arms[row["arm_id"]]["description"] or None)
    index = json.loads((site / "api" / "index.json").read_text(encoding="utf-8"))
    with (package / "comparisons.csv").open(encoding="utf-8", newline="") as fh:
        titles = {row["comparison_id"]: row["title"] for row in csv.DictReader(fh)}
    for c in index["comparisons"]:
        assert c["title"] == titles[c["id"]]
    for path in site.rglob("*.json"):
        if path.relative_to(site).parts[0] == "search":  # the theme's search index holds HTML by design
            continue
        text = path.read_text(encoding="utf-8")
        json.loads(text)
        # Payloads hold "<script>" and '"><img' but never their escaped forms: those would be HTML-escaped text.
        assert "&lt;script" not in text and "&#34;&gt;" not in text and "&quot;&gt;" not in text, path


def test_chart_specs_carry_text_not_markup(sites: dict[str, Path]) -> None:
    """Chart labels are data: the spec holds them as plain strings (Vega draws them as SVG text)."""
    page = sites["site"] / "studies" / "fixture-a" / "index.html"
    specs = [
        json.loads(attrs["data-vega-spec"] or "{}")
        for tag, attrs in _parse(page).elements
        if tag == "div" and "data-vega-spec" in attrs
    ]
    assert specs
    text = json.dumps(specs, ensure_ascii=False)
    # One payload holds "&lt;b&gt;" as literal text, which a spec keeps as it is; what must never appear is a
    # markup payload arriving escaped ("<script>" as "&lt;script") or escaped twice.
    assert "XSS" in text and "<script>alert(" in text
    assert "&lt;script" not in text and "&lt;svg" not in text and "&amp;lt;" not in text
    for spec in specs:
        assert "href" not in json.dumps(spec.get("encoding", {})) and '"href"' not in text


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def hostile_url(sites: dict[str, Path]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(sites["site"])))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


# In the page: every element whose attributes a payload could have created.
_LIVE = """() => {
  const out = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) out.push(el.tagName + ' ' + a.name);
      const url = ['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name);
      if (url && /^\\s*(javascript|data|vbscript):/i.test(a.value)) out.push(el.tagName + ' ' + a.name + '=' + a.value);
    }
  }
  for (const el of document.querySelectorAll('iframe, object, embed, img[src="x"], math, textarea'))
    out.push('element ' + el.outerHTML.slice(0, 80));
  return out;
}"""


@pytest.mark.browser
def test_no_payload_runs_in_the_browser(browser, sites: dict[str, Path], hostile_url: str) -> None:
    pages = sorted(
        "" if p.parent == sites["site"] else p.parent.relative_to(sites["site"]).as_posix() + "/"
        for p in sites["site"].rglob("index.html")
    )
    context = browser.new_context(bypass_csp=True)  # test the escaping itself, not the CSP that backs it up
    dialogs: list[str] = []
    messages: list[str] = []
    context.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page = context.new_page()
    page.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type in ("error", "log") else None)
    page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
    live: dict[str, list[str]] = {}
    for path in pages:
        page.goto(hostile_url + path, wait_until="networkidle")
        charts = page.locator(".le-chart")
        if charts.count():
            wait_until(
                page,
                "() => [...document.querySelectorAll('.le-chart')].every(el => el.querySelector('svg'))",
                timeout=20,
            )
            for i in range(charts.count()):  # show a tooltip over each chart's marks
                box = charts.nth(i).bounding_box()
                if box:
                    for fx in (0.5, 0.7, 0.9):
                        page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)
        for summary in page.locator("details > summary").all():
            if summary.is_visible():
                summary.click()
        found = page.evaluate(_LIVE)
        if found:
            live[path] = found
    # The site search renders results from the search index: look for every payload there too.
    page.goto(hostile_url, wait_until="networkidle")
    page.locator(".md-search__input").click()
    page.keyboard.type("alert XSS")
    page.wait_for_selector(".md-search-result__item", timeout=20000)
    page.wait_for_timeout(500)
    found = page.evaluate(_LIVE)
    if found:
        live["search"] = found
    body = page.locator("body").inner_text()
    context.close()
    assert dialogs == [], f"a payload ran: {dialogs}"
    assert live == {}, live
    assert [m for m in messages if "XSS" in m or "alert" in m or m.startswith(("error", "pageerror"))] == []
    assert "XSS" in body  # the search shows the payload text, as text


def test_links_stay_well_formed(sites: dict[str, Path]) -> None:
    """Hostile DOIs and URLs give percent-encoded https links or none; no internal link breaks."""
    from tests.test_links import link_problems

    problems, pages, external = link_problems(sites["site"])
    assert problems == [], "\n".join(problems[:30])
    assert pages > 15 and external >= 1
    study = (sites["site"] / "studies" / "fixture-a" / "index.html").read_text(encoding="utf-8")
    assert 'href="https://doi.org/10.1234/%22onmouseover%3D%22alert' in study
