"""Context of a comparison page: contributing studies, exclusions, summary of findings, forest plots."""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.charts import forest
from livingevidence.model import Comparison, EvidencePackage
from livingevidence.pages import chartblocks
from livingevidence.pages.common import Page, Table, link, page_href
from livingevidence.pages.render import NOT_REPORTED

# GRADE plain-language wording by certainty (Santesso et al. 2020 informative statements).
CERTAINTY_VERB = {"high": "", "moderate": "probably ", "low": "may ", "very-low": None}
MAIN_KEYS = (
    "os-hr-unadjusted",
    "os-hr-adjusted",
    "pfs-hr-unadjusted",
    "pfs-hr-adjusted",
    "ttp-hr-unadjusted",
    "ttp-hr-adjusted",
    "orr-mrecist-rr",
    "orr-recist11-rr",
    "dcr-mrecist-rr",
    "dcr-recist11-rr",
)
AE_SOF_KEYS = ("ae-any-adverse-event-any-grade", "ae-any-adverse-event-grade-3-or-higher")


def f3(x: float | None) -> str:
    """Effect sizes to two decimals (three below 0.1 so small risk differences stay readable)."""
    if x is None:
        return NOT_REPORTED
    return f"{x:.3f}" if abs(x) < 0.1 else f"{x:.2f}"


def effect_text(measure: str, est: float | None, lo: float | None, hi: float | None) -> str:
    """'RR 2.24 (95% CI 0.42 to 12.01)'."""
    if est is None:
        return NOT_REPORTED
    if lo is None or hi is None:
        return f"{measure} {f3(est)} (CI not reported)"
    return f"{measure} {f3(est)} (95% CI {f3(lo)} to {f3(hi)})"


def _result(a: OutcomeAnalysis) -> tuple[float | None, float | None, float | None, str]:
    """Pooled result, or the single study's, with a word on which it is."""
    s = a.summary()
    if s:
        return s["estimate"], s["ci_low"], s["ci_high"], f"pooled, {a.k} study populations"
    if a.k == 1:
        r = a.rows[0]
        return r.estimate, r.ci_low, r.ci_high, "one study population, not pooled"
    return None, None, None, "no usable study"


def plain_statement(a: OutcomeAnalysis, comparison: Comparison, certainty: str | None, intervention: str) -> str:
    """A sentence whose wording follows the direction and precision of the effect and its certainty."""
    est, lo, hi, _ = _result(a)
    null = 0.0 if a.measure == "RD" else 1.0
    outcome = a.phrase
    if est is None or lo is None or hi is None:
        return f"No usable estimate for {outcome}."
    if lo > null or hi < null:
        more = (est > null) if a.measure != "HR" else (est < null)
        if a.outcome in ("OS", "PFS", "TTP"):
            word = "longer" if more else "shorter"
        elif a.outcome == "AE":
            word = "more patients with" if est > null else "fewer patients with"
        else:
            word = "more" if est > null else "less"
        direction = f"{intervention} is associated with {word} {outcome}"
    else:
        direction = f"the evidence does not show a clear difference in {outcome}; the interval includes no difference"
    if certainty is None:
        return direction[0].upper() + direction[1:] + ". Certainty of the evidence not assessed."
    verb = CERTAINTY_VERB[certainty]
    if verb is None:
        return f"The evidence is very uncertain: {direction}."
    return (
        f"{intervention} {verb}changes {outcome} as follows: {direction}."
        if verb
        else direction[0].upper() + direction[1:] + "."
    )


def absolute_per_1000(a: OutcomeAnalysis) -> str:
    """Control risk and the corresponding intervention risk per 1000, for risk ratios with a control risk."""
    est, lo, hi, _ = _result(a)
    if a.measure != "RR" or a.control_risk is None or est is None or lo is None or hi is None:
        return "not applicable" if a.measure == "HR" else NOT_REPORTED
    base = 1000 * a.control_risk
    # A risk cannot exceed 1000 per 1000, however wide the ratio's interval.
    diff = lambda rr: round(min(base * rr, 1000.0) - base)  # noqa: E731
    return (
        f"{round(base)} per 1000 with control; {diff(est):+d} per 1000 with intervention "
        f"(95% CI {diff(lo):+d} to {diff(hi):+d})"
    )


