"""Typed model of the evidence package: one frozen dataclass per table row, and the package as a whole.

Field names equal the CSV column names so that loading is a plain mapping; empty cells become None.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livingevidence.vocabulary import Vocabulary


@dataclass(frozen=True)
class Study:
    study_id: str
    label: str
    title: str | None
    authors: str | None
    journal: str | None
    year: int | None
    publication_date: date | None
    doi: str | None
    pmid: str | None
    url: str | None
    pages: str | None
    design: str
    centres: int | None
    country: str | None
    enrolment_start: str | None
    enrolment_end: str | None
    follow_up_end: str | None
    follow_up_median_months: float | None
    line_of_therapy: str | None
    setting: str | None
    matching: str | None
    response_criteria: str | None
    ae_grading: str | None
    source_kind: str
    source_file: str
    extracted_by: str
    checked_by: str | None
    extraction_date: date
    note: str | None

    @property
    def author_list(self) -> list[str]:
        """Authors as a list, in printed order."""
        return [a.strip() for a in (self.authors or "").split(";") if a.strip()]

    @property
    def sort_key(self) -> tuple:
        """Publication order for cumulative analyses: dated studies first, undated last, then by id."""
        when = self.publication_date or (date(self.year, 12, 31) if self.year else None)
        return (when is None, when or date.max, self.study_id)


@dataclass(frozen=True)
class Intervention:
    intervention_id: str
    label: str
    class_: str
    atc_code: str | None
    note: str | None
    # Other names the papers print (a class's agents, brand names, abbreviations), ";"-separated; optional column.
    synonyms: str | None = None


@dataclass(frozen=True)
class Regimen:
    regimen_id: str
    label: str
    short_label: str
    note: str | None


@dataclass(frozen=True)
class RegimenComponent:
    regimen_id: str
    intervention_id: str


@dataclass(frozen=True)
class Arm:
    arm_id: str
    study_id: str
    label: str
    regimen_id: str
    description: str | None
    source: str


@dataclass(frozen=True)
class Population:
    population_id: str
    study_id: str
    label: str
    kind: str
    primary: bool
    disjoint_set: str | None
    parent_population_id: str | None
    description: str | None
    source: str


@dataclass(frozen=True)
class PopulationArm:
    population_id: str
    arm_id: str
    n: int | None  # None: the paper does not print the arm's size in this population
    source: str


@dataclass(frozen=True)
class Baseline:
    population_id: str
    arm_id: str | None
    characteristic: str
    category: str
    count: int | None
    percent: float | None
    statistic: str | None
    value: float | None
    spread_low: float | None
    spread_high: float | None
    p_value: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Survival:
    population_id: str
    arm_id: str
    outcome: str
    median_months: float | None
    ci_low: float | None
    ci_high: float | None
    ci_kind: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Landmark:
    population_id: str
    arm_id: str
    outcome: str
    time_months: float
    rate_percent: float
    ci_low: float | None
    ci_high: float | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Effect:
    population_id: str
    outcome: str
    criterion: str
    intervention_arm_id: str
    control_arm_id: str
    measure: str
    analysis: str
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: str | None
    model: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class PrognosticFactor:
    population_id: str
    outcome: str
    factor: str
    level: str
    reference_level: str | None
    n: int | None
    analysis: str
    hr: float
    ci_low: float | None
    ci_high: float | None
    p_value: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Response:
    population_id: str
    arm_id: str
    criterion: str
    n_evaluable: int
    cr: int | None
    pr: int | None
    sd: int | None
    pd: int | None
    orr_n: int | None
    orr_percent: float | None
    dcr_n: int | None
    dcr_percent: float | None
    source: str
    note: str | None

    @property
    def orr_events(self) -> int | None:
        """Objective responses from the counts (CR+PR), else the printed ORR count."""
        if self.cr is not None and self.pr is not None:
            return self.cr + self.pr
        return self.orr_n

    @property
    def dcr_events(self) -> int | None:
        """Disease control from the counts (CR+PR+SD), else the printed DCR count."""
        if None not in (self.cr, self.pr, self.sd):
            return self.cr + self.pr + self.sd  # type: ignore[operator]
        return self.dcr_n


@dataclass(frozen=True)
class BinaryOutcome:
    population_id: str
    arm_id: str
    outcome: str
    events: int | None
    n: int | None
    percent: float | None
    p_value: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class AdverseEvent:
    population_id: str
    arm_id: str | None
    category: str
    term: str
    grade: str
    events: int | None
    n_at_risk: int
    percent: float | None
    p_value: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Subgroup:
    subgroup_id: str
    study_id: str
    population_id: str | None
    arm_id: str | None
    variable: str
    level: str
    outcome: str
    median_months: float
    ci_low: float | None
    ci_high: float | None
    p_value: str | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Comparison:
    comparison_id: str
    title: str
    question: str
    parent_comparison_id: str | None
    order: int
    subgroup_by: str | None  # a population attribute whose levels split the analyses (an effect modifier)
    main_level: str | None  # the level the main analysis keeps (None: pool across the levels)
    headline_outcomes: str | None  # outcome ids, ';'-separated: the answer on the first screen
    note: str | None

    @property
    def headlines(self) -> list[str]:
        """The headline outcome ids, in the order given."""
        return [o.strip() for o in (self.headline_outcomes or "").split(";") if o.strip()]


@dataclass(frozen=True)
class PopulationAttribute:
    """A fact about a population that may modify an effect (prior exposure, line of therapy), as printed."""

    population_id: str
    attribute: str
    value: str
    source: str
    note: str | None


@dataclass(frozen=True)
class ComparisonPair:
    comparison_id: str
    intervention_regimen_id: str
    control_regimen_id: str


@dataclass(frozen=True)
class Certainty:
    """The maintainers' decision on the rules' proposed GRADE rating of one comparison x outcome: confirmed as
    proposed, or overridden with a reason. `analysis` names one analysis (its key); empty: every analysis of
    the outcome in the comparison."""

    comparison_id: str
    outcome: str
    analysis: str | None
    decision: str  # confirmed | overridden
    proposed_rating: str  # what the rules proposed when the maintainers decided
    rating: str
    reason: str | None
    assessed_by: str
    assessed_on: date


@dataclass(frozen=True)
class RiskOfBias:
    """One domain-level risk-of-bias judgement (or the overall one) of a study, for all outcomes or one.

    An appraisal by the summary's maintainers, not a fact of the paper: the support says why, the location
    where in the paper. Tools, domains and scales: analysis/appraisal/tools.py.
    """

    study_id: str
    tool: str
    tool_version: str
    outcome: str | None  # None: every outcome of the study
    domain: str
    judgement: str
    support: str | None
    location: str | None
    assessed_by: str
    assessed_on: date


@dataclass(frozen=True)
class Indirectness:
    """A concern of the maintainers about how directly a study answers a comparison's question (GRADE
    indirectness: population, intervention, comparator or outcome), with its support and location."""

    comparison_id: str
    study_id: str
    outcome: str | None  # None: the concern applies to every outcome
    concern: str  # population | intervention | comparator | outcome
    support: str | None
    location: str | None
    assessed_by: str
    assessed_on: date


@dataclass(frozen=True)
class ContinuousOutcome:
    """Arm-level summary of a continuous outcome: mean, SD and n are pooled; medians and IQRs are shown only."""

    population_id: str
    arm_id: str
    outcome: str
    criterion: str | None
    n: int | None
    mean: float | None
    sd: float | None
    median: float | None
    iqr_low: float | None
    iqr_high: float | None
    source: str
    note: str | None


@dataclass(frozen=True)
class Outcome:
    """One row of the outcome vocabulary: what an outcome is, how it is analysed, which way is better."""

    outcome_id: str
    label: str
    short_label: str
    phrase: str
    kind: str  # time-to-event | binary | continuous
    unit: str | None
    higher_is_better: bool | None
    default_measure: str
    mid: float | None
    mid_reason: str | None
    order: int
    counts_from: str | None
    summary_terms: str | None
    description: str | None

    @property
    def terms_in_summary(self) -> list[str]:
        """Adverse-event terms (case-folded) shown in the summary of findings."""
        return [t.strip().casefold() for t in (self.summary_terms or "").split(";") if t.strip()]


@dataclass(frozen=True)
class Label:
    """Words for a coded value of a table's field, and the name it pools under (for outcome definitions)."""

    table: str
    field: str
    value: str
    label: str
    pool_as: str | None


