"""The tables of a study page, one function per section; a section without rows gives None.

Words for coded values come from the topic's labels (labels.csv) and outcome names from its vocabulary, so
a new value or outcome needs a data row, never a code change.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from livingevidence.model import Arm, EvidencePackage, Population, Study
from livingevidence.pages.common import Table, median_ci, n_pct
from livingevidence.pages.render import NOT_REPORTED, ci, fmt_num
from livingevidence.vocabulary import NO_CRITERION

# Optional descriptive columns of studies.csv, shown (with their schema title) when the topic's schema has them.
OPTIONAL_STUDY_FIELDS = ("line_of_therapy", "setting", "matching", "response_criteria", "ae_grading")
CODED_STUDY_FIELDS = {"line_of_therapy", "matching"}
EFFECT_HEADERS = ["Population", "Outcome", "Comparison", "Measure", "Analysis", "Estimate (95% CI)", "p", "Model"]
EFFECT_HEADERS += ["Source", "Note"]
RESPONSE_HEADERS = ["Population", "Arm", "Criterion", "n evaluable", "CR", "PR", "SD", "PD", "ORR as printed"]
RESPONSE_HEADERS += ["DCR as printed", "Source"]


def or_nr(value: object) -> str:
    """The value, or 'not reported' when empty."""
    return NOT_REPORTED if value in (None, "") else str(value)


class Names:
    """Readable names of one package's populations, arms, outcomes and coded values."""

    def __init__(self, package: EvidencePackage) -> None:
        self.package = package
        self.voc = package.vocabulary

    def population(self, population_id: str | None) -> str:
        return self.package.populations[population_id].label if population_id else "Not stated"

    def arm(self, arm_id: str | None) -> str:
        return self.package.arms[arm_id].label if arm_id else "All arms"

    def outcome(self, outcome_id: str, criterion: str | None = None) -> str:
        o = self.voc.outcome(outcome_id)
        name = o.short_label if o else outcome_id
        return name if criterion in (None, "", NO_CRITERION) else f"{name} ({criterion})"

    def code(self, table: str, field: str, value: str | None) -> str:
        return self.voc.label(table, field, value, missing=NOT_REPORTED)


def design_table(package: EvidencePackage, study: Study) -> Table:
    """Design and setting: the generator's fields, then the optional ones the topic's schema has."""
    names = Names(package)
    rows = [
        ["Design", names.code("studies", "design", study.design)],
        ["Centres", or_nr(study.centres)],
        ["Country", or_nr(study.country)],
        ["Enrolment", f"{or_nr(study.enrolment_start)} to {or_nr(study.enrolment_end)}"],
        ["Last follow-up", or_nr(study.follow_up_end)],
        ["Median follow-up (months)", or_nr(study.follow_up_median_months)],
    ]
    columns = package.columns.get("studies", {})
    for name in OPTIONAL_STUDY_FIELDS:
        if name not in columns:
            continue
        value = getattr(study, name)
        shown = names.code("studies", name, value) if name in CODED_STUDY_FIELDS else or_nr(value)
        rows.append([columns[name], shown])
    return Table(["Item", "Value"], rows, caption="Design and setting", kind="pairs")


def glance_table(package: EvidencePackage, study: Study, effects: list) -> Table:
    """The study on one screen: design, size, arms, follow-up, what it reports and its printed main results."""
    names = Names(package)
    sid = study.study_id
    arms = ", ".join(
        f"{a.label} ({package.regimens[a.regimen_id].label}, n={package.max_arm_n.get(a.arm_id, '?')})"
        for a in package.arms_of(sid)
    )
    reported = sorted(
        {
            (names.voc.outcome(r.outcome).phrase if names.voc.outcome(r.outcome) else r.outcome)
            for t in ("survival", "effects", "binary_outcomes", "continuous_outcomes")
            for r in package.by_study(t).get(sid, [])
        }
    )
    if package.by_study("response").get(sid):
        reported.append("tumour response")
    if package.by_study("adverse_events").get(sid):
        reported.append("adverse events")
    rows = [
        ["Design", names.code("studies", "design", study.design)],
        ["Patients", str(package.patients(sid) or NOT_REPORTED)],
        ["Arms", arms or NOT_REPORTED],
        [
            "Median follow-up",
            f"{or_nr(study.follow_up_median_months)} months" if study.follow_up_median_months else NOT_REPORTED,
        ],
        ["Reports", ", ".join(reported) or "no results"],
    ]
    main = [e for e in effects if e.estimate is not None][:3]
    if main:
        rows.append(
            [
                "Main results as printed",
                "; ".join(
                    f"{names.outcome(e.outcome, e.criterion)} {e.measure} {fmt_num(e.estimate)} "
                    f"({ci(e.ci_low, e.ci_high)}), {names.population(e.population_id)}"
                    for e in main
                ),
            ]
        )
    return Table(["Item", "Value"], rows, caption="At a glance", kind="pairs")


