"""The judgements on the pages: risk of bias (study pages, comparison pages, forest-plot columns) and the
certainty of the evidence per comparison and analysis (summary of findings, sections, the JSON API).

`certainty_lines(package, comparison, syn)` is the one-stop function for a headline: per analysis (and per
outcome reported only descriptively), in summary-of-findings order, the rating, its symbols and words, its
status (proposed, confirmed, overridden), the reasons and the GRADE-worded sentence.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup

from livingevidence.analysis.appraisal.certainty import Assessment, assess
from livingevidence.analysis.appraisal.evidence import descriptive_evidence, evidence_of, lower_risk_sensitivity
from livingevidence.analysis.appraisal.risk_of_bias import StudyAssessment, assessment_of, expected_tool
from livingevidence.analysis.appraisal.small_studies import MIN_STUDIES
from livingevidence.analysis.appraisal.tools import OVERALL, style
from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.charts import funnel
from livingevidence.charts import risk_of_bias as traffic_light
from livingevidence.charts import risk_of_bias_summary as rob_summary
from livingevidence.model import Comparison, EvidencePackage, Study
from livingevidence.pages.common import Table, link, page_href
from livingevidence.pages.findings import descriptive_items, main_analyses, summary_term_analyses
from livingevidence.pages.render import NOT_REPORTED

__all__ = [
    "appraisal_json",
    "certainty_lines",
    "comparison_certainty",
    "comparison_risk_of_bias",
    "forest_rob",
    "funnel_block",
    "judgement_badge",
    "section_appraisal",
    "study_risk_of_bias",
]

# Severity for "the most severe judgement across outcomes" (no information between moderate and serious).
_RANK = {"low": 0, "moderate": 1, "some-concerns": 1, "no-information": 1.5, None: 1.6}
_RANK |= {"serious": 2, "high": 2, "critical": 3}


def judgement_badge(judgement: str | None) -> Markup:
    """A judgement for a table cell: its symbol in a coloured circle (decorative) and its words."""
    s = style(judgement)
    return Markup('<span class="le-rob le-rob--{}" aria-hidden="true">{}</span> {}').format(s.value, s.symbol, s.label)


def arms_words(package: EvidencePackage, comparison_id: str) -> tuple[str, str]:
    """The intervention and control of a comparison in words; with several regimen pairs the comparison's
    title names the intervention and the control is left out ('adding drug Y to drug X-based therapy')."""
    pairs = [p for p in package.rows("comparison_pairs") if p.comparison_id == comparison_id]
    labels = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].label for p in pairs))
    controls = list(dict.fromkeys(package.regimens[p.control_regimen_id].label for p in pairs))
    if len(labels) == 1 and len(controls) == 1:
        return labels[0], controls[0]
    return package.comparisons[comparison_id].title, ""


# --- certainty -------------------------------------------------------------------------------------------------


def comparison_certainty(
    package: EvidencePackage, comparison_id: str, syn: ComparisonSynthesis
) -> dict[str, Assessment]:
    """Analysis key -> its certainty assessment, for every row of the comparison's summary of findings."""
    key = ("appraisal-certainty", comparison_id)
    if key not in package.memo:
        intervention, control = arms_words(package, comparison_id)
        out: dict[str, Assessment] = {}
        for a in main_analyses(package, syn) + summary_term_analyses(package, syn):
            out[a.key] = assess(package, evidence_of(package, comparison_id, a), intervention, control)
        for d in descriptive_items(package, syn):
            e = descriptive_evidence(package, comparison_id, d.outcome_id, d.contrasts)
            out[d.key] = assess(package, e, intervention, control)
        package.memo[key] = out
    return package.memo[key]


