"""The bottom line of a comparison: its headline outcomes' answers, first on its page and on the home page.

A comparison names its headline outcomes (comparisons.csv ``headline_outcomes``; without them, its first
outcome with a result). Each answer is the outcome's best-informed analysis in its default measure (most
study populations, then patients; the unadjusted estimate first on a tie): the effect with its interval,
how many study populations and patients it rests on, the certainty of the evidence (GRADE, see
analysis/appraisal) and the sentence worded by that certainty. An outcome reported only as medians says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livingevidence.analysis.synthesis import ComparisonSynthesis, OutcomeAnalysis
from livingevidence.model import Comparison, EvidencePackage, Outcome
from livingevidence.pages.appraisal import comparison_certainty
from livingevidence.pages.findings import effect_text, main_analyses, medians_item, plain_statement, result_of


@dataclass(frozen=True)
class Answer:
    """One headline outcome's answer."""

    outcome: str  # the outcome's label
    effect: str  # 'HR 0.65 (95% CI 0.44 to 0.96)', or what is reported instead
    basis: str  # '2 study populations (288 patients), pooled'
    certainty: str  # '⊕◯◯◯ Very low (proposed by the rules)', or 'not assessed'
    sentence: str
    anchor: str  # the forest plot's id on the comparison page ('' when there is none)


def _best(analyses: list[OutcomeAnalysis]) -> OutcomeAnalysis | None:
    return max(analyses, key=lambda a: (a.k, a.patients, a.key.endswith("-unadjusted")), default=None)


def _certainty_text(assessment: Any) -> str:
    if assessment is None:
        return "not assessed"
    status = {"proposed": "proposed by the rules", "confirmed": "confirmed", "overridden": "set by the maintainers"}
    return f"{assessment.text} ({status.get(assessment.status, assessment.status)})"


def _without_estimate(
    package: EvidencePackage, syn: ComparisonSynthesis, outcome: Outcome, certainty: dict[str, Any]
) -> Answer:
    """An outcome without an effect estimate: what is reported instead (medians with a p-value), or nothing."""
    item = medians_item(package, syn, outcome) if outcome.kind == "time-to-event" else None
    if item is not None:
        cert = certainty.get(item.key)
        n = len(item.contrasts)
        return Answer(
            outcome.label,
            item.text.removeprefix("no hazard ratio reported; "),
            f"{n} study population{'s' if n != 1 else ''} ({item.patients} patients), medians only",
            _certainty_text(cert),
            "Reported only as medians (with a p-value where printed): no effect estimate can be shown or pooled.",
            "",
        )
    return Answer(
        outcome.label,
        "no effect estimate",
        "no study population reports it as an effect",
        "not assessed",
        f"No study of this comparison gives an effect estimate of {outcome.phrase} yet.",
        "",
    )


def answers(
    package: EvidencePackage, comparison: Comparison, syn: ComparisonSynthesis, intervention: str
) -> list[Answer]:
    """The answers of a comparison's headline outcomes, in the order it names them."""
    voc = package.vocabulary
    certainty = comparison_certainty(package, comparison.comparison_id, syn)
    shown = main_analyses(package, syn)
    wanted = comparison.headlines or [a.outcome for a in shown[:1]]
    out = []
    for outcome_id in wanted:
        outcome = voc.outcome(outcome_id)
        if outcome is None:
            continue
        best = _best([a for a in shown if a.outcome == outcome_id])
        if best is None:
            out.append(_without_estimate(package, syn, outcome, certainty))
            continue
        est, lo, hi, _how = result_of(best)
        cert = certainty.get(best.key)
        pooled = "pooled" if best.summary() else "not pooled"
        basis = f"{best.k} study population{'s' if best.k != 1 else ''} ({best.patients} patients), {pooled}"
        out.append(
            Answer(
                outcome.label,
                effect_text(best.measure, est, lo, hi),
                basis,
                _certainty_text(cert),
                cert.statement if cert and cert.statement else plain_statement(best, outcome, None, intervention),
                best.key,
            )
        )
    return out


def key_findings(package: EvidencePackage, syntheses: dict[str, ComparisonSynthesis]) -> list[dict[str, object]]:
    """One line per comparison for the home page: its title, link and its first headline's answer."""
    from livingevidence.pages.common import link, page_href

    rows = []
    for cid, comparison in package.comparisons.items():
        pairs = [p for p in package.rows("comparison_pairs") if p.comparison_id == cid]
        labels = list(dict.fromkeys(package.regimens[p.intervention_regimen_id].label for p in pairs))
        intervention = labels[0] if len(labels) == 1 else "The intervention"
        found = answers(package, comparison, syntheses[cid], intervention)
        found = sorted(found, key=lambda a: not a.anchor)[:1]  # the first headline with an effect estimate
        rows.append({"link": link(page_href("index.md", f"comparisons/{cid}.md"), comparison.title), "answers": found})
    return rows