def arms_table(package: EvidencePackage, arms: list[Arm]) -> Table:
    """The arms with the paper's own labels and their regimens."""
    return Table(
        ["Arm (paper's label)", "Regimen", "Description", "Source"],
        [[a.label, package.regimens[a.regimen_id].label, or_nr(a.description), a.source] for a in arms],
        caption="Arms",
    )


def populations_table(package: EvidencePackage, arms: list[Arm], pops: list[Population]) -> Table:
    """The analysis populations, their role in pooling and their size per arm."""
    names = Names(package)
    rows = []
    for p in pops:
        sizes = ", ".join(
            f"{a.label} {package.arm_n.get((p.population_id, a.arm_id), 'n not reported')}"
            for a in arms
            if (p.population_id, a.arm_id) in package.population_arms
        )
        role = (
            "primary"
            if p.primary
            else ("disjoint set: " + p.disjoint_set.replace("-", " ") if p.disjoint_set else "secondary")
        )
        kind = names.code("populations", "kind", p.kind)
        rows.append([p.label, kind, role, sizes or NOT_REPORTED, or_nr(p.description), p.source])
    return Table(
        ["Population", "Kind", "Role in pooling", "Patients per arm", "Definition", "Source"],
        rows,
        caption="Analysis populations",
    )


def baseline_tables(package: EvidencePackage, arms: list[Arm], rows: list) -> list[Table]:
    """One table per population, a column per arm (plus whole-population figures)."""
    names = Names(package)
    tables = []
    by_pop: dict[str, list] = defaultdict(list)
    for b in rows:
        by_pop[b.population_id].append(b)
    for pid, pop_rows in by_pop.items():
        cols = [a for a in arms if any(b.arm_id == a.arm_id for b in pop_rows)]
        has_all = any(b.arm_id is None for b in pop_rows)
        keyed: dict[tuple[str, str], dict] = {}
        for b in pop_rows:
            cell = keyed.setdefault((b.characteristic, b.category), {"p": None, "source": b.source})
            cell[b.arm_id] = baseline_value(b)
            cell["p"] = cell["p"] or b.p_value
        headers = ["Characteristic", *[f"{a.label} (n={package.arm_n.get((pid, a.arm_id), '?')})" for a in cols]]
        if has_all:
            headers.append("All patients")
        headers += ["p", "Source"]
        trs = []
        for (char, cat), cell in keyed.items():
            name = names.code("baseline", "characteristic", char) + ("" if cat == "all" else f": {cat}")
            tr = [name, *[cell.get(a.arm_id, "") for a in cols]]
            if has_all:
                tr.append(cell.get(None, ""))
            tr += [cell["p"] or "", cell["source"]]
            trs.append(tr)
        tables.append(Table(headers, trs, caption=f"Baseline characteristics: {names.population(pid)}"))
    return tables


def baseline_value(b) -> str:
    """A baseline cell: n (%) or mean ± SD or median (IQR or range), saying what is missing."""
    if b.statistic == "mean-sd" and b.spread_low is None:
        return f"{fmt_num(b.value)} (mean; SD not reported)"
    if b.statistic == "mean-sd":
        return f"{fmt_num(b.value)} ± {fmt_num(b.spread_low)} (mean ± SD)"
    if b.statistic in ("median-iqr", "median-range"):
        kind = "IQR" if b.statistic == "median-iqr" else "range"
        return f"{fmt_num(b.value)} ({fmt_num(b.spread_low)} to {fmt_num(b.spread_high)}; median, {kind})"
    return n_pct(b.count, b.percent)


def _table(rows: list, headers: list[str], caption: str, cells: Callable[[object], list]) -> Table | None:
    return Table(headers, [cells(r) for r in rows], caption=caption) if rows else None


def survival_table(package: EvidencePackage, rows: list) -> Table | None:
    """Median time to event per arm, as printed."""
    n = Names(package)
    return _table(
        rows,
        ["Population", "Arm", "Outcome", "Median, months (95% CI)", "Interval as printed", "Source", "Note"],
        "Median time-to-event per arm",
        lambda s: [
            n.population(s.population_id),
            n.arm(s.arm_id),
            n.outcome(s.outcome),
            median_ci(s.median_months, s.ci_low, s.ci_high),
            s.ci_kind or "",
            s.source,
            s.note or "",
        ],
    )


def landmarks_table(package: EvidencePackage, rows: list) -> Table | None:
    """Landmark rates (e.g. survival at 12 months) with their CIs."""
    n = Names(package)
    return _table(
        rows,
        ["Population", "Arm", "Outcome", "Time (months)", "Rate % (95% CI)", "Source"],
        "Landmark rates",
        lambda x: [
            n.population(x.population_id),
            n.arm(x.arm_id),
            n.outcome(x.outcome),
            fmt_num(x.time_months),
            f"{fmt_num(x.rate_percent)} ({ci(x.ci_low, x.ci_high)})",
            x.source,
        ],
    )


