"""Each study's risk-of-bias assessment, read from the package's `risk_of_bias` rows.

A judgement may hold for every outcome of a study (outcome empty) or for one outcome; an outcome's judgement
of a domain is its own row when there is one, else the study-wide row. The overall judgement of an outcome
is the assessor's recorded one (for that outcome, else for all outcomes); without one, the tool's rule
computed from the domains (tools.py). The checks (checks/appraisal.py) make sure the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from livingevidence.analysis.appraisal.tools import OVERALL, TOOLS, Domain, Tool, tool_for_design
from livingevidence.model import EvidencePackage, RiskOfBias

__all__ = ["Profile", "StudyAssessment", "assessment_of", "assessments", "overall_for"]


@dataclass(frozen=True)
class Profile:
    """The judgements one group of outcomes shares: a row of the study's traffic-light plot."""

    outcomes: tuple[str, ...]  # empty: every outcome
    domains: dict[str, RiskOfBias | None]  # domain id -> its judgement (None: not judged for these outcomes)
    overall: str | None
    overall_row: RiskOfBias | None  # the recorded overall row, if any
    computed: str | None  # the tool's rule from the domains (None when a domain is missing)


@dataclass(frozen=True)
class StudyAssessment:
    """One study's assessment with one tool."""

    study_id: str
    tool: Tool
    version: str
    rows: tuple[RiskOfBias, ...]

    @property
    def assessed_by(self) -> str:
        return "; ".join(dict.fromkeys(r.assessed_by for r in self.rows))

    @property
    def assessed_on(self) -> date:
        """The latest date of its judgements."""
        return max(r.assessed_on for r in self.rows)

    @property
    def reference(self) -> str:
        return self.tool.versions.get(self.version, "")

    def outcomes(self) -> list[str]:
        """Outcomes with judgements of their own, in file order."""
        return list(dict.fromkeys(r.outcome for r in self.rows if r.outcome is not None))

    def domains_for(self, outcome: str | None) -> dict[str, RiskOfBias | None]:
        """Domain id -> the judgement that holds for `outcome` (None: every outcome), in the tool's order."""
        general = {r.domain: r for r in self.rows if r.outcome is None and r.domain != OVERALL}
        specific = {r.domain: r for r in self.rows if outcome is not None and r.outcome == outcome}
        return {d.id: specific.get(d.id) or general.get(d.id) for d in self.tool.domains}

    def recorded_overall(self, outcome: str | None) -> RiskOfBias | None:
        """The assessor's overall row for `outcome`, else for every outcome."""
        rows = [r for r in self.rows if r.domain == OVERALL]
        return next((r for r in rows if r.outcome == outcome and outcome is not None), None) or next(
            (r for r in rows if r.outcome is None), None
        )

    def computed_overall(self, outcome: str | None) -> str | None:
        """The tool's rule from the domains that hold for `outcome`; None when a domain is not judged."""
        judged = self.domains_for(outcome)
        if any(r is None for r in judged.values()):
            return None
        return self.tool.overall(r.judgement for r in judged.values() if r is not None)

    def overall(self, outcome: str | None) -> str | None:
        """The overall judgement for `outcome`: the recorded one, else the tool's rule (None: incomplete)."""
        row = self.recorded_overall(outcome)
        return row.judgement if row is not None else self.computed_overall(outcome)

    def profiles(self) -> list[Profile]:
        """Rows of the traffic-light plot: outcomes whose judgements are all the same share a row.

        Without outcome-specific judgements, one row for every outcome; with them, one row per group of
        outcomes, and a row for the other outcomes when the study-wide judgements are complete.
        """
        groups: dict[tuple, list[str]] = {}
        for outcome in self.outcomes():
            key = self._key(outcome)
            groups.setdefault(key, []).append(outcome)
        out = [self._profile(tuple(names)) for names in groups.values()]
        general = self.domains_for(None)
        if not out or all(r is not None for r in general.values()):
            out.append(self._profile(()))
        return out

    def _key(self, outcome: str | None) -> tuple:
        judged = self.domains_for(outcome)
        row = self.recorded_overall(outcome)
        return (*(r.judgement if r else None for r in judged.values()), row.judgement if row else None)

    def _profile(self, outcomes: tuple[str, ...]) -> Profile:
        outcome = outcomes[0] if outcomes else None
        row = self.recorded_overall(outcome)
        return Profile(
            outcomes=outcomes,
            domains=self.domains_for(outcome),
            overall=self.overall(outcome),
            overall_row=row,
            computed=self.computed_overall(outcome),
        )

    def domain(self, domain_id: str) -> Domain | None:
        return self.tool.domain(domain_id)


def assessments(package: EvidencePackage) -> dict[str, StudyAssessment]:
    """study_id -> its assessment (cached on the package). Rows of another tool than the study's first row's
    are left out: validation reports them."""
    key = ("appraisal-assessments",)
    if key not in package.memo:
        rows: dict[str, list[RiskOfBias]] = {}
        for r in package.rows("risk_of_bias"):
            rows.setdefault(r.study_id, []).append(r)
        out = {}
        for sid, mine in rows.items():
            tool = TOOLS.get(mine[0].tool)
            if tool is None:
                continue
            kept = tuple(r for r in mine if r.tool == tool.id and r.tool_version == mine[0].tool_version)
            out[sid] = StudyAssessment(sid, tool, mine[0].tool_version, kept)
        package.memo[key] = out
    return package.memo[key]


def assessment_of(package: EvidencePackage, study_id: str) -> StudyAssessment | None:
    """A study's assessment, or None when it has not been assessed."""
    return assessments(package).get(study_id)


def overall_for(package: EvidencePackage, study_id: str, outcome: str | None) -> str | None:
    """A study's overall judgement for an outcome; None when it is not (completely) assessed."""
    a = assessment_of(package, study_id)
    return a.overall(outcome) if a is not None else None


def expected_tool(package: EvidencePackage, study_id: str) -> Tool:
    """The tool the study's design calls for."""
    study = package.studies.get(study_id)
    return tool_for_design(study.design if study else None)
