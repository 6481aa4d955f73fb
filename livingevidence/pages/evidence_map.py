"""The home page's evidence map (comparisons x outcomes) and what's-new box."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis
from livingevidence.model import EvidencePackage, Outcome
from livingevidence.pages.common import Table, link, page_href


def _cell(package: EvidencePackage, syn: ComparisonSynthesis, outcome: Outcome) -> str:
    """'3 (412 pts)' for the outcome's best-informed analysis; else what is reported without one; else '-'."""
    mine = [a for a in syn.analyses if a.outcome == outcome.outcome_id and a.k]
    if outcome.counts_from == "adverse_events":
        summary = [a for a in mine if a.term in outcome.terms_in_summary]
        mine = summary or mine
    else:
        mine = [a for a in mine if a.measure == outcome.default_measure] or mine
    best = max(mine, key=lambda a: (a.k, a.patients), default=None)
    if best is not None:
        return f"{best.k} ({best.patients} pts)"
    if outcome.kind == "time-to-event":
        return _medians_only(syn, outcome.outcome_id)
    return _percentages_only(package, syn, outcome.outcome_id)


def evidence_map(package: EvidencePackage, syntheses: dict[str, ComparisonSynthesis]) -> Table:
    """How many study populations (and patients) inform each comparison and outcome; '-' where none.

    Columns are the vocabulary's outcomes, in its order; an outcome no comparison reports has no column.
    """
    outcomes = list(package.vocabulary.outcomes.values())
    cells = {cid: [_cell(package, syntheses[cid], o) for o in outcomes] for cid in package.comparisons}
    keep = [i for i in range(len(outcomes)) if any(row[i] != "-" for row in cells.values())]
    rows = [
        [link(page_href("index.md", f"comparisons/{cid}.md"), c.title), *[cells[cid][i] for i in keep]]
        for cid, c in package.comparisons.items()
    ]
    return Table(
        ["Comparison", *[outcomes[i].short_label for i in keep]],
        rows,
        caption="Evidence map: study populations (patients) per comparison and outcome",
    )


def _medians_only(syn: ComparisonSynthesis, outcome: str) -> str:
    """'1 (144 pts), medians only' when contrasts report medians for both arms but no hazard ratio."""
    k = patients = 0
    for c in syn.contributing:
        arms = {s.arm_id for s in syn.medians if s.population_id == c.population.population_id and s.outcome == outcome}
        if {c.intervention.arm_id, c.control.arm_id} <= arms:
            k += 1
            patients += c.n_intervention + c.n_control
    return f"{k} ({patients} pts), medians only" if k else "-"


def _percentages_only(package: EvidencePackage, syn: ComparisonSynthesis, outcome: str) -> str:
    """'1 (144 pts), percentages only' when both arms print a percentage but no counts to analyse."""
    printed = {
        (b.population_id, b.arm_id)
        for b in package.rows("binary_outcomes")
        if b.outcome == outcome and (b.percent is not None or b.events is not None)
    }
    printed |= _response_percentages(package, outcome)
    k = patients = 0
    for c in syn.contributing:
        pop = c.population.population_id
        if (pop, c.intervention.arm_id) in printed and (pop, c.control.arm_id) in printed:
            k += 1
            patients += c.n_intervention + c.n_control
    return f"{k} ({patients} pts), percentages only" if k else "-"


def _response_percentages(package: EvidencePackage, outcome_id: str) -> set[tuple[str, str]]:
    """(population, arm) pairs whose response rows print the outcome's percentage (ORR or DCR) only."""
    outcome = package.vocabulary.outcome(outcome_id)
    if outcome is None or outcome.counts_from not in ("response:orr", "response:dcr"):
        return set()
    column = "orr_percent" if outcome.counts_from == "response:orr" else "dcr_percent"
    return {(r.population_id, r.arm_id) for r in package.rows("response") if getattr(r, column) is not None}


def whats_new(package: EvidencePackage, release: dict[str, Any] | None = None) -> Table:
    """What this data version changed: the diff against the previous release when there is one (from the
    release history), else (a first release, or no recorded history) every study as added."""
    if release and release.get("previous"):
        from livingevidence.pages.whats_new import home_whats_new

        return home_whats_new(package, release)
    from livingevidence.pages.whats_new import HOME_ROWS, capped_note

    studies = sorted(package.studies.values(), key=lambda s: s.sort_key)
    rows = [
        [
            link(page_href("index.md", f"studies/{s.study_id}.md"), s.label),
            "added",
            package.vocabulary.label("studies", "source_kind", s.source_kind),
        ]
        for s in studies[:HOME_ROWS]
    ]
    caption = f"Changes in data version {package.info.version}" + capped_note(len(rows), len(studies))
    return Table(["Study", "Change", "Based on"], rows, caption=caption)