@dataclass(frozen=True)
class GlossaryTerm:
    """A term of the topic (a criterion, a procedure, an abbreviation) and what it means, for the glossary."""

    term: str
    definition: str


@dataclass(frozen=True)
class ExtractionNote:
    note_id: str
    study_id: str
    topic: str
    note: str
    source: str


@dataclass(frozen=True)
class Topic:
    """What a summary is about, from the descriptor's `topic` property: the home page's heading and scope."""

    title: str
    description: str
    population: str = ""
    interventions: str = ""
    outcomes: str = ""
    designs: str = ""
    maintainers: tuple[str, ...] = ()


@dataclass(frozen=True)
class PackageInfo:
    name: str
    title: str
    description: str
    version: str
    created: str
    license: str
    topic: Topic = field(default_factory=lambda: Topic("", ""))
    # The descriptor's "analysis" property: the project's pooling settings (tau2_method, ci_method, pi_type).
    analysis: dict = field(default_factory=dict)

    @property
    def date(self) -> str:
        """The release date (YYYY-MM-DD) of this data version."""
        return self.created[:10]


# Table name -> row class; load.py reads each CSV into a list of these.
ROW_TYPES: dict[str, type] = {
    "studies": Study,
    "interventions": Intervention,
    "regimens": Regimen,
    "regimen_components": RegimenComponent,
    "arms": Arm,
    "populations": Population,
    "population_arms": PopulationArm,
    "population_attributes": PopulationAttribute,
    "baseline": Baseline,
    "survival": Survival,
    "landmarks": Landmark,
    "effects": Effect,
    "prognostic_factors": PrognosticFactor,
    "response": Response,
    "binary_outcomes": BinaryOutcome,
    "adverse_events": AdverseEvent,
    "subgroups": Subgroup,
    "comparisons": Comparison,
    "comparison_pairs": ComparisonPair,
    "certainty": Certainty,
    "risk_of_bias": RiskOfBias,
    "indirectness": Indirectness,
    "continuous_outcomes": ContinuousOutcome,
    "outcomes": Outcome,
    "labels": Label,
    "glossary": GlossaryTerm,
    "extraction_notes": ExtractionNote,
}
# Tables every summary has; any other table may be left out of a package (its rows are then empty).
REQUIRED_TABLES = (
    "studies",
    "interventions",
    "regimens",
    "regimen_components",
    "arms",
    "populations",
    "population_arms",
    "comparisons",
    "comparison_pairs",
    "outcomes",
)


