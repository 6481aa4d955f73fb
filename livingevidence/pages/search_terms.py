"""The words readers type that the site search cannot see, as a compact index per version: ``search/terms.json``.

The site's search index leaves the data tables out (render.py: at 5,000 studies they made it 122 MB), so a drug,
an adverse event or a baseline characteristic printed only in a table was found nowhere. This index holds those
words once each, with the pages they occur on, and ``le-readers/search-terms.js`` queries it alongside the search
box. Its terms come from the data only:

- treatments: each intervention's label, its ``synonyms`` (the agents of a drug class, brand names,
  abbreviations, as the papers print them) and ATC code, with the regimen, comparison and study pages that use it;
  a synonym printed in an arm's description also points at that study;
- arms and analysis populations (their labels), adverse-event terms, baseline characteristics and their worded
  categories, prognostic factors, subgroup variables and outcomes, with their study pages (at the section that
  shows them) and, for outcomes and adverse events, the comparison pages that analyse them.

Format (compact JSON, see ``term_index``)::

    {"v": 1,
     "pages": [[url inside the version, title], ...],
     "notes": [[what the term is, {page kind: section anchor}], ...],
     "terms": [[term, note index, [page index, ...]], ...]}

Page kinds are the first letter of the url ("s"tudies, "c"omparisons, "r"egimens).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from livingevidence.analysis.synthesis_model import ComparisonSynthesis
from livingevidence.model import EvidencePackage

FORMAT = 1
# Section anchors of the study and comparison pages (the slugs of their headings in study.md.j2 and
# comparison.md.j2; tests/test_search_terms.py checks that the built pages have them).
ARMS = {"s": "design-arms-and-populations"}
BASELINE = {"s": "baseline-characteristics"}
ADVERSE = {"s": "adverse-events", "c": "adverse-events"}
SUBGROUPS = {"s": "subgroups"}
PROGNOSTIC = {"s": "prognostic-factors"}
# Category words that say nothing by themselves ("Cirrhosis: yes"): the characteristic is the term.
_PLAIN_CATEGORIES = {"all", "yes", "no", "none", "other", "others", "unknown", "missing", "total", "any"}
_WORDS = re.compile(r"[^\W\d_]{3,}")  # a category is a term when it has a word of three letters or more
_OUTCOME_TABLES = ("effects", "survival", "landmarks", "binary_outcomes", "continuous_outcomes", "subgroups")


@dataclass
class _Index:
    """Terms being collected: pages and notes are numbered as they are first used."""

    pages: dict[str, int] = field(default_factory=dict)
    page_rows: list[list[str]] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)
    note_rows: list[list[Any]] = field(default_factory=list)
    terms: dict[tuple[str, int], tuple[str, set[int]]] = field(default_factory=dict)

    def page(self, url: str, title: str) -> int:
        if url not in self.pages:
            self.pages[url] = len(self.page_rows)
            self.page_rows.append([url, title])
        return self.pages[url]

    def note(self, text: str, anchors: dict[str, str] | None = None) -> int:
        if text not in self.notes:
            self.notes[text] = len(self.note_rows)
            self.note_rows.append([text, anchors or {}])
        return self.notes[text]

    def add(self, term: str | None, note: int, pages: set[int]) -> None:
        """Add pages to a term (one entry per term, case-insensitively, and note; the first spelling is kept)."""
        term = re.sub(r"\s+", " ", term or "").strip()
        if not term or not pages:
            return
        key = (term.casefold(), note)
        shown, known = self.terms.get(key, (term, set()))
        self.terms[key] = (shown, known | pages)

    def to_json(self) -> dict[str, Any]:
        terms = sorted(self.terms.items(), key=lambda kv: (kv[0][0], kv[0][1]))
        return {
            "v": FORMAT,
            "pages": self.page_rows,
            "notes": self.note_rows,
            "terms": [[shown, note, sorted(pages)] for (_, note), (shown, pages) in terms],
        }


class _Pages:
    """Page numbers of the package's comparisons, regimens and studies, given in package order (so the same
    package numbers its pages the same way, whatever order terms are found in). A term lists its pages in that
    order: the few pages across studies first, then the studies, which the search box may cut short."""

    def __init__(self, package: EvidencePackage, index: _Index) -> None:
        self.comparison = {c: index.page(f"comparisons/{c}/", cm.title) for c, cm in package.comparisons.items()}
        self.regimen = {r: index.page(f"regimens/{r}/", rg.label) for r, rg in package.regimens.items()}
        self.study = {s: index.page(f"studies/{s}/", st.label) for s, st in package.studies.items()}

    def studies(self, ids: set[str]) -> set[int]:
        return {self.study[s] for s in ids if s in self.study}

    def comparisons(self, ids: set[str]) -> set[int]:
        return {self.comparison[c] for c in ids if c in self.comparison}

    def regimens(self, ids: set[str]) -> set[int]:
        return {self.regimen[r] for r in ids if r in self.regimen}


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in (text or "").split(";") if t.strip()]


def _mentions(text: str, term: str) -> bool:
    """Whether `text` names `term` as a whole word (case-insensitive)."""
    return re.search(r"(?<!\w)" + re.escape(term) + r"(?!\w)", text, re.I) is not None


def _treatments(package: EvidencePackage, index: _Index, pages: _Pages) -> None:
    """Interventions by label, synonyms and ATC code; synonyms printed in an arm's description, by study."""
    regimens_of: dict[str, set[str]] = defaultdict(set)
    for rc in package.rows("regimen_components"):
        regimens_of[rc.intervention_id].add(rc.regimen_id)
    pair_regimens: dict[str, set[str]] = defaultdict(set)  # regimen -> comparisons that compare it
    for p in package.rows("comparison_pairs"):
        pair_regimens[p.intervention_regimen_id].add(p.comparison_id)
        pair_regimens[p.control_regimen_id].add(p.comparison_id)
    arm_text = {a.arm_id: f"{a.label} {a.description or ''}" for a in package.rows("arms")}
    named = index.note("named in the study's arms", ARMS)
    for i in package.rows("interventions"):
        regimens = regimens_of.get(i.intervention_id, set())
        studies = {a.study_id for r in regimens for a in package.arms_by_regimen.get(r, ())}
        compared = {c for r in regimens for c in pair_regimens.get(r, ())}
        class_pages = pages.regimens(regimens) | pages.comparisons(compared)
        index.add(i.label, index.note("treatment"), class_pages | pages.studies(studies))
        if i.atc_code:
            index.add(i.atc_code, index.note(f"ATC code of {i.label}"), class_pages)
        for synonym in _split(getattr(i, "synonyms", None)):
            index.add(synonym, index.note(f"counted as {i.label}"), class_pages)
            printed = {package.arms[a].study_id for a, text in arm_text.items() if _mentions(text, synonym)}
            index.add(synonym, named, pages.studies(printed))


