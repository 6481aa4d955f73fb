"""The glossary: the generator's statistical terms (skeleton/glossary.csv) and the topic's own (the package's
optional glossary.csv), as a page, and the `explain` filter that marks a term's first use in a generated
sentence with an <abbr> carrying its definition (the theme shows it as a tooltip)."""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Page

GENERATOR_GLOSSARY = Path(__file__).resolve().parent.parent / "skeleton" / "glossary.csv"


@cache
def generator_terms() -> tuple[tuple[str, str], ...]:
    """(term, definition) of the generator's glossary, in file order."""
    with GENERATOR_GLOSSARY.open(encoding="utf-8", newline="") as fh:
        return tuple((row["term"], row["definition"]) for row in csv.DictReader(fh))


def _anchor(term: str) -> str:
    return "term-" + (re.sub(r"[^a-z0-9]+", "-", term.lower().replace("²", "2")).strip("-") or "x")


def glossary_page(package: EvidencePackage) -> Page:
    """glossary.md: every term with its definition and an anchor."""
    terms = [{"term": t, "definition": d, "anchor": _anchor(t)} for t, d in generator_terms()]
    topic = [{"term": g.term, "definition": g.definition, "anchor": _anchor(g.term)} for g in package.rows("glossary")]
    return Page(
        "glossary.md",
        "glossary.md.j2",
        dict(description="What the statistical and topic terms on this site mean.", terms=terms, topic_terms=topic),
    )


@cache
def _pattern(terms: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    # Longest first, so "95% CI" wins over "CI"; a term is a whole word (not inside "CIs" or "HRs").
    names = sorted({t for t, _ in terms}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(str(escape(n))) for n in names) + r")(?![\w-])")


def explain(text: object, terms: tuple[tuple[str, str], ...] | None = None) -> Markup:
    """Escape a generated sentence and mark the first use of each glossary term with <abbr title=...>."""
    terms = terms or generator_terms()
    definitions = {str(escape(t)): d for t, d in terms}
    seen: set[str] = set()

    def mark(m: re.Match[str]) -> str:
        term = m.group(1)
        if term in seen:
            return term
        seen.add(term)
        return f'<abbr title="{escape(definitions[term])}">{term}</abbr>'

    return Markup(_pattern(terms).sub(mark, str(escape("" if text is None else text))))
