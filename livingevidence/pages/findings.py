"""The summary of findings of a comparison: one row per outcome, in the vocabulary's order, with words.

Which analyses make a row: per outcome, those in its default measure (for time-to-event outcomes both the
unadjusted and the adjusted hazard ratios), else its printed contrasts; for outcomes with one analysis per
adverse-event term, the terms the vocabulary lists in `summary_terms`. Outcomes reported only as medians or
as percentages without counts get a descriptive row: shown as printed, never pooled.
"""

from __future__ import annotations

from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.model import EvidencePackage, Outcome
from livingevidence.numbers import format_effect, format_estimate
from livingevidence.pages.render import NOT_REPORTED
from livingevidence.vocabulary import is_ratio

# GRADE plain-language wording by certainty (Santesso et al. 2020 informative statements).
CERTAINTY_VERB = {"high": "", "moderate": "probably ", "low": "may ", "very-low": None}


def num(x: float | None, measure: str) -> str:
    """An estimate or bound printed by magnitude (ratios clamped at <0.01 and >100; never '0.000')."""
    return format_estimate(x, ratio=is_ratio(measure))


def effect_text(measure: str, est: float | None, lo: float | None, hi: float | None) -> str:
    """'RR 2.24 (95% CI 0.42 to 12.0)'."""
    return format_effect(measure, est, lo, hi, ratio=is_ratio(measure))


def result_of(a: OutcomeAnalysis) -> tuple[float | None, float | None, float | None, str]:
    """Pooled result, or the single study's, with a word on which it is."""
    s = a.summary()
    if s:
        return s["estimate"], s["ci_low"], s["ci_high"], f"pooled, {a.k} study populations"
    if a.k == 1:
        r = a.rows[0]
        return r.estimate, r.ci_low, r.ci_high, "one study population, not pooled"
    return None, None, None, "no usable study"


def _direction_words(kind: str, larger: bool) -> str:
    """How a larger or smaller effect reads for an outcome kind (a larger HR: a shorter time to the event)."""
    if kind == "time-to-event":
        return "shorter" if larger else "longer"
    if kind == "continuous":
        return "a higher" if larger else "a lower"
    return "more patients with" if larger else "fewer patients with"


def plain_statement(a: OutcomeAnalysis, outcome: Outcome | None, certainty: str | None, intervention: str) -> str:
    """A sentence whose wording follows the direction and precision of the effect and its certainty."""
    est, lo, hi, _ = result_of(a)
    null = 1.0 if a.log_scale else 0.0
    if est is None or lo is None or hi is None:
        return f"No usable estimate for {a.phrase}."
    if lo > null or hi < null:
        word = _direction_words(outcome.kind if outcome else "binary", est > null)
        direction = f"{intervention} is associated with {word} {a.phrase}"
    else:
        direction = f"the evidence does not show a clear difference in {a.phrase}; the interval includes no difference"
    if certainty is None:
        return direction[0].upper() + direction[1:] + ". Certainty of the evidence not assessed."
    verb = CERTAINTY_VERB[certainty]
    if verb is None:
        return f"The evidence is very uncertain: {direction}."
    return (
        f"{intervention} {verb}changes {a.phrase} as follows: {direction}."
        if verb
        else direction[0].upper() + direction[1:] + "."
    )


def absolute_per_1000(a: OutcomeAnalysis) -> str:
    """Control risk and the corresponding intervention risk per 1000, for risk ratios with a control risk."""
    est, lo, hi, _ = result_of(a)
    if a.measure != "RR" or a.control_risk is None or est is None or lo is None or hi is None:
        return NOT_REPORTED if a.measure in ("RR", "OR", "RD") else "not applicable"
    base = 1000 * a.control_risk
    # A risk cannot exceed 1000 per 1000, however wide the ratio's interval.
    diff = lambda rr: round(min(base * rr, 1000.0) - base)  # noqa: E731
    return (
        f"{round(base)} per 1000 with control; {diff(est):+d} per 1000 with intervention "
        f"(95% CI {diff(lo):+d} to {diff(hi):+d})"
    )


def main_analyses(package: EvidencePackage, syn: ComparisonSynthesis) -> list[OutcomeAnalysis]:
    """The analyses a comparison page shows as forest plots and in its summary, in vocabulary order."""
    out = []
    for outcome in package.vocabulary.outcomes.values():
        mine = [a for a in syn.analyses if a.outcome == outcome.outcome_id and a.k and a.source != "per-term"]
        default = [a for a in mine if a.measure == outcome.default_measure]
        reported_only = [a for a in mine if a.source == "reported"]
        out += default or reported_only
    return out