def certainty_lines(package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis) -> list[dict[str, Any]]:
    """One plain dict per summary-of-findings row: what a one-line headline needs."""
    titles = {a.key: a.title for a in main_analyses(package, syn) + summary_term_analyses(package, syn)}
    titles |= {d.key: d.title for d in descriptive_items(package, syn)}
    return [
        {
            "key": k,
            "outcome": c.evidence.outcome_id,
            "title": titles.get(k, k),
            "rating": c.rating,
            "symbols": c.symbols,
            "label": c.label,
            "text": c.text,
            "status": c.status,
            "reasons": c.reasons,
            "statement": c.statement,
        }
        for k, c in comparison_certainty(package, comparison.comparison_id, syn).items()
    ]


def certainty_reasons_table(assessment: Assessment) -> Table:
    """Every domain of one rating, rated down or not, with its reason."""
    rows: list[list[Any]] = [["Start", "high", assessment.start_reason]]
    for d in assessment.domains:
        levels = "not assessable" if not d.assessable else (f"−{d.downgrade}" if d.downgrade else "0")
        rows.append([d.name, levels, d.reason])
    return Table(["Domain", "Levels down", "Why"], rows, caption="How the rating was reached")


def funnel_block(a: OutcomeAnalysis, data_href: str) -> dict[str, Any] | None:
    """The funnel plot of an analysis with at least 10 study populations (beside Egger's test), else None."""
    if a.k < MIN_STUDIES or a.pool is None or a.pool.random is None:
        return None
    rows = [{"label": r.label, "yi": r.yi, "se": math.sqrt(r.vi)} for r in a.rows if r.yi is not None and r.vi]
    spec = funnel.spec(
        rows, title=f"Funnel plot: {a.title}", pooled=a.pool.random.estimate, ratio=a.log_scale, measure=a.measure
    )
    table = Table(
        ["Study population", f"{a.measure} (analysis scale)", "Standard error"],
        [[r["label"], f"{r['yi']:.3g}", f"{r['se']:.3g}"] for r in rows],
    )
    return {"spec": spec, "description": funnel.describe(rows), "data_href": data_href, "table": table}


def section_appraisal(
    package: EvidencePackage, comparison_id: str, syn: ComparisonSynthesis, a: OutcomeAnalysis
) -> dict:
    """What a comparison page's outcome section shows beside its forest plot: certainty and the restricted
    sensitivity analysis."""
    cert = comparison_certainty(package, comparison_id, syn).get(a.key)
    return {
        "certainty": cert,
        "reasons": certainty_reasons_table(cert) if cert else None,
        "lower_risk": lower_risk_sensitivity(package, a).text if a.k else "",
        "funnel": funnel_block(a, f"../../api/comparisons/{comparison_id}.json"),
    }


# --- risk of bias: study pages ---------------------------------------------------------------------------------


def _outcome_names(package: EvidencePackage, outcomes: tuple[str, ...]) -> str:
    voc = package.vocabulary
    return ", ".join((voc.outcome(o).short_label if voc.outcome(o) else o) for o in outcomes)


def _row_label(package: EvidencePackage, a: StudyAssessment, outcomes: tuple[str, ...]) -> str:
    if outcomes:
        return _outcome_names(package, outcomes)
    return "Other outcomes" if a.outcomes() else "All outcomes"


def traffic_light_rows(package: EvidencePackage, a: StudyAssessment) -> list[dict[str, Any]]:
    """The traffic-light plot's cells: a row per group of outcomes, the tool's domains, then Overall."""
    rows = []
    for p in a.profiles():
        label = _row_label(package, a, p.outcomes)
        for d in a.tool.domains:
            row = p.domains.get(d.id)
            rows.append(
                {"row": label, "column": d.short, "domain": d.name, "judgement": row.judgement if row else None}
            )
        rows.append({"row": label, "column": "Overall", "domain": "Overall judgement", "judgement": p.overall})
    return rows


