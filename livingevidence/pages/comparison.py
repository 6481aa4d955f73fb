"""Context of a comparison page: contributing studies, exclusions, summary of findings, forest plots."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.model import Comparison, EvidencePackage
from livingevidence.pages import appraisal, chartblocks
from livingevidence.pages.common import Page, Table, link, page_href
from livingevidence.pages.findings import SOF_HEADERS, effect_text, footnote_mark, main_analyses, result_of, sof_rows
from livingevidence.pages.forest_block import forest_block, heterogeneity_text
from livingevidence.pages.headline import answers
from livingevidence.pages.subgroups import subgroup_block
from livingevidence.vocabulary import MEASURE_NAMES, NO_CRITERION


def _other_measures(syn: ComparisonSynthesis, a: OutcomeAnalysis) -> str:
    """The same outcome and definition in the other measures (OR and RD beside an RR)."""
    others = [
        o
        for o in syn.analyses
        if o.outcome == a.outcome and o.phrase == a.phrase and o.source == a.source and o.measure != a.measure
    ]
    return "; ".join(f"{MEASURE_NAMES[o.measure]}: {effect_text(o.measure, *result_of(o)[:3])}" for o in others)


def _section(
    package: EvidencePackage, syn: ComparisonSynthesis, a: OutcomeAnalysis, data_href: str, favours: tuple[str, str]
) -> dict:
    """One outcome's forest plot with its risk-of-bias columns, certainty, heterogeneity, notes, subgroups and
    sensitivity analyses."""
    sub = subgroup_block(package, a, *favours)
    if sub is not None:
        sub["data_href"] = data_href
    return {
        "analysis": a,
        "forest": forest_block(a, data_href, *favours, rob=appraisal.forest_rob(package, a)),
        "appraisal": appraisal.section_appraisal(package, syn.comparison_id, syn, a),
        "subgroups": sub,
        "heterogeneity": heterogeneity_text(a),
        "other_measures": _other_measures(syn, a),
        "notes": a.notes + [f"{r.label}: {r.note}" for r in a.rows + a.excluded if r.note],
        "loo": Table(
            ["Omitted", "Estimate (95% CI)"],
            [[x["omitted"], effect_text(a.measure, x["estimate"], x["ci_low"], x["ci_high"])] for x in a.leave_one_out],
        ),
        "cumulative": Table(
            ["Added (by publication date)", "Studies", "Estimate (95% CI)"],
            [
                [x["added"], str(x["k"]), effect_text(a.measure, x["estimate"], x["ci_low"], x["ci_high"])]
                for x in a.cumulative
            ],
        ),
    }


def _term_tables(package: EvidencePackage, syn: ComparisonSynthesis) -> list[Table]:
    """One table per per-term outcome (adverse events): every term and grade band, analysed or not."""
    tables = []
    for outcome in package.vocabulary.outcomes.values():
        mine = [a for a in syn.analyses if a.outcome == outcome.outcome_id and a.source == "per-term"]
        if not mine:
            continue
        name = MEASURE_NAMES[outcome.default_measure]
        rows = []
        for a in mine:
            est, lo, hi, how = result_of(a)
            rows.append(
                [
                    a.title.removesuffix(f": {name}"),
                    str(a.k),
                    effect_text(a.measure, est, lo, hi),
                    how,
                    "; ".join(f"{r.label}: {r.events}" for r in a.rows + a.excluded),
                ]
            )
        tables.append(
            Table(
                ["Term", "Study populations", name.capitalize(), "Basis", "Events (intervention vs control)"],
                rows,
                caption=outcome.label,
                sortable=True,
            )
        )
    return tables


def _ratio_table(package: EvidencePackage, syn: ComparisonSynthesis) -> Table:
    """Intervention and control medians side by side, and their ratio (descriptive, never pooled)."""
    voc = package.vocabulary
    by_pop: dict[tuple[str, str], dict[str, float]] = {}
    for c in syn.contributing:
        for s in syn.medians:
            if s.population_id == c.population.population_id and s.median_months is not None:
                side = "i" if s.arm_id == c.intervention.arm_id else ("c" if s.arm_id == c.control.arm_id else None)
                if side:
                    by_pop.setdefault((c.label, s.outcome), {})[side] = s.median_months
    rows = []
    for (label, outcome), v in sorted(by_pop.items()):
        if "i" in v and "c" in v:
            short = voc.outcome(outcome).short_label if voc.outcome(outcome) else outcome
            rows.append([label, short, f"{v['i']:g}", f"{v['c']:g}", f"{v['i'] / v['c']:.2f}"])
    return Table(
        ["Study population", "Outcome", "Intervention median", "Control median", "Ratio of medians (descriptive)"],
        rows,
        caption="Ratio of medians",
    )


def _definitions(package: EvidencePackage) -> list[str]:
    """The topic's named outcome definitions that pool only among themselves (labels.csv, criterion fields)."""
    voc = package.vocabulary
    groups = (voc.pool_as(lb.table, lb.field, lb.value) for lb in package.rows("labels") if lb.field == "criterion")
    return [g for g in dict.fromkeys(groups) if g != NO_CRITERION]


