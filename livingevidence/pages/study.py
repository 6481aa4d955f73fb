"""Context of one study page: citation, design, arms, every extracted number with its source, charts."""

from __future__ import annotations

from dataclasses import fields

from livingevidence.model import EvidencePackage, Study
from livingevidence.pages import appraisal, chartblocks
from livingevidence.pages import study_tables as tables
from livingevidence.pages.common import Page, ProblemView, Table
from livingevidence.pages.render import doi_url

# Tables that belong to the package as a whole rather than to one study.
GLOBAL_TABLES = {
    "interventions",
    "regimens",
    "regimen_components",
    "comparisons",
    "comparison_pairs",
    "certainty",
    "indirectness",
    "outcomes",
    "labels",
    "glossary",
}


def citation_line(study: Study) -> str:
    """Journal, year and pages as printed, saying in one phrase what the source does not print."""
    parts = [p for p in (study.journal, str(study.year) if study.year else None) if p]
    if study.pages:
        parts.append(f"pp. {study.pages}")
    missing = [name for name, value in (("journal", study.journal), ("year", study.year)) if not value]
    if missing:
        parts.append(" and ".join(missing).capitalize() + " not reported")
    return ". ".join(parts) + "."


def _provenance(package: EvidencePackage, study: Study) -> Table:
    return Table(
        ["Item", "Value"],
        [
            ["Extracted from", package.vocabulary.label("studies", "source_kind", study.source_kind)],
            ["Source file", study.source_file],
            ["Extracted by", study.extracted_by],
            ["Checked by", tables.or_nr(study.checked_by) if study.checked_by else "not yet checked"],
            ["Extraction date", study.extraction_date.isoformat()],
            ["Note", tables.or_nr(study.note)],
        ],
        caption="Provenance",
        kind="pairs",
    )


def _charts(package: EvidencePackage, study: Study, by: dict[str, list]) -> dict[str, object]:
    sid = study.study_id
    data_href = f"../../api/studies/{sid}.json"
    survival, aes = by["survival"], by["adverse_events"]
    return dict(
        survival_chart=chartblocks.medians_block(package, survival, f"Medians in {study.label}", data_href)
        if survival
        else None,
        response_charts=chartblocks.response_blocks(package, by["response"], study.label, data_href),
        ae_chart=chartblocks.adverse_events_block(package, aes, f"Adverse events in {study.label}", data_href)
        if aes
        else None,
    )


def study_page(package: EvidencePackage, study: Study, problems: list[ProblemView]) -> Page:
    """Build the page for one study: every section with rows, in reading order."""
    sid = study.study_id
    arms = package.arms_of(sid)
    by = {t: package.by_study(t).get(sid, []) for t in package.tables if t not in GLOBAL_TABLES}
    design = package.vocabulary.label("studies", "design", study.design)
    context = dict(
        study=study,
        description=f"{study.label}: {design}; every number extracted, with its source location.",
        authors="; ".join(study.author_list) if study.authors else "Authors not reported",
        citation_line=citation_line(study),
        doi_href=doi_url(study.doi),
        glance_table=tables.glance_table(package, study, by["effects"]),
        design_table=tables.design_table(package, study),
        arms_table=tables.arms_table(package, arms),
        populations_table=tables.populations_table(package, arms, package.populations_of(sid)),
        baseline_tables=tables.baseline_tables(package, arms, by["baseline"]),
        survival_table=tables.survival_table(package, by["survival"]),
        landmarks_table=tables.landmarks_table(package, by["landmarks"]),
        effects_table=tables.effects_table(package, by["effects"]),
        response_table=tables.response_table(package, by["response"]),
        binary_table=tables.binary_table(package, by["binary_outcomes"]),
        continuous_table=tables.continuous_table(package, by["continuous_outcomes"]),
        ae_table=tables.adverse_events_table(package, by["adverse_events"]),
        subgroup_table=tables.subgroup_table(package, by["subgroups"]),
        prognostic_table=tables.prognostic_table(package, by["prognostic_factors"]),
        problems=problems,
        notes=[{"topic": n.topic, "text": n.note, "source": n.source} for n in by["extraction_notes"]],
        provenance_table=_provenance(package, study),
        risk_of_bias=appraisal.study_risk_of_bias(package, study),
        json_href=f"../../api/studies/{sid}.json",
        csv_href=f"../../downloads/studies/{sid}.zip",
        **_charts(package, study, by),
    )
    return Page(path=f"studies/{sid}.md", template="study.md.j2", context=context)


def study_rows(package: EvidencePackage, study_id: str) -> dict[str, list[dict]]:
    """Every row of every table that belongs to one study (for its JSON and CSV downloads)."""
    out: dict[str, list[dict]] = {}
    for table in package.tables:
        rows = package.by_study(table).get(study_id, []) if table not in GLOBAL_TABLES else []
        if rows:
            names = [(f.name, f.name.rstrip("_")) for f in fields(rows[0])]
            out[table] = [_jsonable(r, names) for r in rows]
    return out


def _jsonable(row: object, names: list[tuple[str, str]]) -> dict:
    # Rows hold scalars only, so a shallow read is what dataclasses.asdict's deep copy gave, at a tenth of
    # the cost (asdict was a third of the page stage at 1,000 studies).
    out = {}
    for name, key in names:
        v = getattr(row, name)
        out[key] = v.isoformat() if hasattr(v, "isoformat") else v
    return out
