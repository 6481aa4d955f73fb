"""Links over every page of the built site: no broken internal link or anchor, no page that nothing links to,
and every external link well-formed (https with a host name, DOI links in their doi.org form).

`link_problems(site)` is also run on the site of the hostile package (tests/test_hostile.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from livingevidence.pages.render import is_safe_url

# A DOI link: https://doi.org/10.<registrant>/<suffix>, the suffix percent-encoded outside a conservative set.
DOI_LINK = re.compile(r"^https://doi\.org/10\.\d{4,9}/[A-Za-z0-9/:;()._%-]+$")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag in ("a", "link", "area") and a.get("href") is not None:
            self.links.append(a["href"] or "")
        if tag in ("script", "img", "source", "iframe", "audio", "video") and a.get("src") is not None:
            self.links.append(a["src"] or "")


def _parse(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text(encoding="utf-8"))
    return c


def _target(site: Path, url_path: str) -> Path | None:
    candidate = site / unquote(url_path).lstrip("/")
    if candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.exists() else None


def external_link_problem(href: str) -> str | None:
    """Why an external link is malformed, or None."""
    parts = urlsplit(href)
    if parts.scheme == "mailto":
        return None if re.fullmatch(r"mailto:[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}", href) else "malformed mailto"
    if parts.scheme != "https":
        return "not https"
    if not is_safe_url(href):
        return "no host name, or characters that do not belong in a URL"
    if parts.hostname in ("doi.org", "dx.doi.org") and not DOI_LINK.match(href):
        return "not a well-formed DOI link (https://doi.org/10.NNNN/suffix, percent-encoded)"
    return None


def link_problems(site: Path) -> tuple[list[str], int, int]:
    """(problems, pages checked, external links checked) for every HTML page under `site`."""
    parsed = {p: _parse(p) for p in sorted(site.rglob("*.html"))}
    problems: list[str] = []
    linked: set[Path] = set()
    external = 0
    for page, c in parsed.items():
        rel = page.relative_to(site).as_posix()
        base = "http://site/" + rel
        for href in c.links:
            url = urlsplit(href)
            if url.scheme or href.startswith("//"):
                external += 1
                why = external_link_problem(href)
                if why:
                    problems.append(f"{rel}: {why}: {href}")
                continue
            if href.startswith("#") and not href[1:]:
                continue
            resolved = urlsplit(urljoin(base, href))
            target = _target(site, resolved.path)
            if target is None:
                problems.append(f"{rel} -> {href} (broken)")
                continue
            linked.add(target)
            if resolved.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(resolved.fragment) not in ids:
                    problems.append(f"{rel} -> {href} (missing anchor)")
    for page in parsed:
        if page not in linked and page.name != "404.html":
            problems.append(f"{page.relative_to(site).as_posix()}: no page links to it")
    return problems, len(parsed), external


def test_links_on_every_page(built_site: Path) -> None:
    problems, pages, external = link_problems(built_site)
    assert pages == sum(1 for _ in built_site.rglob("*.html")) and pages > 25
    assert external >= 2
    assert problems == [], "\n".join(problems[:50])


def test_external_link_rules() -> None:
    good = ["https://doi.org/10.1186/s12876-021-01967-3", "https://example.org/a?b=c#d", "mailto:a@example.org"]
    bad = [
        "http://example.org/",
        "https:///nohost",
        "https://ex ample.org/",
        'https://doi.org/10.1234/"><img',
        "https://doi.org/not-a-doi",
        "javascript:alert(1)",
        "https://user@example.org/",
        "mailto:nobody",
    ]
    assert [external_link_problem(h) for h in good] == [None] * len(good)
    assert all(external_link_problem(h) for h in bad)