@dataclass(frozen=True)
class EvidencePackage:
    """All tables of one data version, with the look-ups pages need."""

    info: PackageInfo
    tables: dict[str, list] = field(repr=False)
    # table -> {column: its title} for the columns the package's schema has (in schema order)
    columns: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)

    def rows(self, table: str) -> list:
        """Rows of one table, in file order."""
        return self.tables[table]

    # --- look-ups -----------------------------------------------------------------------------
    @cached_property
    def vocabulary(self) -> Vocabulary:
        """The topic's outcomes and labels (see vocabulary.py)."""
        from livingevidence.vocabulary import Vocabulary

        return Vocabulary.of(self.tables.get("outcomes", ()), self.tables.get("labels", ()))

    @cached_property
    def studies(self) -> dict[str, Study]:
        return {s.study_id: s for s in self.tables["studies"]}

    @cached_property
    def arms(self) -> dict[str, Arm]:
        return {a.arm_id: a for a in self.tables["arms"]}

    @cached_property
    def regimens(self) -> dict[str, Regimen]:
        return {r.regimen_id: r for r in self.tables["regimens"]}

    @cached_property
    def interventions(self) -> dict[str, Intervention]:
        return {i.intervention_id: i for i in self.tables["interventions"]}

    @cached_property
    def populations(self) -> dict[str, Population]:
        return {p.population_id: p for p in self.tables["populations"]}

    @cached_property
    def comparisons(self) -> dict[str, Comparison]:
        ordered = sorted(self.tables["comparisons"], key=lambda c: (c.order, c.comparison_id))
        return {c.comparison_id: c for c in ordered}

    @cached_property
    def arm_n(self) -> dict[tuple[str, str], int]:
        """(population_id, arm_id) -> n, for the arms whose size is known."""
        return {(pa.population_id, pa.arm_id): pa.n for pa in self.tables["population_arms"] if pa.n is not None}

    @cached_property
    def population_attributes(self) -> dict[tuple[str, str], str]:
        """(population_id, attribute) -> value."""
        return {(a.population_id, a.attribute): a.value for a in self.tables["population_attributes"]}

    @cached_property
    def population_arms(self) -> set[tuple[str, str]]:
        """(population_id, arm_id) of every arm listed in a population, with or without its size."""
        return {(pa.population_id, pa.arm_id) for pa in self.tables["population_arms"]}

    @cached_property
    def regimen_components(self) -> dict[str, list[Intervention]]:
        out: dict[str, list[Intervention]] = defaultdict(list)
        for rc in self.tables["regimen_components"]:
            out[rc.regimen_id].append(self.interventions[rc.intervention_id])
        return dict(out)

    @cached_property
    def memo(self) -> dict:
        """Per-package cache for derived look-ups (indexes built once, not once per study or comparison)."""
        return {}

    def by_study(self, table: str) -> dict[str, list]:
        """Rows of a table grouped by study (through their population, arm or study_id column).

        Built once per table and cached: callers must not modify the lists.
        """
        key = ("by_study", table)
        if key not in self.memo:
            out: dict[str, list] = defaultdict(list)
            for row in self.tables[table]:
                out[self.study_of(row)].append(row)
            self.memo[key] = out
        return self.memo[key]

    def study_of(self, row: object) -> str:
        """The study a row belongs to."""
        sid = getattr(row, "study_id", None)
        if sid:
            return sid
        pid = getattr(row, "population_id", None)
        if pid:
            return self.populations[pid].study_id
        aid = getattr(row, "arm_id", None)
        if aid:
            return self.arms[aid].study_id
        raise ValueError(f"row has no study: {row!r}")

    @cached_property
    def _arms_by_study(self) -> dict[str, list[Arm]]:
        out: dict[str, list[Arm]] = defaultdict(list)
        for a in self.tables["arms"]:
            out[a.study_id].append(a)
        return out

    @cached_property
    def _populations_by_study(self) -> dict[str, list[Population]]:
        out: dict[str, list[Population]] = defaultdict(list)
        for p in self.tables["populations"]:
            out[p.study_id].append(p)
        return out

    @cached_property
    def _patients(self) -> dict[str, int]:
        totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for pa in self.tables["population_arms"]:
            totals[self.populations[pa.population_id].study_id][pa.population_id] += pa.n or 0
        return {sid: max(t.values(), default=0) for sid, t in totals.items()}

    @cached_property
    def arms_by_regimen(self) -> dict[str, list[Arm]]:
        """regimen_id -> its arms, in file order."""
        out: dict[str, list[Arm]] = defaultdict(list)
        for a in self.tables["arms"]:
            out[a.regimen_id].append(a)
        return out

    @cached_property
    def max_arm_n(self) -> dict[str, int]:
        """arm_id -> its largest n over the populations it is in."""
        out: dict[str, int] = {}
        for (_pop, arm), n in self.arm_n.items():
            out[arm] = max(out.get(arm, n), n)
        return out

    def arms_of(self, study_id: str) -> list[Arm]:
        """Arms of a study, in file order (a new list)."""
        return list(self._arms_by_study.get(study_id, ()))

    def populations_of(self, study_id: str) -> list[Population]:
        """Populations of a study, in file order (a new list)."""
        return list(self._populations_by_study.get(study_id, ()))

    def patients(self, study_id: str) -> int:
        """Patients of a study: the largest population total (populations nest or partition)."""
        return self._patients.get(study_id, 0)

    def regimen_order(self) -> list[str]:
        """Regimen ids in package order: the order colours are assigned in."""
        return [r.regimen_id for r in self.tables["regimens"]]