def _arms_text(package: EvidencePackage, pairs: list) -> tuple[str, str, tuple[str, str]]:
    """The intervention and control in words, and the short names the forest plots' sides favour."""
    labels = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].label for p in pairs))
    intervention = labels[0] if len(labels) == 1 else "The intervention"
    control = " or ".join(dict.fromkeys(package.regimens[p.control_regimen_id].label for p in pairs))
    shorts_i = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].short_label for p in pairs))
    shorts_c = list(dict.fromkeys(package.regimens[p.control_regimen_id].short_label for p in pairs))
    favours = (
        shorts_i[0] if len(shorts_i) == 1 else "intervention",
        shorts_c[0] if len(shorts_c) == 1 else "control",
    )
    return intervention, control, favours


def _study_tables(syn: ComparisonSynthesis, cid: str) -> tuple[Table, Table]:
    here = f"comparisons/{cid}.md"
    contributing = Table(
        ["Study", "Population", "Intervention arm (n)", "Control arm (n)"],
        [
            [
                link(page_href(here, f"studies/{c.study.study_id}.md"), c.study.label),
                c.population.label,
                f"{c.intervention.label} ({c.n_intervention})",
                f"{c.control.label} ({c.n_control})",
            ]
            for c in syn.contributing
        ],
        caption="Study populations that contribute",
    )
    excluded = Table(
        ["Study", "Population", "Why it is not pooled"],
        [
            [
                link(page_href(here, f"studies/{x.study.study_id}.md"), x.study.label),
                x.population.label if x.population else "all",
                x.reason,
            ]
            for x in syn.exclusions
        ],
        caption="Not pooled, and why",
    )
    return contributing, excluded


def comparison_page(
    package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis, history: list[Any] | None = None
) -> Page:
    """Build one comparison page; `history` holds one line per data release that changed it (newest first)."""
    cid = comparison.comparison_id
    data_href = f"../../api/comparisons/{cid}.json"
    certainty = appraisal.comparison_certainty(package, cid, syn)
    pairs = [p for p in package.rows("comparison_pairs") if p.comparison_id == cid]
    intervention, control, favours = _arms_text(package, pairs)
    contributing, excluded = _study_tables(syn, cid)
    footnotes: list[str] = []
    sof = Table(SOF_HEADERS, sof_rows(package, syn, certainty, intervention, footnotes), caption="Summary of findings")
    sections = [_section(package, syn, a, data_href, favours) for a in main_analyses(package, syn)]
    bottom_line = answers(package, comparison, syn, intervention)
    medians_chart = chartblocks.medians_block(
        package, syn.medians, f"Medians: {comparison.title}", data_href, with_study=True
    )
    children = [c for c in package.comparisons.values() if c.parent_comparison_id == cid]
    parent = package.comparisons.get(comparison.parent_comparison_id) if comparison.parent_comparison_id else None
    context = dict(
        comparison=comparison,
        intervention=intervention,
        control=control,
        description=f"{comparison.title}: {comparison.question}",
        contributing=contributing,
        excluded=excluded,
        sof=sof,
        answers=bottom_line,
        sof_notes=[{"mark": footnote_mark(i), "text": text} for i, text in enumerate(footnotes)],
        risk_of_bias=appraisal.comparison_risk_of_bias(package, syn, cid),
        sections=sections,
        term_tables=_term_tables(package, syn),
        definitions=_definitions(package),
        medians_chart=medians_chart,
        ratio_table=_ratio_table(package, syn),
        json_href=data_href,
        parent=parent,
        children=children,
        version=package.info.version,
        history=history or [],
    )
    return Page(f"comparisons/{cid}.md", "comparison.md.j2", context)


def comparisons_index(package: EvidencePackage, syntheses: dict[str, ComparisonSynthesis]) -> Page:
    """Table of comparisons."""
    rows = []
    for cid, c in package.comparisons.items():
        syn = syntheses[cid]
        studies = sorted({x.study.label for x in syn.contributing})
        rows.append(
            [
                link(page_href("comparisons/index.md", f"comparisons/{cid}.md"), c.title),
                c.question,
                ", ".join(studies) or "none yet",
                str(sum(x.n_intervention + x.n_control for x in syn.contributing)),
            ]
        )
    return Page(
        "comparisons/index.md",
        "comparisons_index.md.j2",
        dict(
            description="The comparisons this living evidence summary answers.",
            table=Table(["Comparison", "Question", "Studies", "Patients"], rows, sortable=True),
        ),
    )


def comparison_json(package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis) -> dict[str, Any]:
    """site/api/comparisons/<id>.json: everything the page shows, and more decimals."""
    return {
        "id": comparison.comparison_id,
        "title": comparison.title,
        "question": comparison.question,
        "version": package.info.version,
        "contributing": [
            {
                "study": c.study.study_id,
                "population": c.population.population_id,
                "intervention_arm": c.intervention.arm_id,
                "control_arm": c.control.arm_id,
                "n_intervention": c.n_intervention,
                "n_control": c.n_control,
            }
            for c in syn.contributing
        ],
        "excluded": [
            {
                "study": x.study.study_id,
                "population": x.population.population_id if x.population else None,
                "reason": x.reason,
            }
            for x in syn.exclusions
        ],
        "analyses": [a.to_dict() for a in syn.analyses],
        "medians": chartblocks.median_rows(package, syn.medians, with_study=True),
        "appraisal": appraisal.appraisal_json(package, comparison, syn),
    }
