"""No broken internal link or anchor anywhere in the built site; external links well-formed."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag in ("a", "link") and a.get("href"):
            self.links.append(a["href"] or "")
        if tag in ("script", "img", "source") and a.get("src"):
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


def test_no_broken_internal_links(built_site: Path) -> None:
    parsed = {p: _parse(p) for p in built_site.rglob("*.html")}
    broken = []
    for page, c in parsed.items():
        base = "http://site/" + str(page.relative_to(built_site).as_posix())
        for href in c.links:
            url = urlparse(href)
            if url.scheme in ("http", "https"):
                assert url.netloc, f"{page}: malformed external link {href}"
                continue
            if url.scheme in ("mailto", "data") or (href.startswith("#") and not href[1:]):
                continue
            assert url.scheme == "", f"{page}: unexpected scheme in {href}"
            resolved = urlparse(urljoin(base, href))
            target = _target(built_site, resolved.path)
            if target is None:
                broken.append(f"{page.relative_to(built_site)} -> {href}")
                continue
            if resolved.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(resolved.fragment) not in ids:
                    broken.append(f"{page.relative_to(built_site)} -> {href} (missing anchor)")
    assert broken == [], "\n".join(broken[:50])