def forest_block(
    a: OutcomeAnalysis, data_href: str, intervention_short: str = "intervention", control_short: str = "control"
) -> dict[str, Any]:
    """Forest plot spec, its text version and table."""
    rows = []
    for r in a.rows:
        rows.append(
            {
                "label": r.label,
                "kind": "study",
                "estimate": r.estimate,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
                "weight": None if r.weight is None else round(r.weight, 1),
                "text": effect_text(a.measure, r.estimate, r.ci_low, r.ci_high).split(" ", 1)[1],
            }
        )
    s = a.summary()
    if s:
        rows.append(
            {
                "label": "Random effects (REML, HKSJ)",
                "kind": "pooled",
                "estimate": s["estimate"],
                "ci_low": s["ci_low"],
                "ci_high": s["ci_high"],
                "weight": None,
                "text": effect_text(a.measure, s["estimate"], s["ci_low"], s["ci_high"]).split(" ", 1)[1],
            }
        )
        if s["prediction_low"] is not None:
            rows.append(
                {
                    "label": "95% prediction interval",
                    "kind": "prediction",
                    "estimate": s["estimate"],
                    "ci_low": s["prediction_low"],
                    "ci_high": s["prediction_high"],
                    "weight": None,
                    "text": f"{f3(s['prediction_low'])} to {f3(s['prediction_high'])}",
                }
            )
    spec = forest.spec(
        rows,
        title=a.title,
        measure=a.measure,
        log_scale=a.log_scale,
        lower_is_better=not a.higher_is_better,
        intervention=intervention_short,
        control=control_short,
    )
    sentences = []
    for r in a.rows:
        w = f", weight {r.weight:.0f}%" if r.weight is not None else ""
        ev = f" ({r.events})" if r.events else ""
        sentences.append(f"{r.label}{ev}: {effect_text(a.measure, r.estimate, r.ci_low, r.ci_high)}{w}.")
    if s:
        sentences.append(
            f"Pooled (random effects): {effect_text(a.measure, s['estimate'], s['ci_low'], s['ci_high'])}."
        )
        if s["prediction_low"] is not None:
            sentences.append(f"95% prediction interval {f3(s['prediction_low'])} to {f3(s['prediction_high'])}.")
    table = Table(
        ["Row", "Estimate", "95% CI", "Weight (%)"],
        [
            [
                x["label"],
                f3(x["estimate"]),
                f"{f3(x['ci_low'])} to {f3(x['ci_high'])}",
                "" if x["weight"] is None else f"{x['weight']:.1f}",
            ]
            for x in rows
        ],
    )
    description = forest.describe(rows) if hasattr(forest, "describe") else " ".join(sentences)
    return {"spec": spec, "description": description, "data_href": data_href, "table": table, "sentences": sentences}


def heterogeneity_text(a: OutcomeAnalysis) -> str:
    """Heterogeneity and the common-effect sensitivity line, in words."""
    s = a.summary()
    if not s:
        return "Nothing was pooled, so heterogeneity is not estimated."
    pi = (
        f" 95% prediction interval {f3(s['prediction_low'])} to {f3(s['prediction_high'])}."
        if s["prediction_low"] is not None
        else " No prediction interval with fewer than 3 studies."
    )
    return (
        f"Heterogeneity: tau² = {s['tau2']:.4f} (95% CI {s['tau2_ci'][0]:.4f} to {s['tau2_ci'][1]:.4f}), "
        f"I² = {s['i2']:.1f}% (95% CI {s['i2_ci'][0]:.1f}% to {s['i2_ci'][1]:.1f}%), "
        f"Q = {s['q']:.2f} on {s['q_df']} df, "
        f"p = {s['q_p']:.3f}.{pi} Common-effect (inverse-variance) sensitivity analysis: "
        f"{effect_text(a.measure, s['common_estimate'], s['common_ci_low'], s['common_ci_high'])}."
    )


