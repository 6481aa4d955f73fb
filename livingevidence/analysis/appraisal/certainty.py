"""Certainty of the evidence (GRADE) per comparison and analysis: a proposal by stated rules (grade_rules.py),
then the maintainers' decision from the package's `certainty` table (confirmed, or overridden with a reason).

Start: every body of evidence starts at high certainty. Randomised trials do by GRADE's rule; non-randomised
studies do because they are assessed with ROBINS-I, which puts them on the same scale of risk of bias as
trials, so that their risk of bias, confounding included, is what rates them down (GRADE guidance 18,
Schünemann et al. 2019). A study without an assessment counts as at serious risk of bias (two levels down),
which for a non-randomised study is GRADE's older rule of starting low.

Domains: risk of bias, inconsistency, imprecision by rule; indirectness from the maintainers' recorded
concerns (the `indirectness` table: rated down once when the studies with a concern carry at least half the
weight); publication bias not assessable below 10 studies, Egger's test shown from 10 on (the maintainers
judge; the rule does not rate down). Effects reported without an estimate and CI (medians and a p-value) are
rated down twice for imprecision: their precision cannot be judged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from livingevidence.analysis.appraisal import grade_rules as rules
from livingevidence.analysis.appraisal.risk_of_bias import assessment_of, expected_tool
from livingevidence.analysis.appraisal.small_studies import MIN_STUDIES, egger_test
from livingevidence.analysis.appraisal.tools import style
from livingevidence.analysis.appraisal.wording import Effect, statement
from livingevidence.model import Certainty, EvidencePackage, Outcome
from livingevidence.numbers import format_interval, format_number, format_p_value

__all__ = ["Assessment", "Domain", "Evidence", "StudyWeight", "assess", "decision_for", "propose"]

#: GRADE's default relative risk reduction for the optimal information size without an MID (Guyatt 2011).
DEFAULT_RRR = 0.25
LEVEL_WORDS = {0: "not rated down", 1: "rated down one level", 2: "rated down two levels", 3: "rated down three levels"}


@dataclass(frozen=True)
class StudyWeight:
    """A contributing study population: its study, its row label and its share of the weight (percent)."""

    study_id: str
    label: str
    weight: float


@dataclass(frozen=True)
class Evidence:
    """What the rules read about one analysis (or one outcome reported only descriptively)."""

    comparison_id: str
    key: str
    outcome: Outcome | None
    outcome_id: str
    phrase: str
    measure: str
    ratio: bool
    rows: tuple[StudyWeight, ...]
    patients: int
    estimate: float | None = None  # natural scale: pooled, or the single study's
    ci_low: float | None = None
    ci_high: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    q_p: float | None = None
    pool_notes: tuple[str, ...] = ()
    control_risk: float | None = None
    yi: tuple[float, ...] = ()
    vi: tuple[float, ...] = ()
    descriptive: bool = False  # reported without an effect estimate and CI

    @property
    def k(self) -> int:
        return len(self.rows)

    @property
    def mid(self) -> float | None:
        """The outcome's MID when it is on this analysis' scale (the outcome's default measure)."""
        o = self.outcome
        return o.mid if o is not None and o.mid is not None and o.default_measure == self.measure else None

    @property
    def limits(self) -> tuple[float, ...]:
        return rules.thresholds(self.mid, ratio=self.ratio)


@dataclass(frozen=True)
class Domain:
    """One GRADE domain of a proposal: how many levels down and why, in a sentence."""

    key: str  # risk-of-bias, inconsistency, indirectness, imprecision, publication-bias
    name: str
    downgrade: int
    reason: str
    assessable: bool = True


@dataclass
class Assessment:
    """A comparison x analysis: the rules' proposal, the maintainers' decision and what a reader sees."""

    evidence: Evidence
    domains: tuple[Domain, ...]
    start: str
    start_reason: str
    proposed: str
    rating: str
    status: str  # proposed | confirmed | overridden
    decision: Certainty | None = None
    note: str = ""  # e.g. a confirmation made on another proposal
    statement: str = ""
    egger: dict | None = field(default=None)

    @property
    def symbols(self) -> str:
        return rules.SYMBOLS[self.rating]

    @property
    def label(self) -> str:
        """'Low', 'Very low', ..."""
        return rules.WORDS[self.rating]

    @property
    def text(self) -> str:
        """'⊕⊕◯◯ Low'."""
        return f"{self.symbols} {self.label}"

    @property
    def decision_lines(self) -> list[str]:
        """The maintainers' decision and its reason, and a note when the proposal has changed since."""
        out = []
        if self.decision is not None and (self.decision.reason or self.status == "overridden"):
            verb = "Overridden" if self.status == "overridden" else "Confirmed"
            d = self.decision
            out.append(f"{verb} by {d.assessed_by} on {d.assessed_on.isoformat()}: {d.reason or 'no reason given'}")
        if self.note:
            out.append(self.note)
        return out

    @property
    def reasons(self) -> list[str]:
        """The domains that rated down (or could not be assessed), then the maintainers' decision."""
        return [f"{d.name}: {d.reason}" for d in self.domains if d.downgrade or not d.assessable] + self.decision_lines

    def to_dict(self) -> dict:
        """For the JSON API."""
        e = self.evidence
        return {
            "comparison": e.comparison_id,
            "analysis": e.key,
            "outcome": e.outcome_id,
            "rating": self.rating,
            "symbols": self.symbols,
            "label": self.label,
            "status": self.status,
            "proposed_rating": self.proposed,
            "start": self.start,
            "domains": [
                {"domain": d.key, "downgrade": d.downgrade, "assessable": d.assessable, "reason": d.reason}
                for d in self.domains
            ],
            "decision": None
            if self.decision is None
            else {
                "decision": self.decision.decision,
                "proposed_rating": self.decision.proposed_rating,
                "rating": self.decision.rating,
                "reason": self.decision.reason,
                "assessed_by": self.decision.assessed_by,
                "assessed_on": self.decision.assessed_on.isoformat(),
            },
            "note": self.note,
            "statement": self.statement,
            "egger": self.egger,
        }


# --- the domains -------------------------------------------------------------------------------------------------


def _share(rows: tuple[StudyWeight, ...]) -> dict[str, float]:
    """study_id -> its share of the weight (percent), in row order."""
    out: dict[str, float] = {}
    total = math.fsum(r.weight for r in rows) or 1.0
    for r in rows:
        out[r.study_id] = out.get(r.study_id, 0.0) + 100.0 * r.weight / total
    return out


def risk_of_bias_domain(package: EvidencePackage, e: Evidence) -> Domain:
    """Weighted mean of the studies' overall judgements (for this outcome) in levels, rounded half up."""
    shares = _share(e.rows)
    judgements, parts, tools = [], [], set()
    for sid, share in shares.items():
        a = assessment_of(package, sid)
        judgement = a.overall(e.outcome_id) if a is not None else None
        tools.add(a.tool.name if a is not None else expected_tool(package, sid).name)
        judgements.append(judgement)
        label = package.studies[sid].label if sid in package.studies else sid
        word = style(judgement).label.lower() if judgement else "not assessed (counted as serious)"
        parts.append(f"{label} {word} ({share:.0f}% of the weight)")
    levels, mean = rules.risk_of_bias_downgrade(judgements, list(shares.values()))
    reason = (
        f"{LEVEL_WORDS[levels].capitalize()}: {'; '.join(parts)} ({', '.join(sorted(tools))}; weighted mean "
        f"{mean:.1f} levels)."
    )
    return Domain("risk-of-bias", "Risk of bias", levels, reason)


def inconsistency_domain(e: Evidence) -> Domain:
    """CINeMA's heterogeneity rule from the CI and the prediction interval; Q's p below 0.10 with two."""
    if e.descriptive:
        return Domain("inconsistency", "Inconsistency", 0, "Not assessable: no effect sizes to compare.", False)
    if e.k < 2:
        return Domain("inconsistency", "Inconsistency", 0, "Not assessable with one study population.", False)
    if e.k == 2 or e.pi_low is None or e.pi_high is None:
        notes = " ".join(e.pool_notes)
        p = e.q_p
        down = 1 if p is not None and p < 0.10 else 0
        return Domain(
            "inconsistency",
            "Inconsistency",
            down,
            f"{LEVEL_WORDS[down].capitalize()}: with two study populations tau² cannot be estimated reliably and "
            "no prediction interval is computed, so CINeMA's rule cannot be applied; instead Cochran's Q test "
            f"(p = {format_p_value(p)}) rates down once when p < 0.10. {notes}".strip(),
        )
    limits = e.limits
    c = rules.crossings(e.ci_low, e.ci_high, limits)  # type: ignore[arg-type]
    p = rules.crossings(e.pi_low, e.pi_high, limits)
    down = rules.inconsistency_downgrade(c, p)
    return Domain(
        "inconsistency",
        "Inconsistency",
        down,
        f"{LEVEL_WORDS[down].capitalize()}: the 95% CI crosses {c} and the 95% prediction interval "
        f"({format_interval(e.pi_low, e.pi_high, ratio=e.ratio)}) {p} of the thresholds {_limits_text(e)} "
        "(CINeMA's heterogeneity rule).",
    )


def _limits_text(e: Evidence) -> str:
    shown = " and ".join(f"{t:.3g}" for t in e.limits)
    if e.mid is None:
        return f"{e.measure} {shown} (no minimal important difference on this scale: the null alone)"
    return f"{e.measure} {shown} (the outcome's minimal important difference)"


def indirectness_domain(package: EvidencePackage, e: Evidence) -> Domain:
    """Rated down once when studies with a recorded concern carry at least half the weight."""
    concerns: dict[str, list[str]] = {}
    for row in package.rows("indirectness"):
        if row.comparison_id == e.comparison_id and row.outcome in (None, e.outcome_id):
            concerns.setdefault(row.study_id, [])
            if row.concern not in concerns[row.study_id]:
                concerns[row.study_id].append(row.concern)
    shares = _share(e.rows)
    concerned = {sid: share for sid, share in shares.items() if concerns.get(sid)}
    if not concerned:
        return Domain(
            "indirectness", "Indirectness", 0, "Not rated down: no indirectness concern is recorded for these studies."
        )
    total = sum(concerned.values())
    down = 1 if total >= 50 - 1e-9 else 0
    parts = "; ".join(
        f"{package.studies[sid].label} ({', '.join(concerns[sid])}; {share:.0f}% of the weight)"
        for sid, share in concerned.items()
    )
    why = "carry at least half of the weight" if down else "carry less than half of the weight"
    return Domain(
        "indirectness",
        "Indirectness",
        down,
        f"{LEVEL_WORDS[down].capitalize()}: the maintainers recorded concerns about {parts}; these studies {why}.",
    )


def imprecision_domain(e: Evidence) -> Domain:
    """CINeMA's thresholds crossed by the 95% CI; the optimal information size for binary outcomes."""
    if e.descriptive or e.ci_low is None or e.ci_high is None:
        return Domain(
            "imprecision",
            "Imprecision",
            2,
            "Rated down two levels: no effect estimate with a confidence interval is reported (medians and a "
            "p-value only), so its precision cannot be judged.",
        )
    crossed = rules.crossings(e.ci_low, e.ci_high, e.limits)
    ois_text, met = _information_size(e)
    down = rules.imprecision_downgrade(crossed, met)
    ci = format_interval(e.ci_low, e.ci_high, ratio=e.ratio)
    word = {0: "none", 1: "one", 2: "both"}.get(crossed, str(crossed)) if len(e.limits) == 2 else str(crossed)
    text = f"{LEVEL_WORDS[down].capitalize()}: the 95% CI ({ci}) crosses {word} of the thresholds {_limits_text(e)}."
    return Domain("imprecision", "Imprecision", down, f"{text} {ois_text}".strip())


def _information_size(e: Evidence) -> tuple[str, bool | None]:
    """The optimal information size check of a binary outcome: its sentence, and whether it is met."""
    o = e.outcome
    if o is None or o.kind != "binary" or e.control_risk is None:
        return "", None
    rrr = 1 - 1 / o.mid if o.mid is not None and o.default_measure == "RR" else DEFAULT_RRR
    ois = rules.optimal_information_size(e.control_risk, rrr)
    if ois is None:
        return "", None
    met = e.patients >= ois
    source = "the MID" if o.mid is not None and o.default_measure == "RR" else "GRADE's default"
    return (
        f"Optimal information size {ois:,} patients (control risk {100 * e.control_risk:.0f}%, a "
        f"{100 * rrr:.0f}% relative reduction from {source}, two-sided alpha 0.05, power 80%): "
        f"{e.patients:,} patients {'meet' if met else 'do not meet'} it.",
        met,
    )


def publication_bias_domain(e: Evidence) -> tuple[Domain, dict | None]:
    """Not assessable below 10 study populations; from 10, Egger's test (the maintainers judge)."""
    if e.descriptive or e.k < MIN_STUDIES or len(e.yi) < MIN_STUDIES:
        return (
            Domain(
                "publication-bias",
                "Publication bias",
                0,
                f"Not assessable with fewer than {MIN_STUDIES} studies (a funnel plot cannot tell asymmetry from "
                "chance); not rated down.",
                False,
            ),
            None,
        )
    try:
        test = egger_test(e.yi, e.vi)
    except ValueError as exc:
        return Domain("publication-bias", "Publication bias", 0, f"Egger's test not computed: {exc}.", False), None
    egger = {"t": test.t, "df": test.df, "p_value": test.p_value, "limit_estimate": test.limit_estimate}
    return (
        Domain(
            "publication-bias",
            "Publication bias",
            0,
            f"Not rated down by rule: Egger's test t = {format_number(test.t)} on {test.df} df, "
            f"p = {format_p_value(test.p_value)} (funnel plot on the page); the maintainers judge.",
        ),
        egger,
    )


# --- proposal and decision -------------------------------------------------------------------------------------

START_REASON = (
    "Starts at high certainty: randomised trials by GRADE's rule, non-randomised studies because they are "
    "assessed with ROBINS-I, whose judgements carry their risk of bias, confounding included (GRADE guidance 18)."
)


def propose(package: EvidencePackage, e: Evidence) -> tuple[tuple[Domain, ...], str, dict | None]:
    """The rules' domains, the proposed rating and Egger's test (when run)."""
    publication, egger = publication_bias_domain(e)
    domains = (
        risk_of_bias_domain(package, e),
        inconsistency_domain(e),
        indirectness_domain(package, e),
        imprecision_domain(e),
        publication,
    )
    return domains, rules.rating_after(sum(d.downgrade for d in domains)), egger


def decision_for(package: EvidencePackage, e: Evidence) -> Certainty | None:
    """The maintainers' row for this analysis, else for its outcome in this comparison."""
    rows = [c for c in package.rows("certainty") if c.comparison_id == e.comparison_id and c.outcome == e.outcome_id]
    return next((c for c in rows if c.analysis == e.key), None) or next((c for c in rows if c.analysis is None), None)


def assess(package: EvidencePackage, e: Evidence, intervention: str, control: str) -> Assessment:
    """Proposal, decision and the GRADE-worded statement of one analysis."""
    domains, proposed, egger = propose(package, e)
    decision = decision_for(package, e)
    rating, status, note = proposed, "proposed", ""
    if decision is not None and decision.decision == "overridden":
        rating, status = decision.rating, "overridden"
        if decision.proposed_rating != proposed:
            note = (
                f"The rules now propose {rules.WORDS[proposed].lower()}, not the "
                f"{rules.WORDS[decision.proposed_rating].lower()} this override was made on: the evidence has "
                "changed since; the maintainers should review it."
            )
    elif decision is not None:
        if decision.proposed_rating == proposed:
            rating, status = decision.rating, "confirmed"
        else:
            note = (
                f"Confirmed as {rules.WORDS[decision.rating].lower()} on {decision.assessed_on.isoformat()}; the "
                f"rules now propose {rules.WORDS[proposed].lower()} (the evidence has changed), so the rating is "
                "shown as proposed until the maintainers review it."
            )
    effect = None
    if not e.descriptive and None not in (e.estimate, e.ci_low, e.ci_high):
        kind = e.outcome.kind if e.outcome is not None else "binary"
        effect = Effect(e.estimate, e.ci_low, e.ci_high, e.ratio, kind, e.limits)  # type: ignore[arg-type]
    return Assessment(
        evidence=e,
        domains=domains,
        start="high",
        start_reason=START_REASON,
        proposed=proposed,
        rating=rating,
        status=status,
        decision=decision,
        note=note,
        statement=statement(rating, effect, intervention, control, e.phrase),
        egger=egger,
    )
