"""The Jinja environment for generated pages: autoescape on, undefined names are errors.

Contributor-supplied text reaches pages only through these filters: HTML-escaped everywhere, Markdown
specials escaped where the text lands in Markdown, and notes rendered by markdown-it with raw HTML off
and only http(s) links kept.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from livingevidence import paths

NOT_REPORTED = "not reported"
# Exactly the characters Python-Markdown treats as backslash-escapable; escaping others leaves a visible "\".
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!>])")
_SAFE_URL = re.compile(r"^https?://[^\s\"'<>]+$")


@cache
def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.validateLink = lambda url: bool(_SAFE_URL.match(url))  # type: ignore[method-assign]
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
    """Only http(s) URLs become links."""
    return value if value and _SAFE_URL.match(value) else None


def yaml_str(value: Any) -> Markup:
    """A YAML front-matter string: HTML-escaped, then JSON-quoted (JSON strings are valid YAML)."""
    return Markup(json.dumps(str(escape("" if value is None else str(value)).replace("\n", " ")), ensure_ascii=False))


def to_json(value: Any) -> str:
    """Compact, key-sorted JSON for data attributes (escaped by autoescape when inserted)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@cache
def environment() -> jinja2.Environment:
    """The page template environment."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.TEMPLATES_DIR),
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
        tojson_attr=to_json,
        yaml_str=yaml_str,
    )
    env.globals.update(ci=ci, NOT_REPORTED=NOT_REPORTED)
    return env


def render(template: str, **context: Any) -> str:
    """Render one template with the given context."""
    return environment().get_template(template).render(**context)