def descriptive_rows(
    package: EvidencePackage, syn: ComparisonSynthesis, by_key: dict[str, OutcomeAnalysis], certainty: dict[str, str]
) -> list[list[str]]:
    """Summary-of-findings rows for outcomes reported without an effect size (medians with a p-value, or
    proportions printed without counts): shown as reported, never pooled."""
    rows: list[list[str]] = []
    for outcome in ("OS", "PFS", "TTP"):
        if any(a.outcome == outcome and a.k for a in by_key.values()):
            continue
        parts, patients, k = [], 0, 0
        for c in syn.contributing:
            med = {
                s.arm_id: s.median_months
                for s in syn.medians
                if s.population_id == c.population.population_id and s.outcome == outcome
            }
            if c.intervention.arm_id not in med or c.control.arm_id not in med:
                continue
            test = _first_test(package).get((c.population.population_id, outcome))
            p = f", {p_text(test.p_value)}" if test and test.p_value else ""
            parts.append(f"{c.label}: median {_m(med[c.intervention.arm_id])} vs {_m(med[c.control.arm_id])} months{p}")
            patients += c.n_intervention + c.n_control
            k += 1
        if parts:
            rows.append(
                [
                    OUTCOME_LABEL[outcome],
                    f"{k} ({patients} patients)",
                    "no hazard ratio reported; " + "; ".join(parts),
                    "not applicable",
                    certainty.get(outcome, "not assessed"),
                    "Reported as medians and a p-value only, so no effect size can be shown or pooled.",
                ]
            )
    binary = package.rows("binary_outcomes")
    binary_by = _binary_by_population(package)
    for outcome in dict.fromkeys(b.outcome for b in binary):
        parts, patients, k = [], 0, 0
        for c in syn.contributing:
            got = binary_by.get((c.population.population_id, outcome), {})
            if c.intervention.arm_id in got and c.control.arm_id in got:
                bi, bc = got[c.intervention.arm_id], got[c.control.arm_id]
                p = f" ({p_text(bi.p_value)})" if bi.p_value else ""
                parts.append(f"{c.label}: {_pct(bi)} vs {_pct(bc)}{p}")
                patients += c.n_intervention + c.n_control
                k += 1
        if parts:
            rows.append(
                [
                    BINARY_LABELS.get(outcome, outcome.replace("-", " ").capitalize()),
                    f"{k} ({patients} patients)",
                    "; ".join(parts),
                    NOT_REPORTED,
                    "not assessed",
                    "Shown as printed; not analysed as an effect.",
                ]
            )
    return rows


def _first_test(package: EvidencePackage) -> dict[tuple[str, str], Any]:
    """(population, outcome) -> the first 'test' row of effects (indexed once per package)."""
    key = ("pages-first-test",)
    if key not in package.memo:
        index: dict[tuple[str, str], Any] = {}
        for e in package.rows("effects"):
            if e.measure == "test":
                index.setdefault((e.population_id, e.outcome), e)
        package.memo[key] = index
    return package.memo[key]


def _binary_by_population(package: EvidencePackage) -> dict[tuple[str, str], dict[str, Any]]:
    """(population, outcome) -> {arm: row}, the last row per arm winning as in a dict comprehension."""
    key = ("pages-binary",)
    if key not in package.memo:
        index: dict[tuple[str, str], dict[str, Any]] = {}
        for b in package.rows("binary_outcomes"):
            index.setdefault((b.population_id, b.outcome), {})[b.arm_id] = b
        package.memo[key] = index
    return package.memo[key]


BINARY_LABELS = {"tace-resistance": "TACE resistance"}


def p_text(printed: str) -> str:
    """'p = 0.008' or 'p < 0.001' from a p-value as printed."""
    if printed[0] in "<>≤≥":
        return f"p {printed[0]} {printed[1:].strip()}"
    return f"p = {printed}"


OUTCOME_LABEL = {"OS": "Overall survival", "PFS": "Progression-free survival", "TTP": "Time to progression"}


def _m(x: float | None) -> str:
    return NOT_REPORTED if x is None else f"{x:g}"


def _pct(b) -> str:
    if b.events is not None and b.n:
        return f"{b.events}/{b.n}" + (f" ({b.percent:g}%)" if b.percent is not None else "")
    return f"{b.percent:g}%" if b.percent is not None else NOT_REPORTED