def study_risk_of_bias(package: EvidencePackage, study: Study) -> dict[str, Any]:
    """The study page's risk-of-bias section: who assessed it and when, the traffic light and every judgement
    with its support and location."""
    a = assessment_of(package, study.study_id)
    if a is None:
        return {"assessed": False, "tool": expected_tool(package, study.study_id).name}
    data_href = f"../../api/studies/{study.study_id}.json"
    cells = traffic_light_rows(package, a)
    spec = traffic_light.spec(cells, title=f"Risk of bias in {study.label} ({a.tool.name})")
    columns = [d.short for d in a.tool.domains] + ["Overall"]
    by_row: dict[str, dict[str, str | None]] = {}
    for c in cells:
        by_row.setdefault(c["row"], {})[c["column"]] = c["judgement"]
    chart_table = Table(
        ["Outcomes", *columns],
        [[row, *(style(j.get(col)).label for col in columns)] for row, j in by_row.items()],
    )
    order = {d.id: i for i, d in enumerate(a.tool.domains)} | {OVERALL: len(a.tool.domains)}
    judgements = sorted(a.rows, key=lambda r: (order.get(r.domain, 99), r.outcome is not None))
    table = Table(
        ["Domain", "Outcomes", "Judgement", "Support", "Location in the paper"],
        [
            [
                _domain_name(a, r.domain),
                _outcome_names(package, (r.outcome,)) if r.outcome else "all",
                judgement_badge(r.judgement),
                r.support or NOT_REPORTED,
                r.location or NOT_REPORTED,
            ]
            for r in judgements
        ],
        caption=f"{a.tool.name} judgements, domain by domain",
    )
    notes = [
        f"{_row_label(package, a, p.outcomes)}: the assessor's overall judgement ({style(p.overall).label.lower()}) "
        f"differs from the one the {a.tool.name} rule gives ({style(p.computed).label.lower()})."
        for p in a.profiles()
        if p.overall_row is not None and p.computed is not None and p.computed != p.overall
    ]
    overall = sorted({p.overall for p in a.profiles()}, key=lambda j: _RANK.get(j, 1.6))
    return {
        "assessed": True,
        "tool": a.tool.name,
        "version": a.version,
        "reference": a.reference,
        "assessed_by": a.assessed_by,
        "assessed_on": a.assessed_on.isoformat(),
        "overall": " or ".join(style(j).label.lower() for j in overall),
        "chart": {
            "spec": spec,
            "description": traffic_light.describe(cells),
            "data_href": data_href,
            "table": chart_table,
        },
        "table": table,
        "notes": notes,
        "legend": [f"{d.short}: {d.name}" for d in a.tool.domains],
    }


def _domain_name(a: StudyAssessment, domain_id: str) -> str:
    if domain_id == OVERALL:
        return "Overall"
    d = a.tool.domain(domain_id)
    return f"{d.short} {d.name}" if d else domain_id


# --- risk of bias: comparison pages ----------------------------------------------------------------------------


def forest_rob(package: EvidencePackage, a: OutcomeAnalysis) -> list[list[dict[str, Any]]]:
    """Per study row of a forest plot, its judgements for the analysis' outcome: the tool's domains (when every
    row has the same tool) and Overall."""
    assessed = [assessment_of(package, r.study_id) for r in a.rows]
    tools = {x.tool.id for x in assessed if x is not None}
    out = []
    for x in assessed:
        cells = []
        if x is not None and len(tools) == 1:
            judged = x.domains_for(a.outcome)
            cells = [
                {"column": d.short, "domain": d.name, "judgement": judged[d.id].judgement if judged[d.id] else None}
                for d in x.tool.domains
            ]
        elif len(tools) == 1:
            tool = next(y.tool for y in assessed if y is not None)
            cells = [{"column": d.short, "domain": d.name, "judgement": None} for d in tool.domains]
        overall = x.overall(a.outcome) if x is not None else None
        out.append([*cells, {"column": "Overall", "domain": "Overall judgement", "judgement": overall}])
    return out if any(x is not None for x in assessed) else [[] for _ in a.rows]