def summary_term_analyses(package: EvidencePackage, syn: ComparisonSynthesis) -> list[OutcomeAnalysis]:
    """Per-term analyses of the terms the vocabulary puts in the summary of findings."""
    voc = package.vocabulary
    out = []
    for a in syn.analyses:
        outcome = voc.outcome(a.outcome)
        if a.source == "per-term" and a.k and outcome and a.term in outcome.terms_in_summary:
            out.append(a)
    return out


def sof_rows(
    package: EvidencePackage, syn: ComparisonSynthesis, certainty: dict[str, str], intervention: str
) -> list[list[Any]]:
    """Summary-of-findings rows: analysed outcomes first, then those reported only descriptively."""
    voc = package.vocabulary
    rows: list[list[Any]] = []
    for a in main_analyses(package, syn) + summary_term_analyses(package, syn):
        est, lo, hi, how = result_of(a)
        cert = certainty.get(a.outcome)
        rows.append(
            [
                a.title,
                f"{a.k} ({a.patients} patients)",
                f"{effect_text(a.measure, est, lo, hi)}; {how}",
                absolute_per_1000(a),
                cert.replace("-", " ") if cert else "not assessed",
                plain_statement(a, voc.outcome(a.outcome), cert, intervention),
            ]
        )
    return rows + descriptive_rows(package, syn, certainty)


def descriptive_rows(package: EvidencePackage, syn: ComparisonSynthesis, certainty: dict[str, str]) -> list[list[str]]:
    """Summary-of-findings rows for outcomes reported without an effect size (medians with a p-value, or
    proportions printed without counts): shown as reported, never pooled."""
    voc = package.vocabulary
    analysed = {a.outcome for a in syn.analyses if a.k}
    rows: list[list[str]] = []
    for outcome in voc.outcomes_of_kind("time-to-event"):
        if outcome.outcome_id in analysed:
            continue
        row = medians_row(package, syn, outcome, certainty)
        if row:
            rows.append(row)
    binary_by = _binary_by_population(package)
    for outcome_id in dict.fromkeys(b.outcome for b in package.rows("binary_outcomes")):
        if outcome_id in analysed:
            continue
        parts, patients, k = [], 0, 0
        for c in syn.contributing:
            got = binary_by.get((c.population.population_id, outcome_id), {})
            if c.intervention.arm_id in got and c.control.arm_id in got:
                bi, bc = got[c.intervention.arm_id], got[c.control.arm_id]
                p = f" ({p_text(bi.p_value)})" if bi.p_value else ""
                parts.append(f"{c.label}: {_pct(bi)} vs {_pct(bc)}{p}")
                patients += c.n_intervention + c.n_control
                k += 1
        if parts:
            rows.append(
                [
                    voc.outcome_label(outcome_id),
                    f"{k} ({patients} patients)",
                    "; ".join(parts),
                    NOT_REPORTED,
                    certainty.get(outcome_id, "not assessed"),
                    "Shown as printed; not analysed as an effect.",
                ]
            )
    return rows


def medians_row(
    package: EvidencePackage, syn: ComparisonSynthesis, outcome: Outcome, certainty: dict[str, str]
) -> list[str] | None:
    parts, patients, k = [], 0, 0
    for c in syn.contributing:
        med = {
            s.arm_id: s.median_months
            for s in syn.medians
            if s.population_id == c.population.population_id and s.outcome == outcome.outcome_id
        }
        if c.intervention.arm_id not in med or c.control.arm_id not in med:
            continue
        test = first_test(package).get((c.population.population_id, outcome.outcome_id))
        p = f", {p_text(test.p_value)}" if test and test.p_value else ""
        unit = f" {outcome.unit}" if outcome.unit else ""
        parts.append(f"{c.label}: median {_m(med[c.intervention.arm_id])} vs {_m(med[c.control.arm_id])}{unit}{p}")
        patients += c.n_intervention + c.n_control
        k += 1
    if not parts:
        return None
    return [
        outcome.label,
        f"{k} ({patients} patients)",
        "no hazard ratio reported; " + "; ".join(parts),
        "not applicable",
        certainty.get(outcome.outcome_id, "not assessed"),
        "Reported as medians and a p-value only, so no effect size can be shown or pooled.",
    ]


def first_test(package: EvidencePackage) -> dict[tuple[str, str], Any]:
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


def p_text(printed: str) -> str:
    """'p = 0.008' or 'p < 0.001' from a p-value as printed."""
    if printed[0] in "<>≤≥":
        return f"p {printed[0]} {printed[1:].strip()}"
    return f"p = {printed}"


def _m(x: float | None) -> str:
    return NOT_REPORTED if x is None else f"{x:g}"


def _pct(b: Any) -> str:
    if b.events is not None and b.n:
        return f"{b.events}/{b.n}" + (f" ({b.percent:g}%)" if b.percent is not None else "")
    return f"{b.percent:g}%" if b.percent is not None else NOT_REPORTED
