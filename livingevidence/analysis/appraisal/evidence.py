"""From a comparison's analyses to what the certainty rules read (certainty.Evidence), and the sensitivity
analysis restricted to the study populations at lower risk of bias."""

from __future__ import annotations

from dataclasses import dataclass

from livingevidence.analysis import pooling
from livingevidence.analysis.appraisal.certainty import Evidence, StudyWeight
from livingevidence.analysis.appraisal.risk_of_bias import assessment_of
from livingevidence.analysis.selection import Contrast
from livingevidence.analysis.synthesis_model import OutcomeAnalysis, settings_of
from livingevidence.model import EvidencePackage
from livingevidence.numbers import format_effect
from livingevidence.vocabulary import is_ratio

__all__ = ["LowerRisk", "descriptive_evidence", "evidence_of", "lower_risk_sensitivity"]


def evidence_of(package: EvidencePackage, comparison_id: str, a: OutcomeAnalysis) -> Evidence:
    """The rules' view of one analysis: its rows and weights, the pooled (or single) effect and intervals."""
    s = a.summary()
    if s:
        estimate, low, high = s["estimate"], s["ci_low"], s["ci_high"]
        pi_low, pi_high, q_p = s["prediction_low"], s["prediction_high"], s["q_p"]
        notes = tuple(s["notes"])
    elif a.k == 1:
        r = a.rows[0]
        estimate, low, high, pi_low, pi_high, q_p, notes = r.estimate, r.ci_low, r.ci_high, None, None, None, ()
    else:
        estimate = low = high = pi_low = pi_high = q_p = None
        notes = ()
    weights = [r.weight if r.weight is not None else 100.0 / max(1, a.k) for r in a.rows]
    return Evidence(
        comparison_id=comparison_id,
        key=a.key,
        outcome=package.vocabulary.outcome(a.outcome),
        outcome_id=a.outcome,
        phrase=a.phrase,
        measure=a.measure,
        ratio=a.log_scale,
        rows=tuple(StudyWeight(r.study_id, r.label, w) for r, w in zip(a.rows, weights, strict=True)),
        patients=a.patients,
        estimate=estimate,
        ci_low=low,
        ci_high=high,
        pi_low=pi_low,
        pi_high=pi_high,
        q_p=q_p,
        pool_notes=notes,
        control_risk=a.control_risk,
        yi=tuple(r.yi for r in a.rows if r.yi is not None),
        vi=tuple(r.vi for r in a.rows if r.vi is not None),
    )


def descriptive_evidence(
    package: EvidencePackage, comparison_id: str, outcome_id: str, contrasts: list[Contrast]
) -> Evidence:
    """An outcome reported without an effect size (medians and a p-value, or percentages without counts)."""
    outcome = package.vocabulary.outcome(outcome_id)
    sizes = [c.n_intervention + c.n_control for c in contrasts]
    total = sum(sizes) or 1
    return Evidence(
        comparison_id=comparison_id,
        key=f"{outcome_id.lower()}-as-reported",
        outcome=outcome,
        outcome_id=outcome_id,
        phrase=outcome.phrase if outcome else outcome_id,
        measure=outcome.default_measure if outcome else "",
        ratio=is_ratio(outcome.default_measure) if outcome else True,
        # weighted by patients: without variances there are no inverse-variance weights
        rows=tuple(
            StudyWeight(c.study.study_id, c.label, 100.0 * n / total) for c, n in zip(contrasts, sizes, strict=True)
        ),
        patients=sum(sizes),
        descriptive=True,
    )


@dataclass(frozen=True)
class LowerRisk:
    """The sensitivity analysis restricted to study populations at lower risk of bias."""

    k: int  # study populations in the main analysis
    kept: tuple[str, ...]  # labels of those at lower risk of bias
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    pooled: bool
    text: str

    def to_dict(self) -> dict:
        return {
            "k": self.k,
            "k_lower_risk": len(self.kept),
            "studies": list(self.kept),
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "pooled": self.pooled,
            "text": self.text,
        }


LOWER = "low or moderate risk of bias (ROBINS-I; low risk or some concerns with RoB 2)"


def lower_risk_sensitivity(package: EvidencePackage, a: OutcomeAnalysis) -> LowerRisk:
    """Pool only the rows whose study's overall judgement for the outcome is a lower-risk one of its tool."""
    kept = []
    for r in a.rows:
        assessment = assessment_of(package, r.study_id)
        judgement = assessment.overall(a.outcome) if assessment else None
        if assessment is not None and judgement in assessment.tool.lower_risk:
            kept.append(r)
    labels = tuple(r.label for r in kept)
    n = len(kept)
    if n == 0:
        text = f"Sensitivity analysis restricted to studies at {LOWER}: none of the {a.k} study populations is."
        return LowerRisk(a.k, labels, None, None, None, False, text)
    if n == a.k:
        text = f"Every contributing study is at {LOWER}: the restricted sensitivity analysis is the main analysis."
        return LowerRisk(a.k, labels, None, None, None, False, text)
    if n == 1:
        r = kept[0]
        effect = format_effect(a.measure, r.estimate, r.ci_low, r.ci_high, ratio=a.log_scale)
        text = f"Restricted to the one study population at {LOWER} ({r.label}): {effect}, not pooled."
        return LowerRisk(a.k, labels, r.estimate, r.ci_low, r.ci_high, False, text)
    result = pooling.pool([r.yi for r in kept], [r.vi for r in kept], list(labels), settings=settings_of(package))
    rnd = result.random
    if rnd is None:  # pragma: no cover - two or more rows always pool
        return LowerRisk(a.k, labels, None, None, None, False, "The restricted analysis could not be pooled.")
    est, low, high = (a.natural(v) for v in (rnd.estimate, rnd.ci_low, rnd.ci_high))
    effect = format_effect(a.measure, est, low, high, ratio=a.log_scale)
    text = f"Restricted to the {n} study populations at {LOWER} ({', '.join(labels)}): {effect}, random effects."
    return LowerRisk(a.k, labels, est, low, high, True, text)
