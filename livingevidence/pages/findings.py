"""The summary of findings of a comparison: one row per outcome, in the vocabulary's order, with words.

Which analyses make a row: per outcome, those in its default measure (for time-to-event outcomes both the
unadjusted and the adjusted hazard ratios), else its printed contrasts; for outcomes with one analysis per
adverse-event term, the terms the vocabulary lists in `summary_terms`. Outcomes reported only as medians or
as percentages without counts get a descriptive row: shown as printed, never pooled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from livingevidence.analysis.appraisal import grade_rules, wording
from livingevidence.analysis.selection import Contrast
from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.model import EvidencePackage, Outcome
from livingevidence.numbers import format_effect, format_estimate
from livingevidence.pages.render import NOT_REPORTED
from livingevidence.vocabulary import is_ratio

SOF_HEADERS = [
    "Outcome",
    "Participants (studies)",
    "Relative effect (95% CI)",
    "Absolute effect (95% CI)",
    "Certainty",
    "What happens",
]


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


def plain_statement(
    a: OutcomeAnalysis, outcome: Outcome | None, certainty: str | None, intervention: str, control: str = "control"
) -> str:
    """The effect of an analysis in GRADE's informative wording for its certainty (see appraisal/wording.py)."""
    est, lo, hi, _ = result_of(a)
    if est is None or lo is None or hi is None:
        return f"No usable estimate for {a.phrase}."
    if certainty is None:
        return f"No certainty rating for {a.phrase}."
    mid = outcome.mid if outcome is not None and outcome.default_measure == a.measure else None
    effect = wording.Effect(
        est, lo, hi, a.log_scale, outcome.kind if outcome else "binary", grade_rules.thresholds(mid, ratio=a.log_scale)
    )
    return wording.statement(certainty, effect, intervention, control, a.phrase)


def absolute_per_1000(a: OutcomeAnalysis) -> str:
    """GRADE's absolute effect of a risk ratio from the control risk: '124 per 1,000 with control; 154 more per
    1,000 (from 72 fewer to 876 more)'."""
    est, lo, hi, _ = result_of(a)
    if a.measure != "RR" or a.control_risk is None or est is None or lo is None or hi is None:
        return NOT_REPORTED if a.measure in ("RR", "OR", "RD") else "not applicable"
    base = 1000 * a.control_risk

    def diff(rr: float) -> str:
        # A risk cannot exceed 1,000 per 1,000, however wide the ratio's interval.
        d = round(min(base * rr, 1000.0) - base)
        return f"{abs(d):,} {'more' if d > 0 else 'fewer'}" if d else "0 more"

    return f"{round(base):,} per 1,000 with control; {diff(est)} per 1,000 (from {diff(lo)} to {diff(hi)})"


def participants(contrasts: list[Contrast], patients: int) -> str:
    """GRADE's 'participants (studies)': '416 (2 studies; 3 study populations)'."""
    studies = len({c.study.study_id for c in contrasts})
    text = f"{patients:,} ({studies} {'study' if studies == 1 else 'studies'}"
    if len(contrasts) != studies:
        text += f"; {len(contrasts)} study populations"
    return text + ")"


def _contrasts_of(syn: ComparisonSynthesis, a: OutcomeAnalysis) -> list[Contrast]:
    """The contributing contrasts behind an analysis' rows (matched by study and population)."""
    rows = {(r.study_id, r.population_id) for r in a.rows}
    return [c for c in syn.contributing if (c.study.study_id, c.population.population_id) in rows]


def certainty_cell(assessment: Any, footnotes: list[str]) -> Markup | str:
    """'⊕⊕◯◯ Low' with superscript letters for its reasons, which go (once each) into `footnotes`."""
    if assessment is None:
        return "not rated"
    marks = []
    for reason in assessment.reasons:
        if reason not in footnotes:
            footnotes.append(reason)
        marks.append(footnote_mark(footnotes.index(reason)))
    status = "" if assessment.status == "confirmed" else f" ({assessment.status})"
    cell = Markup('<span class="le-grade" aria-hidden="true">{}</span> {}{}').format(
        assessment.symbols, assessment.label, status
    )
    if marks:
        cell += Markup("<sup>{}</sup>").format(Markup(",").join(marks))
    return cell


