"""Effect modifiers: a comparison may split its analyses by a population attribute (subgroup_by).

Populations that differ in a declared effect modifier are not pooled together in the main analysis: with
``main_level`` set, the main analysis keeps the populations at that level and names the others as left out;
every analysis whose populations span two or more levels gets a subgroup analysis (each level pooled apart,
with RevMan's test for subgroup differences and metafor's moderator test, pooling.subgroup_analysis).
Without ``main_level`` the main analysis pools across the levels, as the comparison then says it may.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from livingevidence.analysis import pooling
from livingevidence.analysis.selection import Keep
from livingevidence.analysis.synthesis_model import OutcomeAnalysis, StudyRow, settings_of
from livingevidence.model import Comparison, EvidencePackage, Population

NOT_REPORTED_LEVEL = "not-reported"


@dataclass
class SubgroupAnalysis:
    """One analysis split by the comparison's effect modifier: its rows by level, and the pooled result."""

    attribute: str
    levels: list[str]
    rows: list[tuple[str, StudyRow]] = field(default_factory=list)  # (level, row), in the analysis' order
    result: pooling.SubgroupAnalysis | None = None

    def to_dict(self) -> dict:
        return {
            "attribute": self.attribute,
            "levels": self.levels,
            "rows": [{"level": level, **row.to_dict()} for level, row in self.rows],
            "result": self.result.to_dict() if self.result else None,
        }


def level_of(package: EvidencePackage, attribute: str, population_id: str) -> str:
    """A population's level of an attribute ('not-reported' when the package does not give it)."""
    return package.population_attributes.get((population_id, attribute), NOT_REPORTED_LEVEL)


def main_filter(package: EvidencePackage, comparison: Comparison) -> Keep | None:
    """The filter of the main analysis: populations at another level than main_level stay out, with the reason."""
    attribute, main = comparison.subgroup_by, comparison.main_level
    if not attribute or not main:
        return None
    voc = package.vocabulary
    name = voc.label("population_attributes", "attribute", attribute)
    wanted = voc.label("population_attributes", "value", main)

    def keep(population: Population) -> str | None:
        level = level_of(package, attribute, population.population_id)
        if level == main:
            return None
        shown = voc.label("population_attributes", "value", level)
        return (
            f"{name}: {shown}, while the main analysis keeps '{wanted}' (an effect modifier this comparison "
            "declares); shown in the subgroup analysis"
        )

    return keep


def add_subgroups(
    package: EvidencePackage, comparison: Comparison, main: list[OutcomeAnalysis], every: list[OutcomeAnalysis]
) -> None:
    """Attach a subgroup analysis to each main analysis shown as a forest plot whose unrestricted rows
    (``every``) span two levels."""
    attribute = comparison.subgroup_by
    if not attribute:
        return
    by_key = {a.key: a for a in every}
    settings = settings_of(package)
    voc = package.vocabulary
    for a in main:
        outcome = voc.outcome(a.outcome)
        # The forest plots of the page only (the outcome's default measure; not one per adverse-event term).
        if a.source == "per-term" or outcome is None or a.measure != outcome.default_measure:
            continue
        full = by_key.get(a.key)
        if full is None or not full.rows:
            continue
        levelled = [(level_of(package, attribute, r.population_id), r) for r in full.rows]
        levels = list(dict.fromkeys(level for level, _ in levelled))
        if len(levels) < 2:
            continue
        sub = SubgroupAnalysis(attribute, levels, levelled)
        sub.result = pooling.subgroup_analysis(
            [r.yi for _, r in levelled],
            [r.vi for _, r in levelled],
            [level for level, _ in levelled],
            [r.label for _, r in levelled],
            settings=settings,
        )
        a.subgroups = sub