def comparison_page(
    package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis, history: list[Any] | None = None
) -> Page:
    """Build one comparison page; `history` holds one line per data release that changed it (newest first)."""
    cid = comparison.comparison_id
    data_href = f"../../api/comparisons/{cid}.json"
    certainty = {(c.outcome): c.rating for c in package.rows("certainty") if c.comparison_id == cid}
    pairs = [p for p in package.rows("comparison_pairs") if p.comparison_id == cid]
    labels = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].label for p in pairs))
    intervention = labels[0] if len(labels) == 1 else "The intervention"
    control = " or ".join(dict.fromkeys(package.regimens[p.control_regimen_id].label for p in pairs))
    contributing = Table(
        ["Study", "Population", "Intervention arm (n)", "Control arm (n)"],
        [
            [
                link(page_href(f"comparisons/{cid}.md", f"studies/{c.study.study_id}.md"), c.study.label),
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
                link(page_href(f"comparisons/{cid}.md", f"studies/{x.study.study_id}.md"), x.study.label),
                x.population.label if x.population else "all",
                x.reason,
            ]
            for x in syn.exclusions
        ],
        caption="Not pooled, and why",
    )
    by_key = {a.key: a for a in syn.analyses}
    shorts_i = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].short_label for p in pairs))
    shorts_c = list(dict.fromkeys(package.regimens[p.control_regimen_id].short_label for p in pairs))
    favours = (
        shorts_i[0] if len(shorts_i) == 1 else "intervention",
        shorts_c[0] if len(shorts_c) == 1 else "control",
    )
    sof_rows = []
    for key in (*MAIN_KEYS, *AE_SOF_KEYS):
        a = by_key.get(key)
        if a is None or a.k == 0:
            continue
        est, lo, hi, how = _result(a)
        cert = certainty.get(a.outcome)
        sof_rows.append(
            [
                a.title,
                f"{a.k} ({a.patients} patients)",
                f"{effect_text(a.measure, est, lo, hi)}; {how}",
                absolute_per_1000(a),
                cert.replace("-", " ") if cert else "not assessed",
                plain_statement(a, comparison, cert, intervention),
            ]
        )
    sof_rows += descriptive_rows(package, syn, by_key, certainty)
    sof = Table(
        ["Outcome", "Study populations (patients)", "Relative effect", "Absolute effect", "Certainty", "What it means"],
        sof_rows,
        caption="Summary of findings",
    )
    sections = []
    for key in MAIN_KEYS:
        a = by_key.get(key)
        if a is None or a.k == 0:
            continue
        others = [by_key[k] for k in (key[:-2] + "or", key[:-2] + "rd") if key.endswith("rr") and k in by_key]
        other_text = "; ".join(f"{o.title.split(': ')[1]}: {effect_text(o.measure, *_result(o)[:3])}" for o in others)
        sections.append(
            {
                "analysis": a,
                "forest": forest_block(a, data_href, *favours),
                "heterogeneity": heterogeneity_text(a),
                "other_measures": other_text,
                "notes": a.notes + [f"{r.label}: {r.note}" for r in a.rows + a.excluded if r.note],
                "loo": Table(
                    ["Omitted", "Estimate (95% CI)"],
                    [
                        [x["omitted"], effect_text(a.measure, x["estimate"], x["ci_low"], x["ci_high"])]
                        for x in a.leave_one_out
                    ],
                ),
                "cumulative": Table(
                    ["Added (by publication date)", "Studies", "Estimate (95% CI)"],
                    [
                        [x["added"], str(x["k"]), effect_text(a.measure, x["estimate"], x["ci_low"], x["ci_high"])]
                        for x in a.cumulative
                    ],
                ),
            }
        )
    ae_rows = []
    for a in syn.analyses:
        if a.outcome != "AE":
            continue
        est, lo, hi, how = _result(a)
        ae_rows.append(
            [
                a.title.removesuffix(": risk ratio"),
                str(a.k),
                effect_text("RR", est, lo, hi),
                how,
                "; ".join(f"{r.label}: {r.events}" for r in a.rows + a.excluded),
            ]
        )
    ae_table = Table(
        ["Adverse event", "Study populations", "Risk ratio", "Basis", "Events (intervention vs control)"],
        ae_rows,
        caption="Adverse events",
        sortable=True,
    )
    medians_chart = chartblocks.medians_block(
        package, syn.medians, f"Median survival: {comparison.title}", data_href, with_study=True
    )
    ratio_rows = []
    by_pop: dict[tuple[str, str], dict[str, float]] = {}
    for c in syn.contributing:
        for s in syn.medians:
            if s.population_id == c.population.population_id and s.median_months is not None:
                side = "i" if s.arm_id == c.intervention.arm_id else ("c" if s.arm_id == c.control.arm_id else None)
                if side:
                    by_pop.setdefault((c.label, s.outcome), {})[side] = s.median_months
    for (label, outcome), v in sorted(by_pop.items()):
        if "i" in v and "c" in v:
            ratio_rows.append([label, outcome, f"{v['i']:g}", f"{v['c']:g}", f"{v['i'] / v['c']:.2f}"])
    ratio_table = Table(
        ["Study population", "Outcome", "Intervention median", "Control median", "Ratio of medians (descriptive)"],
        ratio_rows,
        caption="Ratio of medians",
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
        sections=sections,
        ae_table=ae_table,
        medians_chart=medians_chart,
        ratio_table=ratio_table,
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
    }
