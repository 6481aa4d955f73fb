"""The Jinja environment for generated pages: autoescape on, undefined names are errors.

Contributor-supplied text reaches pages only through these filters: HTML-escaped everywhere, Markdown
specials escaped where the text lands in Markdown, and notes rendered by markdown-it with raw HTML and
images off and only http(s) links with a host kept. Links built from data are http(s) (``safe_url``), DOI
(``doi_url``) or PubMed (``pmid_url``) addresses, nothing else.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from livingevidence import paths

NOT_REPORTED = "not reported"
# Exactly the characters Python-Markdown treats as backslash-escapable; escaping others leaves a visible "\".
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!>])")
# No whitespace, quotes, angle brackets, backslashes or control characters anywhere in a URL we link to.
_URL_CHARS = re.compile(r"^[^\s\"'<>\\`\x00-\x1f\x7f]+$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def is_safe_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host name (no credentials, no odd characters)."""
    if not _URL_CHARS.match(url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a malformed port
    except ValueError:
        return False
    del port
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and bool(_HOST.match(host)) and "@" not in parts.netloc


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")  # an image would load from another host: not allowed by the site's CSP, and a tracker
    md.validateLink = is_safe_url  # type: ignore[method-assign]
    return md


def md_escape(value: Any) -> Markup:
    """Escape text for a Markdown context (headings, list items): no Markdown or HTML survives."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return Markup(_MD_SPECIAL.sub(r"\\\1", str(escape(text))))


def md_inline(value: Any) -> Markup:
    """Render contributor text as inline Markdown with raw HTML disabled (for notes in HTML blocks)."""
    if value is None or value == "":
        return Markup("")
    return Markup(_markdown().renderInline(str(value)))


def fmt(value: Any, digits: int = 1, missing: str = NOT_REPORTED) -> str:
    """A number for display; None becomes 'not reported'. Integers stay integers."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_num(value: Any) -> str:
    """A number as printed in the source: no trailing zeros added or removed beyond float repr."""
    if value is None:
        return NOT_REPORTED
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) >= 1000 else f"{value:g}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def ci(low: Any, high: Any, digits: int | None = None) -> str:
    """'low to high', with 'not reported' for a missing limit."""
    if low is None and high is None:
        return NOT_REPORTED
    f = (lambda v: fmt(v, digits)) if digits is not None else fmt_num
    return f"{f(low)} to {f(high)}"


def pval(value: str | None) -> str:
    """A p-value as printed, with 'p' prefix handled by the template."""
    return value or NOT_REPORTED


def safe_url(value: str | None) -> str | None:
    """Only http(s) URLs with a host become links."""
    return value if value and is_safe_url(value) else None


_DOI = re.compile(r"^10\.\d{4,9}/\S+$")


def doi_url(doi: str | None) -> str | None:
    """The https://doi.org/ address of a DOI (characters outside a DOI's usual set percent-encoded), or None."""
    if not doi or not _DOI.match(doi):
        return None
    return "https://doi.org/" + quote(doi, safe="/:;()._-")


def pmid_url(pmid: str | int | None) -> str | None:
    """The PubMed address of a PubMed ID (digits only), or None."""
    text = "" if pmid is None else str(pmid)
    return f"https://pubmed.ncbi.nlm.nih.gov/{text}/" if re.fullmatch(r"\d{1,9}", text) else None


def yaml_str(value: Any) -> Markup:
    """A YAML front-matter string: HTML-escaped, then JSON-quoted (JSON strings are valid YAML)."""
    return Markup(json.dumps(str(escape("" if value is None else str(value)).replace("\n", " ")), ensure_ascii=False))


def to_json(value: Any) -> str:
    """Compact, key-sorted JSON for data attributes (escaped by autoescape when inserted)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def html_table(t: Any) -> Markup:
    """A `Table` as HTML: the first cell of a row is its row header; every cell and header is escaped.

    Written in Python rather than as a Jinja macro because tables are most of every page's cells: the
    macro escaped each column header once per cell and was a third of the page stage at 1,000 studies.
    The output is byte for byte what the macro it replaces gave (tests/test_render.py keeps that macro).

    Tables stay out of the site search (`data-search-exclude`, honoured by mkdocs-material and Zensical):
    their numbers are no search terms, and at 5,000 studies they made a 122 MB index that every page
    downloads. Titles, headings, text and chart descriptions are still indexed.
    """
    headers = [str(escape(h)) for h in t.headers]
    attrs = [f' data-label="{h}"' for h in headers]
    parts = [
        '<div class="le-table-wrap" markdown="0" data-search-exclude>\n<table class="le-table',
        " le-sortable" if t.sortable else "",
        f" le-{escape(t.kind)}" if getattr(t, "kind", "") else "",
        '"',
        f' id="{escape(t.id)}"' if t.id else "",
        ">\n",
        f"<caption>{escape(t.caption)}</caption>" if t.caption else "",
        "<thead><tr>",
        "".join(f'<th scope="col">{h}</th>' for h in headers),
        "</tr></thead>\n<tbody>\n",
    ]
    for row in t.rows:
        parts.append("<tr>")
        if row:
            parts.append(f'<th scope="row">{escape(row[0])}</th>')
            # An empty cell gets no label: on phones it is hidden instead of showing a label without a value.
            parts.extend(
                f"<td{attrs[i]}>{escape(row[i])}</td>" if row[i] not in ("", None) else '<td class="le-empty"></td>'
                for i in range(1, len(row))
            )
        parts.append("</tr>\n")
    parts.append("</tbody>\n</table>\n</div>")
    return Markup("".join(parts))


def _explain(text: Any) -> Markup:
    from livingevidence.pages.glossary import explain

    return explain(text)


@cache
def environment(overrides: tuple[str, ...] = ()) -> jinja2.Environment:
    """The page template environment: a project's own templates (``overrides``) first, then the generator's."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*overrides, str(paths.TEMPLATES_DIR)]),
        autoescape=True,  # .md.j2 templates too: every value is HTML-escaped unless marked safe here
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        md_escape=md_escape,
        md_inline=md_inline,
        fmt=fmt,
        num=fmt_num,
        pval=pval,
        safe_url=safe_url,
        doi_url=doi_url,
        pmid_url=pmid_url,
        tojson_attr=to_json,
        yaml_str=yaml_str,
        explain=_explain,
    )
    env.globals.update(ci=ci, NOT_REPORTED=NOT_REPORTED, html_table=html_table)
    return env


def render(template: str, *, overrides: tuple[str, ...] = (), **context: Any) -> str:
    """Render one template with the given context (``overrides``: folders searched before templates/)."""
    return environment(overrides).get_template(template).render(**context)