def _by_study(package: EvidencePackage, table: str, value: Any) -> dict[str, set[str]]:
    """{term: studies} of one table, `value(row)` giving the row's terms."""
    out: dict[str, set[str]] = defaultdict(set)
    for row in package.rows(table):
        for term in value(row):
            if term:
                out[term].add(package.study_of(row))
    return out


def _norm_term(term: str) -> str:
    """An adverse-event term as the analyses match it (outcome_analyses: case and dashes normalised)."""
    return re.sub(r"[\u2010-\u2015\-]+", "-", term.strip().lower())


def _analysed(syntheses: dict[str, ComparisonSynthesis]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """({outcome id: comparisons}, {normalised adverse-event term: comparisons}) that the comparison pages show."""
    outcomes: dict[str, set[str]] = defaultdict(set)
    terms: dict[str, set[str]] = defaultdict(set)
    for cid, syn in syntheses.items():
        for a in syn.analyses:
            outcomes[a.outcome].add(cid)
            if a.term:
                terms[a.term].add(cid)
    return outcomes, terms


def _study_terms(package: EvidencePackage, index: _Index, pages: _Pages, ae_comparisons: dict[str, set[str]]) -> None:
    """Arms, populations, adverse events, baseline, prognostic factors, subgroups: each with its studies."""
    vocab = package.vocabulary
    arm, population = index.note("arm", ARMS), index.note("analysis population", ARMS)
    for a in package.rows("arms"):
        index.add(a.label, arm, pages.studies({a.study_id}))
    for p in package.rows("populations"):
        index.add(p.label, population, pages.studies({p.study_id}))
    adverse = index.note("adverse event", ADVERSE)
    for term, studies in _by_study(package, "adverse_events", lambda r: [r.term]).items():
        related = ae_comparisons.get(_norm_term(term), set())
        index.add(term, adverse, pages.studies(studies) | pages.comparisons(related))
    for row in package.rows("baseline"):
        label = vocab.label("baseline", "characteristic", row.characteristic)
        studies = pages.studies({package.study_of(row)})
        index.add(label, index.note("baseline characteristic", BASELINE), studies)
        category = (row.category or "").strip()
        if category.casefold() not in _PLAIN_CATEGORIES and _WORDS.search(category):
            index.add(category, index.note(f"baseline: {label}", BASELINE), studies)
    for factor, studies in _by_study(package, "prognostic_factors", lambda r: [r.factor]).items():
        index.add(factor, index.note("prognostic factor", PROGNOSTIC), pages.studies(studies))
    for variable, studies in _by_study(package, "subgroups", lambda r: [r.variable]).items():
        index.add(variable, index.note("subgroup", SUBGROUPS), pages.studies(studies))


def _outcomes(package: EvidencePackage, index: _Index, pages: _Pages, analysed: dict[str, set[str]]) -> None:
    """Each outcome's label and short label, with the studies that report it and the comparisons analysing it."""
    reported: dict[str, set[str]] = defaultdict(set)
    for table in _OUTCOME_TABLES:
        for outcome, studies in _by_study(package, table, lambda r: [r.outcome]).items():
            reported[outcome] |= studies
    for o in package.vocabulary.outcomes.values():
        source = (o.counts_from or "").split(":")[0]
        if source in ("response", "adverse_events"):
            reported[o.outcome_id] |= {package.study_of(r) for r in package.rows(source)}
    note = index.note("outcome")
    for o in package.vocabulary.outcomes.values():
        found = pages.studies(reported.get(o.outcome_id, set())) | pages.comparisons(analysed.get(o.outcome_id, set()))
        for name in {o.label, o.short_label}:
            index.add(name, note, found)


def term_index(package: EvidencePackage, syntheses: dict[str, ComparisonSynthesis] | None = None) -> dict[str, Any]:
    """The term index of one build (see the module docstring); the same package gives the same JSON.

    `syntheses` (the build's) says which comparison pages analyse an outcome or an adverse-event term; without
    them those terms point at study pages only.
    """
    index = _Index()
    pages = _Pages(package, index)
    outcomes, terms = _analysed(syntheses or {})
    _treatments(package, index, pages)
    _study_terms(package, index, pages, terms)
    _outcomes(package, index, pages, outcomes)
    return index.to_json()
