"""What may be pooled with what: which study arms and populations answer a comparison.

Rules (explained on every comparison page):
- a study contributes when it has an arm of the intervention regimen AND an arm of the control regimen
  of one of the comparison's regimen pairs; single-arm studies never enter a comparative pool;
- overlapping populations of the same patients are never pooled together: per study and outcome, the
  populations of a declared disjoint set are used when they report the outcome, else the primary one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from livingevidence.model import Arm, EvidencePackage, Population, Study


@dataclass(frozen=True)
class Contrast:
    """One study population giving an intervention arm and a control arm for a comparison."""

    study: Study
    population: Population
    intervention: Arm
    control: Arm
    n_intervention: int
    n_control: int

    @property
    def label(self) -> str:
        """Row label in forest plots: study label plus the population when it is not the only one."""
        return (
            f"{self.study.label}, {self.population.label}" if self.population.kind != "overall" else (self.study.label)
        )


@dataclass(frozen=True)
class Exclusion:
    """A study or population that does not enter the comparison, and why."""

    study: Study
    population: Population | None
    reason: str


def _pairs_of(package: EvidencePackage, comparison_id: str) -> list:
    key = ("comparison_pairs", comparison_id)
    if key not in package.memo:
        package.memo[key] = [p for p in package.rows("comparison_pairs") if p.comparison_id == comparison_id]
    return package.memo[key]


def _studies_with_regimens(package: EvidencePackage, regimens: set[str]) -> set[str]:
    return {a.study_id for r in regimens for a in package.arms_by_regimen.get(r, ())}


def study_arm_pairs(package: EvidencePackage, comparison_id: str) -> dict[str, list[tuple[Arm, Arm]]]:
    """study_id -> (intervention arm, control arm) pairs matching the comparison's regimen pairs.

    Computed once per comparison and cached on the package (callers must not modify the result).
    """
    key = ("study_arm_pairs", comparison_id)
    if key not in package.memo:
        package.memo[key] = _study_arm_pairs(package, comparison_id)
    return package.memo[key]


def _study_arm_pairs(package: EvidencePackage, comparison_id: str) -> dict[str, list[tuple[Arm, Arm]]]:
    pairs = _pairs_of(package, comparison_id)
    # Only studies with an arm of an intervention regimen can match; package order is kept.
    candidates = _studies_with_regimens(package, {p.intervention_regimen_id for p in pairs})
    out: dict[str, list[tuple[Arm, Arm]]] = {}
    for study_id in package.studies:
        if study_id not in candidates:
            continue
        arms = package.arms_of(study_id)
        found = []
        for pair in pairs:
            found += [
                (i, c)
                for i in arms
                if i.regimen_id == pair.intervention_regimen_id
                for c in arms
                if c.regimen_id == pair.control_regimen_id
            ]
        if found:
            out[study_id] = found
    return out


def related_single_arm_studies(package: EvidencePackage, comparison_id: str) -> list[Exclusion]:
    """Studies with an arm of a comparison's regimen but no comparator arm: shown, never pooled."""
    pairs = _pairs_of(package, comparison_id)
    regimens = {p.intervention_regimen_id for p in pairs} | {p.control_regimen_id for p in pairs}
    contributing = study_arm_pairs(package, comparison_id)
    candidates = _studies_with_regimens(package, regimens)
    out = []
    for study_id, study in package.studies.items():
        if study_id in contributing or study_id not in candidates:
            continue
        if any(a.regimen_id in regimens for a in package.arms_of(study_id)):
            reason = (
                "single-arm study: no comparator arm, so it cannot enter a comparative pool"
                if len(package.arms_of(study_id)) == 1
                else "has an arm of one regimen of this comparison but not of the other"
            )
            out.append(Exclusion(study, None, reason))
    return out


#: A population filter: the reason a population stays out of an analysis, or None to keep it.
Keep = Callable[[Population], str | None]


@dataclass(frozen=True)
class Selection:
    """Which populations of a comparison an analysis may use: the comparison, and an optional filter (the
    comparison's effect modifier keeps its main level only; see synthesis.py)."""

    package: EvidencePackage
    comparison_id: str
    keep: Keep | None = None

    def choose(self, reports: Callable[[Population, Arm, Arm], bool]) -> tuple[list[Contrast], list[Exclusion]]:
        """choose_contrasts for this comparison, with this selection's filter."""
        return choose_contrasts(self.package, self.comparison_id, reports, keep=self.keep)


def choose_contrasts(
    package: EvidencePackage,
    comparison_id: str,
    reports: Callable[[Population, Arm, Arm], bool],
    keep: Keep | None = None,
) -> tuple[list[Contrast], list[Exclusion]]:
    """Pick, per study, the populations whose patients may be pooled for an outcome.

    `reports(population, intervention_arm, control_arm)` says whether the population reports the outcome;
    `keep(population)`, when given, names the reason a chosen population is left out (an effect modifier).
    """
    chosen: list[Contrast] = []
    excluded: list[Exclusion] = []
    for study_id, arm_pairs in study_arm_pairs(package, comparison_id).items():
        study = package.studies[study_id]
        populations = package.populations_of(study_id)
        for intervention, control in arm_pairs:
            with_data = [p for p in populations if reports(p, intervention, control)]
            if not with_data:
                excluded.append(Exclusion(study, None, "does not report this outcome for these arms"))
                continue
            disjoint = [p for p in with_data if p.disjoint_set]
            if disjoint:
                # Only one disjoint set may be used; take the first declared so the choice is stable.
                first_set = disjoint[0].disjoint_set
                use = [p for p in disjoint if p.disjoint_set == first_set]
                why = f"overlaps the {first_set.replace('-', ' ')} populations used instead"
            else:
                use = [p for p in with_data if p.primary]
                why = "overlaps the primary population used instead (same patients)"
                if not use:
                    excluded.append(Exclusion(study, None, "no primary population reports this outcome"))
                    continue
            for p in with_data:
                if p not in use:
                    excluded.append(Exclusion(study, p, why))
            for p in use:
                reason = keep(p) if keep is not None else None
                if reason is not None:
                    excluded.append(Exclusion(study, p, reason))
                    continue
                chosen.append(
                    Contrast(
                        study=study,
                        population=p,
                        intervention=intervention,
                        control=control,
                        n_intervention=package.arm_n.get((p.population_id, intervention.arm_id), 0),
                        n_control=package.arm_n.get((p.population_id, control.arm_id), 0),
                    )
                )
    chosen.sort(key=lambda c: (c.study.sort_key, c.population.population_id))
    return chosen, excluded