def _study_profile(package: EvidencePackage, syn: ComparisonSynthesis, sid: str, a: StudyAssessment) -> dict:
    """domain id -> the most severe judgement over the outcomes this study contributes to in the comparison."""
    outcomes = {x.outcome for x in syn.analyses if any(r.study_id == sid for r in x.rows)} or {None}
    out: dict[str, str | None] = {}
    for d in [*a.tool.domain_ids, OVERALL]:
        found = []
        for o in outcomes:
            if d == OVERALL:
                found.append(a.overall(o))
            else:
                row = a.domains_for(o)[d]
                found.append(row.judgement if row else None)
        out[d] = max(found, key=lambda j: _RANK.get(j, 1.6))
    return out


def comparison_risk_of_bias(package: EvidencePackage, syn: ComparisonSynthesis, comparison_id: str) -> dict | None:
    """The summary plot of the contributing studies' risk of bias, and a table of each study's judgements."""
    studies = list(dict.fromkeys(c.study.study_id for c in syn.contributing))
    if not studies:
        return None
    here = f"comparisons/{comparison_id}.md"
    counts: dict[tuple[str, str], dict[str | None, int]] = {}
    table_rows = []
    for sid in studies:
        a = assessment_of(package, sid)
        study = package.studies[sid]
        if a is None:
            tool = expected_tool(package, sid)
            bars = [f"{d.short} {d.name}" for d in tool.domains] + ["Overall"]
            for bar in bars:
                counts.setdefault((tool.name, bar), {}).setdefault(None, 0)
                counts[(tool.name, bar)][None] += 1
            table_rows.append(
                [link(page_href(here, f"studies/{sid}.md"), study.label), tool.name, judgement_badge(None)]
            )
            continue
        profile = _study_profile(package, syn, sid, a)
        for d in a.tool.domains:
            counts.setdefault((a.tool.name, f"{d.short} {d.name}"), {}).setdefault(profile[d.id], 0)
            counts[(a.tool.name, f"{d.short} {d.name}")][profile[d.id]] += 1
        counts.setdefault((a.tool.name, "Overall"), {}).setdefault(profile[OVERALL], 0)
        counts[(a.tool.name, "Overall")][profile[OVERALL]] += 1
        table_rows.append(
            [link(page_href(here, f"studies/{sid}.md"), study.label), a.tool.name, judgement_badge(profile[OVERALL])]
        )
    rows = [
        {"group": group, "bar": bar, "judgement": j, "count": n}
        for (group, bar), by in counts.items()
        for j, n in by.items()
    ]
    spec = rob_summary.spec(rows, title=f"Risk of bias of the {len(studies)} contributing studies")
    chart_table = Table(
        ["Domain", "Studies by judgement"],
        [
            [f"{group}: {bar}", "; ".join(f"{style(j).label}: {n}" for j, n in by.items())]
            for (group, bar), by in counts.items()
        ],
    )
    return {
        "chart": {
            "spec": spec,
            "description": rob_summary.describe(rows),
            "data_href": f"../../api/comparisons/{comparison_id}.json",
            "table": chart_table,
        },
        "table": Table(["Study", "Tool", "Overall risk of bias"], table_rows, caption="Risk of bias per study"),
    }


def appraisal_json(package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis) -> dict[str, Any]:
    """The judgements of a comparison for its JSON: certainty per analysis, the restricted sensitivity
    analyses and each contributing study's risk-of-bias judgements."""
    cid = comparison.comparison_id
    studies = list(dict.fromkeys(c.study.study_id for c in syn.contributing))
    rob = {}
    for sid in studies:
        a = assessment_of(package, sid)
        rob[sid] = (
            {"assessed": False, "tool": expected_tool(package, sid).id}
            if a is None
            else {
                "assessed": True,
                "tool": a.tool.id,
                "tool_version": a.version,
                "overall": {o or "all": a.overall(o) for o in [None, *a.outcomes()]},
            }
        )
    return {
        "certainty": [c.to_dict() for c in comparison_certainty(package, cid, syn).values()],
        "lower_risk_of_bias": {a.key: lower_risk_sensitivity(package, a).to_dict() for a in syn.analyses if a.k},
        "risk_of_bias": rob,
    }
