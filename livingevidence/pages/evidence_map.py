"""The home page's evidence map (comparisons x outcomes) and what's-new box."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis
from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Table, link, page_href

MAP_OUTCOMES = (
    ("OS", ("os-hr-unadjusted", "os-hr-adjusted")),
    ("PFS", ("pfs-hr-unadjusted", "pfs-hr-adjusted")),
    ("ORR", ("orr-mrecist-rr", "orr-recist11-rr")),
    ("DCR", ("dcr-mrecist-rr", "dcr-recist11-rr")),
    ("Adverse events", ("ae-any-adverse-event-any-grade", "ae-any-adverse-event-grade-3-or-higher")),
)


def evidence_map(package: EvidencePackage, syntheses: dict[str, ComparisonSynthesis]) -> Table:
    """How many study populations (and patients) inform each comparison and outcome; '-' where none."""
    rows = []
    for cid, c in package.comparisons.items():
        by_key = {a.key: a for a in syntheses[cid].analyses}
        row: list = [link(page_href("index.md", f"comparisons/{cid}.md"), c.title)]
        for name, keys in MAP_OUTCOMES:
            best = max((by_key[k] for k in keys if k in by_key), key=lambda a: (a.k, a.patients), default=None)
            if best is None and keys[0].startswith("ae-"):
                best = max(
                    (a for a in by_key.values() if a.outcome == "AE"), key=lambda a: (a.k, a.patients), default=None
                )
            if best is not None and best.k:
                row.append(f"{best.k} ({best.patients} pts)")
            elif name in ("OS", "PFS"):
                row.append(_medians_only(syntheses[cid], name))
            else:
                row.append("-")
        rows.append(row)
    return Table(
        ["Comparison", *[name for name, _ in MAP_OUTCOMES]],
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


def whats_new(package: EvidencePackage, release: dict[str, Any] | None = None) -> Table:
    """What this data version changed: the diff against the previous release when there is one (from the
    release history), else (a first release, or no recorded history) every study as added."""
    if release and release.get("previous"):
        from livingevidence.pages.whats_new import home_whats_new

        return home_whats_new(package, release)
    from livingevidence.pages.whats_new import HOME_ROWS, capped_note

    studies = sorted(package.studies.values(), key=lambda s: s.sort_key)
    rows = [
        [link(page_href("index.md", f"studies/{s.study_id}.md"), s.label), "added", s.source_kind.replace("-", " ")]
        for s in studies[:HOME_ROWS]
    ]
    caption = f"Changes in data version {package.info.version}" + capped_note(len(rows), len(studies))
    return Table(["Study", "Change", "Based on"], rows, caption=caption)
