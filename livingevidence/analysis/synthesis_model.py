"""What a comparison's analyses are: study rows, one outcome's pool, the whole comparison's synthesis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from livingevidence.analysis import pooling
from livingevidence.analysis.selection import Contrast, Exclusion
from livingevidence.model import EvidencePackage


@dataclass
class StudyRow:
    """One contrast's effect on the natural scale with its analysis-scale values for pooling."""

    label: str
    study_id: str
    population_id: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    yi: float | None
    vi: float | None
    events: str = ""  # '21/64 vs 11/64' for count outcomes
    weight: float | None = None  # percent, random effects
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class OutcomeAnalysis:
    """One forest plot: an outcome, a measure and the studies that may be pooled together."""

    key: str  # stable slug: outcome, definition, measure (and adjustment)
    outcome: str  # an outcome_id of the vocabulary (outcomes.csv)
    title: str
    phrase: str  # the outcome in running text, with its definition
    measure: str  # HR, RR, OR, RD, MD, SMD, ROM
    log_scale: bool
    higher_is_better: bool | None  # of the measure: is a larger effect better for patients (None: neither)
    rows: list[StudyRow]
    excluded: list[StudyRow] = field(default_factory=list)  # e.g. double-zero studies
    pool: pooling.PoolResult | None = None
    leave_one_out: list[dict] = field(default_factory=list)
    cumulative: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    control_risk: float | None = None  # pooled control-arm risk for absolute effects (count outcomes)
    patients: int = 0
    unit: str | None = None  # the outcome's unit when the measure is on it (a mean difference)
    # Where the rows come from: "reported" contrasts, or "arm-level" data (counts, means) computed here;
    # "per-term" for outcomes with one analysis per adverse-event term. Not part of the JSON.
    source: str = "arm-level"
    term: str | None = None  # the normalised adverse-event term of a per-term analysis
    # Mantel-Haenszel (and, for ORs, Peto) common-effect lines of count outcomes (pooling.mantel_haenszel).
    common_counts: list[pooling.MantelHaenszelResult] = field(default_factory=list)
    # The analysis split by the comparison's effect modifier (analysis/modifiers.py), when it spans levels.
    subgroups: Any = None

    @property
    def k(self) -> int:
        return len(self.rows)

    def natural(self, value: float | None) -> float | None:
        """Analysis scale -> natural scale."""
        if value is None:
            return None
        return math.exp(value) if self.log_scale else value

    def summary(self) -> dict[str, Any] | None:
        """The pooled random-effects result on the natural scale, or None when nothing was pooled."""
        if self.pool is None or not self.pool.pooled or self.pool.random is None:
            return None
        r = self.pool.random
        c = self.pool.common
        return {
            "estimate": self.natural(r.estimate),
            "ci_low": self.natural(r.ci_low),
            "ci_high": self.natural(r.ci_high),
            "p_value": r.p_value,
            "prediction_low": self.natural(r.prediction_low),
            "prediction_high": self.natural(r.prediction_high),
            "tau2": r.tau2,
            "tau2_ci": [r.tau2_ci_low, r.tau2_ci_high],
            "i2": r.i2,
            "i2_ci": [r.i2_ci_low, r.i2_ci_high],
            "q": r.q,
            "q_df": r.q_df,
            "q_p": r.q_p,
            "common_estimate": self.natural(c.estimate) if c else None,
            "common_ci_low": self.natural(c.ci_low) if c else None,
            "common_ci_high": self.natural(c.ci_high) if c else None,
            "common_p_value": c.p_value if c else None,
            "method": METHOD_SENTENCE.format(tau2=r.method, ci=CI_SHORT.get(r.ci_method, r.ci_method)),
            "method_short": f"{r.method}, {CI_SHORT.get(r.ci_method, r.ci_method)}",
            "notes": list(r.notes),
            "common_counts": [
                {
                    "method": m.method,
                    "measure": m.measure,
                    "estimate": self.natural(m.estimate),
                    "ci_low": self.natural(m.ci_low),
                    "ci_high": self.natural(m.ci_high),
                }
                for m in self.common_counts
                if m.estimable
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "outcome": self.outcome,
            "title": self.title,
            "measure": self.measure,
            "log_scale": self.log_scale,
            "k": self.k,
            "patients": self.patients,
            "studies": [r.to_dict() for r in self.rows],
            "excluded": [r.to_dict() for r in self.excluded],
            "pooled": self.summary(),
            "pool_detail": self.pool.to_dict() if self.pool else None,
            "leave_one_out": self.leave_one_out,
            "cumulative": self.cumulative,
            "control_risk": self.control_risk,
            "notes": self.notes,
            "unit": self.unit,
            "common_counts": [m.to_dict() for m in self.common_counts],
            "subgroups": self.subgroups.to_dict() if self.subgroups is not None else None,
        }


@dataclass
class ComparisonSynthesis:
    """Everything a comparison page and its JSON show."""

    comparison_id: str
    contributing: list[Contrast]
    exclusions: list[Exclusion]
    analyses: list[OutcomeAnalysis]
    medians: list[dict]


#: Short names of the CI methods, for forest-plot rows and captions.
CI_SHORT = {"hksj-adhoc": "HKSJ with the ad hoc correction", "hksj": "HKSJ", "wald": "Wald"}
METHOD_SENTENCE = "Random effects: tau² by {tau2}; 95% CI by {ci}."
ANALYSIS_KEYS = ("tau2_method", "ci_method", "pi_type")


def settings_of(package: EvidencePackage) -> pooling.PoolSettings:
    """The project's pooling settings: the descriptor's ``analysis`` property over the defaults (validated
    by the checks; cached on the package)."""
    key = ("pool-settings",)
    if key not in package.memo:
        given = {k: v for k, v in package.info.analysis.items() if k in ANALYSIS_KEYS and isinstance(v, str)}
        package.memo[key] = pooling.PoolSettings(**given)
    return package.memo[key]


def finish(a: OutcomeAnalysis, settings: pooling.PoolSettings | None = None) -> OutcomeAnalysis:
    """Pool the rows with an effect size and add their weights (leave-one-out and cumulative: synthesis.py)."""
    usable = [r for r in a.rows if r.yi is not None and r.vi is not None]
    a.excluded += [r for r in a.rows if r.yi is None or r.vi is None]
    a.rows = usable
    if not usable:
        return a
    labels = [r.label for r in usable]
    a.pool = pooling.pool([r.yi for r in usable], [r.vi for r in usable], labels, settings=settings)
    if a.pool.pooled and a.pool.random is not None:
        for r, w in zip(usable, a.pool.random.weights, strict=True):
            r.weight = 100 * w
    return a