def effects_table(package: EvidencePackage, rows: list) -> Table | None:
    """Between-arm contrasts exactly as the paper printed them."""
    n = Names(package)
    return _table(
        rows,
        EFFECT_HEADERS,
        "Between-arm contrasts as printed",
        lambda e: [
            n.population(e.population_id),
            n.outcome(e.outcome, e.criterion),
            f"{n.arm(e.intervention_arm_id)} vs {n.arm(e.control_arm_id)}",
            e.measure,
            e.analysis,
            "" if e.estimate is None else f"{fmt_num(e.estimate)} ({ci(e.ci_low, e.ci_high)})",
            e.p_value or NOT_REPORTED,
            e.model or "",
            e.source,
            e.note or "",
        ],
    )


def response_table(package: EvidencePackage, rows: list) -> Table | None:
    """Best overall response by criterion: CR, PR, SD, PD and the ORR/DCR the paper printed."""
    n = Names(package)
    return _table(
        rows,
        RESPONSE_HEADERS,
        "Best overall response",
        lambda r: [
            n.population(r.population_id),
            n.arm(r.arm_id),
            n.code("response", "criterion", r.criterion),
            r.n_evaluable,
            fmt_num(r.cr),
            fmt_num(r.pr),
            fmt_num(r.sd),
            fmt_num(r.pd),
            n_pct(r.orr_n, r.orr_percent),
            n_pct(r.dcr_n, r.dcr_percent),
            r.source,
        ],
    )


def binary_table(package: EvidencePackage, rows: list) -> Table | None:
    """Arm-level counts of binary outcomes."""
    n = Names(package)
    return _table(
        rows,
        ["Population", "Arm", "Outcome", "Events (percent)", "n", "p", "Source", "Note"],
        "Binary outcomes",
        lambda b: [
            n.population(b.population_id),
            n.arm(b.arm_id),
            n.voc.outcome_label(b.outcome),
            n_pct(b.events, b.percent),
            fmt_num(b.n) if b.n else NOT_REPORTED,
            b.p_value or "",
            b.source,
            b.note or "",
        ],
    )


def continuous_table(package: EvidencePackage, rows: list) -> Table | None:
    """Arm-level means and SDs (pooled) and medians with IQRs (shown only) of continuous outcomes."""
    n = Names(package)

    def unit(outcome_id: str) -> str:
        o = n.voc.outcome(outcome_id)
        return f" {o.unit}" if o and o.unit else ""

    return _table(
        rows,
        ["Population", "Arm", "Outcome", "n", "Mean (SD)", "Median (IQR)", "Source", "Note"],
        "Continuous outcomes",
        lambda c: [
            n.population(c.population_id),
            n.arm(c.arm_id),
            n.voc.outcome_label(c.outcome) + ("" if c.criterion in (None, NO_CRITERION) else f" ({c.criterion})"),
            fmt_num(c.n),
            NOT_REPORTED if c.mean is None else f"{fmt_num(c.mean)}{unit(c.outcome)} ({or_nr(fmt_num(c.sd))})",
            NOT_REPORTED if c.median is None else f"{fmt_num(c.median)} ({ci(c.iqr_low, c.iqr_high)})",
            c.source,
            c.note or "",
        ],
    )


def adverse_events_table(package: EvidencePackage, rows: list) -> Table | None:
    """Adverse events per term, grade band and arm."""
    n = Names(package)
    return _table(
        rows,
        ["Term", "Population", "Arm", "Category", "Grade", "Patients (percent)", "At risk", "p", "Source"],
        "Adverse events",
        lambda a: [
            a.term,
            n.population(a.population_id),
            n.arm(a.arm_id),
            n.code("adverse_events", "category", a.category),
            a.grade,
            n_pct(a.events, a.percent),
            a.n_at_risk,
            a.p_value or "",
            a.source,
        ],
    )


def subgroup_table(package: EvidencePackage, rows: list) -> Table | None:
    """Medians within subgroups as printed."""
    n = Names(package)
    return _table(
        rows,
        ["Variable", "Level", "Population", "Arm", "Outcome", "Median, months (95% CI)", "p", "Source"],
        "Medians within subgroups",
        lambda g: [
            g.variable,
            g.level,
            n.population(g.population_id),
            n.arm(g.arm_id),
            n.outcome(g.outcome),
            median_ci(g.median_months, g.ci_low, g.ci_high),
            g.p_value or "",
            g.source,
        ],
    )


def prognostic_table(package: EvidencePackage, rows: list) -> Table | None:
    """Hazard ratios of covariates from the papers' models."""
    n = Names(package)
    return _table(
        rows,
        ["Factor", "Level (vs reference)", "Population", "Outcome", "Analysis", "HR (95% CI)", "p", "Source"],
        "Hazard ratios of covariates (prognostic factors)",
        lambda f: [
            f.factor,
            f.level + (f" vs {f.reference_level}" if f.reference_level else ""),
            n.population(f.population_id),
            n.outcome(f.outcome),
            f.analysis,
            f"{fmt_num(f.hr)} ({ci(f.ci_low, f.ci_high)})",
            f.p_value or "",
            f.source,
        ],
    )
