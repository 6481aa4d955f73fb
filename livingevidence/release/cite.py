"""Citations for every page: text, BibTeX, RIS, CSL-JSON, Highwire meta tags and schema.org JSON-LD.

Who is cited: the project's maintainers as configured in mkdocs.yml (``extra.citation.authors``), never the
authors of the papers (each study page gives the paper's own bibliographic details). What is cited: the
page as it stands in one data version, at its snapshot address ``<site_url><version>/<page>/``, which never
changes after the release; the page's newest version is at ``<site_url>latest/<page>/``, given separately
(never as what is cited). A deploy needs a ``site_url`` (see ``site_url_problem``); a local build without one
shows the snapshot's path relative to the site's root.

``Citations.annotate(md_path, markdown)`` computes a page's citation and stores it in the page's front
matter (key ``le_cite``), where ``templates/overrides/main.html`` renders the meta tags, the JSON-LD and the
"Cite this page" box; ``Citations.files()`` returns the static downloads ``cite/<slug>.bib|.ris|.json``
that site.py writes beside the pages.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from livingevidence import paths
from livingevidence.pages.common import page_url

MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
LICENSE_URLS = {"CC-BY-4.0": "https://creativecommons.org/licenses/by/4.0/"}


class _Loader(yaml.SafeLoader):
    """Safe YAML loader that tolerates mkdocs' custom tags (!!python/name:..., !ENV) as plain values."""


_Loader.add_multi_constructor("", lambda loader, suffix, node: None)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)


def read_site_config(path: Path = paths.MKDOCS_YML) -> dict[str, Any]:
    """mkdocs.yml as a dict (custom tags become None)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}


def normalise_site_url(url: str | None) -> str | None:
    """'HTTPS://X.org/summary' -> 'https://x.org/summary/'; empty -> None.

    Scheme and host are case-insensitive (RFC 3986), so they are written in lower case: a GitHub owner's name
    with capitals gives the same address as the one GitHub Pages shows.
    """
    from urllib.parse import urlsplit, urlunsplit

    if not url or not str(url).strip():
        return None
    url = str(url).strip()
    parts = urlsplit(url)
    if parts.scheme and parts.netloc:
        url = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, parts.fragment))
    return url if url.endswith("/") else url + "/"


SITE_URL_FIX = (
    "set `site_url: https://<owner>.github.io/<repository>/` in mkdocs.yml or pass `--site-url URL` "
    "(the deploy workflow passes the repository's GitHub Pages address, or the SITE_URL repository variable)"
)


def site_url_problem(url: str | None) -> str | None:
    """Why `url` cannot be the address of a deployed site (None when it can): a snapshot is never rewritten, so
    its citations must carry its absolute, permanent address from the first deploy."""
    from urllib.parse import urlsplit

    if not url:
        return "the site has no address (site_url)"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"the site address {url!r} is not an absolute http(s) URL"
    if parts.query or parts.fragment or any(c.isspace() for c in url):
        return f"the site address {url!r} has a query, a fragment or a space"
    return None


@dataclass(frozen=True)
class CitationConfig:
    """Who and what is cited; read from mkdocs.yml (site_name, site_url, extra.citation)."""

    title: str
    authors: tuple[str, ...]
    publisher: str
    site_url: str | None = None
    doi: str | None = None
    license: str = "CC-BY-4.0"
    key_prefix: str = "livingevidence"
    repository: str | None = None

    @classmethod
    def from_site_config(cls, cfg: dict[str, Any], site_url: str | None = None) -> CitationConfig:
        """Build from a parsed mkdocs.yml; `site_url` (when given and not empty) overrides the file's."""
        extra = (cfg.get("extra") or {}).get("citation") or {}
        author_default = cfg.get("site_author") or "the project maintainers"
        authors = tuple(
            (a.get("name") if isinstance(a, dict) else str(a)) for a in (extra.get("authors") or [author_default])
        )
        doi = extra.get("doi") or None
        return cls(
            title=str(extra.get("title") or cfg.get("site_name") or "Living evidence summary"),
            authors=tuple(a for a in authors if a),
            publisher=str(extra.get("publisher") or author_default),
            site_url=normalise_site_url(site_url or cfg.get("site_url")),
            doi=str(doi).strip() if doi else None,
            license=str(extra.get("license") or "CC-BY-4.0"),
            key_prefix=str(extra.get("key_prefix") or "livingevidence"),
            repository=extra.get("repository") or cfg.get("repo_url") or None,
        )


def load_config(site_url: str | None = None, path: Path = paths.MKDOCS_YML) -> CitationConfig:
    """The citation configuration of this project (mkdocs.yml)."""
    return CitationConfig.from_site_config(read_site_config(path), site_url)


# --- formats ----------------------------------------------------------------------------------------------