def footnote_mark(i: int) -> Markup:
    """The i-th footnote's letter (a, b, ... z, aa, ...) linking to its note below the table."""
    letter = ""
    n = i
    while True:
        letter = chr(ord("a") + n % 26) + letter
        n = n // 26 - 1
        if n < 0:
            break
    return Markup('<a href="#sof-{}">{}</a>').format(letter, letter)


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


@dataclass(frozen=True)
class Descriptive:
    """An outcome reported without an effect size in a comparison: shown as printed, never pooled."""

    outcome_id: str
    title: str
    contrasts: list[Contrast]
    text: str
    what: str  # a sentence on how it was reported
    absolute: str  # the absolute-effect cell: not applicable (medians) or not reported (percentages)

    @property
    def key(self) -> str:
        return f"{self.outcome_id.lower()}-as-reported"

    @property
    def patients(self) -> int:
        return sum(c.n_intervention + c.n_control for c in self.contrasts)


def sof_rows(
    package: EvidencePackage,
    syn: ComparisonSynthesis,
    certainty: dict[str, Any],
    intervention: str,
    footnotes: list[str] | None = None,
) -> list[list[Any]]:
    """Summary-of-findings rows: analysed outcomes first, then those reported only descriptively.

    `certainty`: analysis key -> its certainty assessment (appraisal/certainty.py); its reasons are added once
    each to `footnotes` and marked with letters in the certainty cell.
    """
    notes = footnotes if footnotes is not None else []
    voc = package.vocabulary
    rows: list[list[Any]] = []
    for a in main_analyses(package, syn) + summary_term_analyses(package, syn):
        est, lo, hi, how = result_of(a)
        cert = certainty.get(a.key)
        rows.append(
            [
                a.title,
                participants(_contrasts_of(syn, a), a.patients),
                f"{effect_text(a.measure, est, lo, hi)}; {how}",
                absolute_per_1000(a),
                certainty_cell(cert, notes),
                cert.statement if cert else plain_statement(a, voc.outcome(a.outcome), None, intervention),
            ]
        )
    for d in descriptive_items(package, syn):
        cert = certainty.get(d.key)
        rows.append(
            [
                d.title,
                participants(d.contrasts, d.patients),
                d.text,
                d.absolute,
                certainty_cell(cert, notes),
                f"{cert.statement} {d.what}" if cert else d.what,
            ]
        )
    return rows


def descriptive_items(package: EvidencePackage, syn: ComparisonSynthesis) -> list[Descriptive]:
    """Outcomes reported without an effect size (medians with a p-value, or proportions printed without
    counts), in vocabulary order for medians, then in file order."""
    voc = package.vocabulary
    analysed = {a.outcome for a in syn.analyses if a.k}
    out: list[Descriptive] = []
    for outcome in voc.outcomes_of_kind("time-to-event"):
        if outcome.outcome_id not in analysed:
            item = medians_item(package, syn, outcome)
            if item:
                out.append(item)
    binary_by = _binary_by_population(package)
    for outcome_id in dict.fromkeys(b.outcome for b in package.rows("binary_outcomes")):
        if outcome_id in analysed:
            continue
        parts, used = [], []
        for c in syn.contributing:
            got = binary_by.get((c.population.population_id, outcome_id), {})
            if c.intervention.arm_id in got and c.control.arm_id in got:
                bi, bc = got[c.intervention.arm_id], got[c.control.arm_id]
                p = f" ({p_text(bi.p_value)})" if bi.p_value else ""
                parts.append(f"{c.label}: {_pct(bi)} vs {_pct(bc)}{p}")
                used.append(c)
        if parts:
            what = "Shown as printed; not analysed as an effect."
            title = voc.outcome_label(outcome_id)
            out.append(Descriptive(outcome_id, title, used, "; ".join(parts), what, NOT_REPORTED))
    return out


def medians_item(package: EvidencePackage, syn: ComparisonSynthesis, outcome: Outcome) -> Descriptive | None:
    parts, used = [], []
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
        used.append(c)
    if not parts:
        return None
    what = "Reported as medians and a p-value only, so no effect size can be shown or pooled."
    text = "no hazard ratio reported; " + "; ".join(parts)
    return Descriptive(outcome.outcome_id, outcome.label, used, text, what, "not applicable")


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
