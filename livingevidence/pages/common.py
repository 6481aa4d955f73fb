"""Small pieces every page kind shares: tables, chart blocks, problems per study, page records."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from livingevidence.model import EvidencePackage
from livingevidence.pages.render import NOT_REPORTED, ci, fmt_num
from livingevidence.report import Problem


@dataclass
class Table:
    """A table ready for the `table` macro: the first cell of each row is its row header."""

    headers: list[str]
    rows: list[list[Any]]
    caption: str = ""
    sortable: bool = False
    id: str = ""
    # "pairs" for item/value tables: on phones their cards need no column labels.
    kind: str = ""


@dataclass
class Page:
    """One generated Markdown page: where it goes, which template, what context."""

    path: str
    template: str
    context: dict[str, Any]
    data_files: dict[str, Any] = field(default_factory=dict)  # path -> JSON-able object written beside


def page_url(md_path: str) -> str:
    """The directory URL the site engine serves a Markdown page at (use_directory_urls)."""
    stem = md_path.removesuffix(".md")
    if stem == "index" or stem.endswith("/index"):
        stem = stem.removesuffix("index")
        return stem
    return stem + "/"


def page_href(from_md: str, to_md: str, anchor: str = "") -> str:
    """Relative URL from one generated page to another. Raw HTML is not rewritten by the site engine, so
    links inside HTML tables must already be the final served URLs."""
    here = page_url(from_md) or "."
    target = page_url(to_md) or "."
    rel = posixpath.relpath(target, here)
    rel = "./" if rel == "." else rel + "/"
    return rel + (f"#{anchor}" if anchor else "")


_INTERNAL_HREF = re.compile(r"^[A-Za-z0-9._~/-]*(#[A-Za-z0-9._-]*)?$")


def link(href: str, text: str) -> Markup:
    """An internal link (a relative path built from ids, never from contributor text); both parts escaped.

    Raises ValueError for anything but a relative path, so no scheme (javascript:, data:, ...) can reach an href.
    """
    if not _INTERNAL_HREF.match(href) or href.startswith("//"):
        raise ValueError(f"not an internal link: {href!r}")
    return Markup('<a href="{}">{}</a>').format(href, text)


def n_pct(count: int | None, percent: float | None) -> str:
    """'19 (29.7%)' with whatever part was printed."""
    if count is None and percent is None:
        return NOT_REPORTED
    if percent is None:
        return fmt_num(count)
    if count is None:
        return f"{fmt_num(percent)}%"
    return f"{fmt_num(count)} ({fmt_num(percent)}%)"


def median_ci(median: float | None, low: float | None, high: float | None) -> str:
    """'6.5 (95% CI 4.0 to 7.2)' or with 'not reported' parts."""
    if median is None:
        return NOT_REPORTED
    if low is None and high is None:
        return f"{fmt_num(median)} (CI not reported)"
    return f"{fmt_num(median)} ({ci(low, high)})"


@dataclass(frozen=True)
class ProblemView:
    location: str
    message: str
    rule: str


def problems_by_study(package: EvidencePackage, problems: list[Problem]) -> dict[str, list[ProblemView]]:
    """Attach each row-level warning to the study its row belongs to."""
    out: dict[str, list[ProblemView]] = {}
    for p in problems:
        table = p.file.rsplit("/", 1)[-1].removesuffix(".csv") if p.file else ""
        if table not in package.tables or p.row is None:
            continue
        index = p.row - 2  # CSV line numbers count the header as line 1
        rows = package.tables[table]
        if not 0 <= index < len(rows):
            continue
        try:
            study_id = package.study_of(rows[index])
        except (KeyError, ValueError):
            continue
        where = f"{table}.csv:{p.row}" + (f" {p.field}" if p.field else "")
        out.setdefault(study_id, []).append(ProblemView(where, p.message, p.rule))
    return out


def esc(text: Any) -> Markup:
    """Escape a value for use inside Markup.format."""
    return escape("" if text is None else text)