# BibTeX counts every brace, escaped or not: `\{` opens a group as far as BibTeX is concerned, so a title with
# `}` in it would close the field early (and `}}, url = {...}` would add a field). Braces therefore become the
# commands \textbraceleft and \textbraceright, whose own braces are balanced; the other LaTeX specials get
# their usual escapes. `@` and `"` need nothing inside a braced value, and a value never spans lines, so `@` can
# never start an entry.
_BIB_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Control characters (C0, DEL, C1) and the bidirectional overrides: dropped from citation files.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\u202d\u202e]")


def one_line(text: object) -> str:
    """Text for a citation field: control characters dropped, every run of white space (line breaks of any
    kind included) one space, no space at either end."""
    return re.sub(r"\s+", " ", _CONTROL.sub("", str(text))).strip()


def bib_escape(text: object) -> str:
    """A BibTeX field value of `text` (see one_line), with LaTeX specials escaped and braces always balanced."""
    return "".join(_BIB_ESCAPES.get(c, c) for c in one_line(text))


def bib_url(url: str) -> str:
    """A URL for a BibTeX url field: anything outside RFC 3986's characters percent-encoded (braces, backslash
    and spaces included), so the value is one balanced group."""
    from urllib.parse import quote

    return quote(one_line(url), safe=":/?#[]@!$&'()*+,;=%-._~")


def _sentence(text: str) -> str:
    """Text ending with a full stop (not doubled)."""
    text = text.strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _ris_clean(text: str) -> str:
    """An RIS value: one line (a line break would start a new tag), without control characters."""
    return one_line(text)


@dataclass
class PageCitation:
    """The citation of one page in one data version."""

    md_path: str
    slug: str
    title: str
    kind: str  # 'dataset' (the data page) or 'webpage'
    url_path: str  # the page's address inside one version: 'studies/x/'
    snapshot: str  # '<version>/studies/x/' (relative to the site root) or the absolute URL
    snapshot_url: str | None  # absolute, when the site URL is configured
    snapshot_href: str | None  # a link from the page itself, or None when the snapshot is not reachable
    latest_url: str | None  # '<site>/latest/studies/x/': the newest version of the page (not what is cited)
    feed_href: str
    text: str
    key: str
    extra: dict[str, Any] = field(default_factory=dict)


