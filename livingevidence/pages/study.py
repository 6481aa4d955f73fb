"""Context of one study page: citation, design, arms, every extracted number with its source, charts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import fields

from livingevidence.model import EvidencePackage, Study
from livingevidence.pages import chartblocks
from livingevidence.pages.common import Page, ProblemView, Table, median_ci, n_pct
from livingevidence.pages.render import NOT_REPORTED, ci, doi_url, fmt_num

# Tables that belong to the package as a whole rather than to one study.
GLOBAL_TABLES = {"interventions", "regimens", "regimen_components", "comparisons", "comparison_pairs", "certainty"}
DESIGN_LABELS = {
    "rct": "Randomised controlled trial",
    "prospective-cohort": "Prospective cohort study",
    "retrospective-cohort": "Retrospective cohort study",
    "prospective-single-arm": "Prospective single-arm study",
    "retrospective-single-arm": "Retrospective single-arm study",
}
MATCHING_LABELS = {
    "none": "None",
    "psm": "Propensity score matching",
    "iptw": "IPTW",
    "not-applicable": "Not applicable",
}
SOURCE_KIND = {
    "full-text": "Full text",
    "full-text-without-tables": "Full text, tables missing from the source copy",
    "abstract-only": "Abstract only",
}


def or_nr(value: object) -> str:
    """The value, or 'not reported' when empty."""
    return NOT_REPORTED if value in (None, "") else str(value)


def citation_line(study: Study) -> str:
    """Journal, year and pages as printed, 'not reported' for what is missing."""
    parts = [study.journal or "Journal not reported", str(study.year) if study.year else "year not reported"]
    if study.pages:
        parts.append(f"pp. {study.pages}")
    return ". ".join(parts) + "."


def _arm_label(package: EvidencePackage, arm_id: str | None) -> str:
    return package.arms[arm_id].label if arm_id else "All arms"


def _pop_label(package: EvidencePackage, population_id: str | None) -> str:
    return package.populations[population_id].label if population_id else "Not stated"


def study_page(package: EvidencePackage, study: Study, problems: list[ProblemView]) -> Page:
    """Build the page for one study."""
    sid = study.study_id
    arms = package.arms_of(sid)
    pops = package.populations_of(sid)
    by = {t: package.by_study(t).get(sid, []) for t in package.tables if t not in GLOBAL_TABLES}
    pl = lambda pid: _pop_label(package, pid)  # noqa: E731
    al = lambda aid: _arm_label(package, aid)  # noqa: E731

    design_rows = [
        ["Design", DESIGN_LABELS[study.design]],
        ["Centres", or_nr(study.centres)],
        ["Country", or_nr(study.country)],
        ["Enrolment", f"{or_nr(study.enrolment_start)} to {or_nr(study.enrolment_end)}"],
        ["Last follow-up", or_nr(study.follow_up_end)],
        ["Median follow-up (months)", or_nr(study.follow_up_median_months)],
        ["Line of therapy", study.line_of_therapy.replace("-", " ")],
        ["Setting", study.setting],
        ["Matching", MATCHING_LABELS[study.matching]],
        ["Response criteria", or_nr(study.response_criteria)],
        ["Adverse-event grading", or_nr(study.ae_grading)],
        ["Risk of bias (ROBINS-I)", study.risk_of_bias.replace("-", " ")],
    ]
    arms_table = Table(
        ["Arm (paper's label)", "Regimen", "Description", "Source"],
        [[a.label, package.regimens[a.regimen_id].label, or_nr(a.description), a.source] for a in arms],
        caption="Arms",
    )
    pop_rows = []
    for p in pops:
        sizes = ", ".join(
            f"{a.label} {package.arm_n[(p.population_id, a.arm_id)]}"
            for a in arms
            if (p.population_id, a.arm_id) in package.arm_n
        )
        role = (
            "primary"
            if p.primary
            else ("disjoint set: " + p.disjoint_set.replace("-", " ") if p.disjoint_set else "secondary")
        )
        pop_rows.append([p.label, p.kind, role, sizes or NOT_REPORTED, or_nr(p.description), p.source])
    populations_table = Table(
        ["Population", "Kind", "Role in pooling", "Patients per arm", "Definition", "Source"],
        pop_rows,
        caption="Analysis populations",
    )

    # Baseline: one table per population, a column per arm (plus whole-population figures).
    baseline_tables = []
    base_by_pop: dict[str, list] = defaultdict(list)
    for b in by["baseline"]:
        base_by_pop[b.population_id].append(b)
    for pid, rows in base_by_pop.items():
        cols = [a for a in arms if any(b.arm_id == a.arm_id for b in rows)]
        has_all = any(b.arm_id is None for b in rows)
        keyed: dict[tuple[str, str], dict] = {}
        for b in rows:
            cell = keyed.setdefault((b.characteristic, b.category), {"p": None, "source": b.source})
            cell[b.arm_id] = _baseline_value(b)
            cell["p"] = cell["p"] or b.p_value
        headers = ["Characteristic", *[f"{a.label} (n={package.arm_n.get((pid, a.arm_id), '?')})" for a in cols]]
        if has_all:
            headers.append("All patients")
        headers += ["p", "Source"]
        trs = []
        for (char, cat), cell in keyed.items():
            name = characteristic_label(char) + ("" if cat == "all" else f": {cat}")
            tr = [name, *[cell.get(a.arm_id, "") for a in cols]]
            if has_all:
                tr.append(cell.get(None, ""))
            tr += [cell["p"] or "", cell["source"]]
            trs.append(tr)
        baseline_tables.append(Table(headers, trs, caption=f"Baseline characteristics: {pl(pid)}"))

    survival_rows = by["survival"]
    survival_table = (
        Table(
            ["Population", "Arm", "Outcome", "Median, months (95% CI)", "Interval as printed", "Source", "Note"],
            [
                [
                    pl(s.population_id),
                    al(s.arm_id),
                    s.outcome,
                    median_ci(s.median_months, s.ci_low, s.ci_high),
                    s.ci_kind or "",
                    s.source,
                    s.note or "",
                ]
                for s in survival_rows
            ],
            caption="Median time-to-event per arm",
        )
        if survival_rows
        else None
    )
    survival_chart = (
        chartblocks.medians_block(
            package, survival_rows, f"Median survival in {study.label}", f"../../api/studies/{sid}.json"
        )
        if survival_rows
        else None
    )

    landmarks_table = (
        Table(
            ["Population", "Arm", "Outcome", "Time (months)", "Rate % (95% CI)", "Source"],
            [
                [
                    pl(x.population_id),
                    al(x.arm_id),
                    x.outcome,
                    fmt_num(x.time_months),
                    f"{fmt_num(x.rate_percent)} ({ci(x.ci_low, x.ci_high)})",
                    x.source,
                ]
                for x in by["landmarks"]
            ],
            caption="Landmark rates",
        )
        if by["landmarks"]
        else None
    )

    effects_table = (
        Table(
            [
                "Population",
                "Outcome",
                "Comparison",
                "Measure",
                "Analysis",
                "Estimate (95% CI)",
                "p",
                "Model",
                "Source",
                "Note",
            ],
            [
                [
                    pl(e.population_id),
                    e.outcome + ("" if e.criterion == "none" else f" ({e.criterion})"),
                    f"{al(e.intervention_arm_id)} vs {al(e.control_arm_id)}",
                    e.measure,
                    e.analysis,
                    "" if e.estimate is None else f"{fmt_num(e.estimate)} ({ci(e.ci_low, e.ci_high)})",
                    e.p_value or NOT_REPORTED,
                    e.model or "",
                    e.source,
                    e.note or "",
                ]
                for e in by["effects"]
            ],
            caption="Between-arm contrasts as printed",
        )
        if by["effects"]
        else None
    )

    resp = by["response"]
    response_table = (
        Table(
            [
                "Population",
                "Arm",
                "Criterion",
                "n evaluable",
                "CR",
                "PR",
                "SD",
                "PD",
                "ORR as printed",
                "DCR as printed",
                "Source",
            ],
            [
                [
                    pl(r.population_id),
                    al(r.arm_id),
                    r.criterion,
                    r.n_evaluable,
                    fmt_num(r.cr),
                    fmt_num(r.pr),
                    fmt_num(r.sd),
                    fmt_num(r.pd),
                    n_pct(r.orr_n, r.orr_percent),
                    n_pct(r.dcr_n, r.dcr_percent),
                    r.source,
                ]
                for r in resp
            ],
            caption="Best overall response",
        )
        if resp
        else None
    )
    response_charts = chartblocks.response_blocks(package, resp, study.label, f"../../api/studies/{sid}.json")

    binary_table = (
        Table(
            ["Population", "Arm", "Outcome", "Events (percent)", "n", "p", "Source", "Note"],
            [
                [
                    pl(b.population_id),
                    al(b.arm_id),
                    b.outcome.replace("-", " "),
                    n_pct(b.events, b.percent),
                    fmt_num(b.n) if b.n else NOT_REPORTED,
                    b.p_value or "",
                    b.source,
                    b.note or "",
                ]
                for b in by["binary_outcomes"]
            ],
            caption="Other binary outcomes",
        )
        if by["binary_outcomes"]
        else None
    )

    aes = by["adverse_events"]
    ae_table = (
        Table(
            ["Term", "Population", "Arm", "Category", "Grade", "Patients (percent)", "At risk", "p", "Source"],
            [
                [
                    a.term,
                    pl(a.population_id),
                    al(a.arm_id),
                    a.category.replace("-", " "),
                    a.grade,
                    n_pct(a.events, a.percent),
                    a.n_at_risk,
                    a.p_value or "",
                    a.source,
                ]
                for a in aes
            ],
            caption="Adverse events",
        )
        if aes
        else None
    )
    ae_chart = (
        chartblocks.adverse_events_block(
            package, aes, f"Adverse events in {study.label}", f"../../api/studies/{sid}.json"
        )
        if aes
        else None
    )

    subgroup_table = (
        Table(
            ["Variable", "Level", "Population", "Arm", "Outcome", "Median, months (95% CI)", "p", "Source"],
            [
                [
                    g.variable,
                    g.level,
                    pl(g.population_id),
                    al(g.arm_id),
                    g.outcome,
                    median_ci(g.median_months, g.ci_low, g.ci_high),
                    g.p_value or "",
                    g.source,
                ]
                for g in by["subgroups"]
            ],
            caption="Medians within subgroups",
        )
        if by["subgroups"]
        else None
    )

    prognostic_table = (
        Table(
            ["Factor", "Level (vs reference)", "Population", "Outcome", "Analysis", "HR (95% CI)", "p", "Source"],
            [
                [
                    f.factor,
                    f.level + (f" vs {f.reference_level}" if f.reference_level else ""),
                    pl(f.population_id),
                    f.outcome,
                    f.analysis,
                    f"{fmt_num(f.hr)} ({ci(f.ci_low, f.ci_high)})",
                    f.p_value or "",
                    f.source,
                ]
                for f in by["prognostic_factors"]
            ],
            caption="Hazard ratios of covariates (prognostic factors)",
        )
        if by["prognostic_factors"]
        else None
    )

    provenance_table = Table(
        ["Item", "Value"],
        [
            ["Extracted from", SOURCE_KIND[study.source_kind]],
            ["Source file", study.source_file],
            ["Extracted by", study.extracted_by],
            ["Checked by", or_nr(study.checked_by) if study.checked_by else "not yet checked"],
            ["Extraction date", study.extraction_date.isoformat()],
            ["Note", or_nr(study.note)],
        ],
        caption="Provenance",
    )
    notes = [{"topic": n.topic, "text": n.note, "source": n.source} for n in by["extraction_notes"]]
    doi_href = doi_url(study.doi)
    authors = "; ".join(study.author_list) if study.authors else "Authors not reported"
    context = dict(
        study=study,
        description=f"{study.label}: {DESIGN_LABELS[study.design]}; every number extracted, with its source location.",
        authors=authors,
        citation_line=citation_line(study),
        doi_href=doi_href,
        design_table=Table(["Item", "Value"], design_rows, caption="Design and setting"),
        arms_table=arms_table,
        populations_table=populations_table,
        baseline_tables=baseline_tables,
        survival_table=survival_table,
        survival_chart=survival_chart,
        landmarks_table=landmarks_table,
        effects_table=effects_table,
        response_table=response_table,
        response_charts=response_charts,
        binary_table=binary_table,
        ae_table=ae_table,
        ae_chart=ae_chart,
        subgroup_table=subgroup_table,
        prognostic_table=prognostic_table,
        problems=problems,
        notes=notes,
        provenance_table=provenance_table,
        json_href=f"../../api/studies/{sid}.json",
        csv_href=f"../../downloads/studies/{sid}.zip",
    )
    return Page(path=f"studies/{sid}.md", template="study.md.j2", context=context)


ACRONYMS = {"bclc", "afp", "albi", "ecog", "pvtt", "haic", "tace", "sbrt", "hbv", "hcv", "psm", "rfa", "mwa", "ps"}
SPELLING = {"child-pugh": "Child-Pugh"}


def characteristic_label(slug: str) -> str:
    """'albi-grade' -> 'ALBI grade', 'child-pugh' -> 'Child-Pugh': readable names for characteristic slugs."""
    if slug in SPELLING:
        return SPELLING[slug]
    words = [w.upper() if w in ACRONYMS else w for w in slug.split("-")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _baseline_value(b) -> str:
    if b.statistic == "mean-sd" and b.spread_low is None:
        return f"{fmt_num(b.value)} (mean; SD not reported)"
    if b.statistic == "mean-sd":
        return f"{fmt_num(b.value)} ± {fmt_num(b.spread_low)} (mean ± SD)"
    if b.statistic in ("median-iqr", "median-range"):
        kind = "IQR" if b.statistic == "median-iqr" else "range"
        return f"{fmt_num(b.value)} ({fmt_num(b.spread_low)} to {fmt_num(b.spread_high)}; median, {kind})"
    return n_pct(b.count, b.percent)


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