class Citations:
    """Citations of every page of one build (one data version)."""

    def __init__(
        self,
        config: CitationConfig,
        *,
        version: str,
        date: str,
        package_title: str,
        package_description: str = "",
        keywords: tuple[str, ...] = (),
        zip_name: str | None = None,
        versioned: bool = False,
    ) -> None:
        self.config = config
        self.version = version
        self.date = date
        self.package_title = package_title
        self.package_description = package_description
        self.keywords = keywords
        self.zip_name = zip_name
        self.versioned = versioned
        self.pages: dict[str, PageCitation] = {}

    # --- addresses --------------------------------------------------------------------------------------
    def _to_root(self, url_path: str) -> str:
        """Relative path from a page (inside one version's folder when versioned) up to the site root."""
        depth = url_path.count("/") + (1 if self.versioned else 0)
        return "../" * depth

    def feed_href(self, url_path: str) -> str:
        """Where the Atom feed of releases is, seen from a page: the site root's feed.xml, as a relative link.

        Relative, so that a copy of the site (a local preview of the gh-pages tree, a mirror) links its own
        feed: mkdocs-material requests `sitemap.xml` beside every `<link rel=alternate>`, and an absolute link
        would send that request to another origin (refused by the Content-Security-Policy).
        """
        return self._to_root(url_path) + "feed.xml"

    def latest_url(self, url_path: str) -> str | None:
        """The page's address in the newest version (`<site>/latest/<page>/`), when the site URL is known."""
        return f"{self.config.site_url}latest/{url_path}" if self.config.site_url else None

    def _snapshot(self, url_path: str) -> tuple[str, str | None, str | None]:
        rel = f"{self.version}/{url_path}"
        absolute = self.config.site_url + rel if self.config.site_url else None
        if absolute:
            return absolute, absolute, absolute
        href = self._to_root(url_path) + rel if self.versioned else None
        return rel, None, href

    # --- the citation -----------------------------------------------------------------------------------
    def cite(self, md_path: str, title: str) -> PageCitation:
        """Compute (and remember) the citation of the page generated from `md_path`."""
        url_path = page_url(md_path)
        slug = url_path.strip("/").replace("/", "-") or "index"
        if slug in {c.slug for p, c in self.pages.items() if p != md_path}:
            raise ValueError(f"two pages share the citation file name {slug!r}")
        snapshot, snapshot_url, snapshot_href = self._snapshot(url_path)
        kind = "dataset" if md_path == "data/index.md" else "webpage"
        is_home = url_path == ""
        title = self.config.title if is_home else title
        key = re.sub(r"[^A-Za-z0-9_.:-]+", "-", f"{self.config.key_prefix}-{self.version}-{slug}")
        authors = "; ".join(self.config.authors)
        where = snapshot_url or f"Snapshot: {snapshot} (a local build: the site's address is not set)"
        work = f"{self.config.title} (data version {self.version}, {self.date})"
        text = f"{_sentence(authors)} ({self.date[:4]}). "
        text += f"{work}. " if is_home else f"{_sentence(title)} In: {work}. "
        if self.config.publisher and self.config.publisher not in self.config.authors:
            text += f"{_sentence(self.config.publisher)} "
        text += f"{where}."
        if self.config.doi:
            text += f" https://doi.org/{self.config.doi}"
        citation = PageCitation(
            md_path, slug, title, kind, url_path, snapshot, snapshot_url, snapshot_href, self.latest_url(url_path),
            self.feed_href(url_path), text, key,
        )  # fmt: skip
        self.pages[md_path] = citation
        return citation

    def note(self, c: PageCitation) -> str:
        """The citation files' note: the data version, the snapshot cited and, apart, the newest version."""
        note = f"Data version {self.version} of {self.date}. Snapshot: {c.snapshot}"
        if c.latest_url:
            note += f". Latest version of this page (may differ from the snapshot cited): {c.latest_url}"
        return note

    def bibtex(self, c: PageCitation) -> str:
        """A BibTeX @misc entry (readable by BibTeX, biblatex, Zotero, JabRef)."""
        y, m, _ = self.date.split("-")
        fields = [
            ("author", "{" + " and ".join("{" + bib_escape(a) + "}" for a in self.config.authors) + "}"),
            ("title", "{{" + bib_escape(c.title) + "}}"),
            ("howpublished", "{" + bib_escape(f"{self.config.title}, data version {self.version}") + "}"),
            ("year", "{" + y + "}"),
            ("month", MONTHS[int(m) - 1]),
            ("date", "{" + bib_escape(self.date) + "}"),
            ("version", "{" + bib_escape(self.version) + "}"),
            ("publisher", "{" + bib_escape(self.config.publisher) + "}"),
        ]
        if c.snapshot_url:
            fields.append(("url", "{" + bib_url(c.snapshot_url) + "}"))
        if self.config.doi:
            fields.append(("doi", "{" + bib_escape(self.config.doi) + "}"))
        fields.append(("note", "{" + bib_escape(self.note(c)) + "}"))
        width = max(len(k) for k, _ in fields)
        body = ",\n".join(f"  {k.ljust(width)} = {v}" for k, v in fields)
        return f"@misc{{{c.key},\n{body},\n}}\n"

    def ris(self, c: PageCitation) -> str:
        """An RIS record (CRLF line ends, as the format's specification asks)."""
        y, m, d = self.date.split("-")
        tags = [("TY", "DATA" if c.kind == "dataset" else "ELEC")]
        tags += [("AU", a) for a in self.config.authors]
        tags += [
            ("TI", c.title),
            ("T2", self.config.title),
            ("PY", y),
            ("DA", f"{y}/{m}/{d}"),
            ("ET", self.version),
            ("PB", self.config.publisher),
        ]
        if c.snapshot_url:
            tags.append(("UR", c.snapshot_url))
        if self.config.doi:
            tags.append(("DO", self.config.doi))
        tags += [("N1", self.note(c)), ("LA", "en")]
        lines = [f"{t}  - {_ris_clean(v)}" for t, v in tags] + ["ER  - "]
        return "\r\n".join(lines) + "\r\n"

    def csl(self, c: PageCitation) -> list[dict[str, Any]]:
        """A CSL-JSON item list (one item), as citeproc, Zotero and pandoc read it."""
        y, m, d = (int(x) for x in self.date.split("-"))
        item: dict[str, Any] = {
            "id": c.key,
            "type": c.kind,
            "title": c.title,
            "author": [{"literal": a} for a in self.config.authors],
            "issued": {"date-parts": [[y, m, d]]},
            "version": self.version,
            "publisher": self.config.publisher,
            "note": self.note(c),
            "language": "en",
        }
        if c.md_path != "index.md":
            item["container-title"] = self.config.title
        if c.snapshot_url:
            item["URL"] = c.snapshot_url
        if self.config.doi:
            item["DOI"] = self.config.doi
        return [item]

    def jsonld(self, c: PageCitation) -> dict[str, Any]:
        """schema.org JSON-LD: a Dataset for the data page (with its downloads), a WebPage elsewhere."""
        org = [{"@type": "Organization", "name": a} for a in self.config.authors]
        license_url = LICENSE_URLS.get(self.config.license, self.config.license)
        dataset: dict[str, Any] = {
            "@type": "Dataset",
            "name": self.package_title,
            "version": self.version,
            "datePublished": self.date,
            "license": license_url,
            "creator": org,
            "isAccessibleForFree": True,
        }
        if self.config.site_url:
            dataset["url"] = self.config.site_url + f"{self.version}/data/"
        if self.config.doi:
            dataset["identifier"] = f"https://doi.org/{self.config.doi}"
        if c.kind == "dataset":
            base = self.config.site_url + f"{self.version}/" if self.config.site_url else self._to_root(c.url_path)
            if self.versioned and not self.config.site_url:
                base += f"{self.version}/"
            distribution = [
                {
                    "@type": "DataDownload",
                    "encodingFormat": "application/json",
                    "contentUrl": base + "downloads/datapackage.json",
                    "name": "Frictionless data package descriptor",
                }
            ]
            if self.zip_name:
                distribution.insert(
                    0,
                    {
                        "@type": "DataDownload",
                        "encodingFormat": "application/zip",
                        "contentUrl": base + f"downloads/{self.zip_name}",
                        "name": "The whole data package (CSV tables and descriptor)",
                    },
                )
            out = {
                "@context": "https://schema.org",
                **dataset,
                "description": self.package_description or self.package_title,
                "keywords": list(self.keywords),
                "distribution": distribution,
                "publisher": {"@type": "Organization", "name": self.config.publisher},
            }
        else:
            out = {
                "@context": "https://schema.org",
                "@type": "WebPage",
                "name": c.title,
                "version": self.version,
                "datePublished": self.date,
                "author": org,
                "publisher": {"@type": "Organization", "name": self.config.publisher},
                "license": license_url,
                "isPartOf": dataset,
                "inLanguage": "en",
            }
            if c.snapshot_url:
                out["url"] = c.snapshot_url
        if c.latest_url:
            # This snapshot is one edition of the page; the page itself (its newest version) is the work.
            out["exampleOfWork"] = {"@type": out["@type"], "name": c.title, "url": c.latest_url}
        return out

    # --- wiring into the build ----------------------------------------------------------------------------
    def front_matter(self, c: PageCitation) -> dict[str, Any]:
        """What main.html needs, stored in the page's front matter under `le_cite`."""
        y, m, d = self.date.split("-")
        ld = json.dumps(self.jsonld(c), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        # JSON inside <script>: no "</script>", no HTML comment, whatever the titles hold.
        ld = ld.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return {
            "slug": c.slug,
            "title": c.title,
            "text": c.text,
            "snapshot": c.snapshot,
            "snapshot_href": c.snapshot_href,
            "public_url": c.snapshot_url,
            "latest_url": c.latest_url,
            "feed_href": c.feed_href,
            "authors": list(self.config.authors),
            "publisher": self.config.publisher,
            "date_meta": f"{y}/{m}/{d}",
            "doi": self.config.doi,
            "jsonld": ld,
        }

    def annotate(self, md_path: str, text: str) -> str:
        """Return the page's Markdown with its citation added to the front matter."""
        meta, body = split_front_matter(text)
        c = self.cite(md_path, page_title(body) or md_path)
        meta["le_cite"] = self.front_matter(c)
        dumped = yaml.dump(meta, Dumper=_YamlDumper, sort_keys=True, allow_unicode=True, width=1_000_000)
        return f"---\n{dumped}---\n{body}"

    def files(self) -> dict[str, str]:
        """cite/<slug>.bib, .ris and .json for every annotated page."""
        out: dict[str, str] = {}
        for c in sorted(self.pages.values(), key=lambda c: c.slug):
            out[f"cite/{c.slug}.bib"] = self.bibtex(c)
            out[f"cite/{c.slug}.ris"] = self.ris(c)
            out[f"cite/{c.slug}.json"] = json.dumps(self.csl(c), indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        return out


# libyaml's safe loader and dumper when PyYAML has them (its wheels do): the same documents, ten times faster
# than the pure-Python ones, which were a tenth of the page stage at 1,000 studies.
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_YamlDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_FRONT = re.compile(r"\A---\r?\n(.*?)\r?\n---\r?\n", re.S)
_ATTR_LIST = re.compile(r"\s*\{:?[^}]*\}\s*$")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """({front matter}, body) of a Markdown page (mkdocs' YAML front matter at the very top)."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    meta = yaml.load(m.group(1), Loader=_YamlLoader) or {}
    return (meta if isinstance(meta, dict) else {}), text[m.end() :]


def page_title(body: str) -> str | None:
    """The text of the first level-1 heading, without Markdown escapes, attribute lists or HTML entities."""
    for line in body.splitlines():
        if line.startswith("# "):
            title = _ATTR_LIST.sub("", line[2:]).strip()
            title = re.sub(r"\\(.)", r"\1", title)
            title = re.sub(r"[*_`]", "", title)
            return html.unescape(title)
    return None
