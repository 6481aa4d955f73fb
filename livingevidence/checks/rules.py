"""Layer 2: meaning. Numbers and links that cannot be right whatever the paper says (errors).

Each check is a small function registered with the rule ids it may emit. A check reads only rows whose
cells passed layer 1 (invalid cells read as ``None``) and skips rows whose references are unknown, so that
one defect is reported once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from livingevidence.checks.context import Check, Context, check, fmt, parse_p
from livingevidence.checks.data import Record
from livingevidence.report import Problem

__all__ = ["CHECKS"]

CHECKS: list[Check] = []

RESPONSE_PARTS = ("cr", "pr", "sd", "pd")

# (table, estimate field, what the estimate is) for the CI-order rule.
CI_TABLES = (
    ("effects", "estimate", "estimate"),
    ("prognostic_factors", "hr", "hazard ratio"),
    ("survival", "median_months", "median"),
    ("landmarks", "rate_percent", "rate"),
    ("subgroups", "median_months", "median"),
)

# (table, population field, arm fields, arm required) for the arm-study / arm-population rules.
ARM_TABLES = (
    ("population_arms", "population_id", ("arm_id",), True),
    ("effects", "population_id", ("intervention_arm_id", "control_arm_id"), True),
    ("response", "population_id", ("arm_id",), True),
    ("continuous_outcomes", "population_id", ("arm_id",), True),
    ("survival", "population_id", ("arm_id",), True),
    ("landmarks", "population_id", ("arm_id",), True),
    ("binary_outcomes", "population_id", ("arm_id",), True),
    ("adverse_events", "population_id", ("arm_id",), False),
    ("baseline", "population_id", ("arm_id",), False),
)


def _arm_ok(ctx: Context, rec: Record, pop_field: str = "population_id", arm_field: str = "arm_id") -> bool:
    """True when the row's arm (if any) is known to belong to the row's population."""
    arm = rec.get(arm_field)
    if arm is None:
        return ctx.population_study(rec.get(pop_field)) is not None
    return ctx.arm_in_population(rec.get(pop_field), arm) is True


# ---------------------------------------------------------------------------------------------------------
# Counts


@check(CHECKS, "response-sum", "response-count-exceeds-n", "orr-above-dcr")
def response_counts(ctx: Context) -> Iterator[Problem]:
    """CR+PR+SD+PD = n_evaluable; no count above n_evaluable; ORR not above DCR."""
    for rec in ctx.loaded.rows("response"):
        n = rec.get("n_evaluable")
        over = False
        if n is not None:
            for name in (*RESPONSE_PARTS, "orr_n", "dcr_n"):
                value = rec.get(name)
                if value is not None and value > n:
                    over = True
                    yield ctx.problem(
                        "response-count-exceeds-n",
                        "response",
                        rec,
                        name,
                        f"{name.upper().replace('_N', ' n')} {value} is above n_evaluable {n}",
                    )
            parts = [rec.get(p) for p in RESPONSE_PARTS]
            known = [p for p in parts if p is not None]
            if not over and len(known) == 4 and sum(known) != n:
                yield ctx.problem(
                    "response-sum",
                    "response",
                    rec,
                    "n_evaluable",
                    f"CR+PR+SD+PD = {'+'.join(map(str, known))} = {sum(known)}, not n_evaluable {n}",
                )
            elif not over and known and sum(known) > n:
                names = "+".join(p.upper() for p, v in zip(RESPONSE_PARTS, parts, strict=True) if v is not None)
                yield ctx.problem(
                    "response-count-exceeds-n",
                    "response",
                    rec,
                    "n_evaluable",
                    f"{names} = {sum(known)} is above n_evaluable {n}",
                )
        orr, dcr = rec.get("orr_n"), rec.get("dcr_n")
        if orr is not None and dcr is not None and orr > dcr:
            yield ctx.problem("orr-above-dcr", "response", rec, "orr_n", f"ORR n {orr} is above DCR n {dcr}")
        orr_p, dcr_p = rec.get("orr_percent"), rec.get("dcr_percent")
        if orr_p is not None and dcr_p is not None and orr_p > dcr_p:
            yield ctx.problem(
                "orr-above-dcr", "response", rec, "orr_percent", f"ORR {fmt(orr_p)}% is above DCR {fmt(dcr_p)}%"
            )


@check(CHECKS, "ae-events-exceed-n", "binary-events-exceed-n")
def events_within_n(ctx: Context) -> Iterator[Problem]:
    """Adverse-event events <= n_at_risk; binary-outcome events <= n."""
    for rec in ctx.loaded.rows("adverse_events"):
        events, n = rec.get("events"), rec.get("n_at_risk")
        if events is not None and n is not None and events > n:
            yield ctx.problem(
                "ae-events-exceed-n", "adverse_events", rec, "events", f"{events} events is above n_at_risk {n}"
            )
    for rec in ctx.loaded.rows("binary_outcomes"):
        events, n = rec.get("events"), rec.get("n")
        if events is not None and n is not None and events > n:
            yield ctx.problem(
                "binary-events-exceed-n", "binary_outcomes", rec, "events", f"{events} events is above n {n}"
            )


@check(CHECKS, "baseline-count-exceeds-n")
def baseline_counts(ctx: Context) -> Iterator[Problem]:
    """A baseline count is not above the arm's n in the population (the population's n without an arm)."""
    for rec in ctx.loaded.rows("baseline"):
        count = rec.get("count")
        if count is None or not _arm_ok(ctx, rec):
            continue
        pop, arm = rec.get("population_id"), rec.get("arm_id")
        n = ctx.n_of(pop, arm)
        if n is not None and count > n:
            whose = f"the arm's n in {pop}" if arm is not None else f"the n of {pop} (all arms)"
            yield ctx.problem(
                "baseline-count-exceeds-n", "baseline", rec, "count", f"{count} patients is above {whose}, {n}"
            )


@check(CHECKS, "n-exceeds-arm-n")
def denominators(ctx: Context) -> Iterator[Problem]:
    """n_evaluable, n_at_risk and binary n are not above the arm's n; prognostic n not above the population's."""
    for table, name in (("response", "n_evaluable"), ("adverse_events", "n_at_risk"), ("binary_outcomes", "n")):
        for rec in ctx.loaded.rows(table):
            value = rec.get(name)
            if value is None or not _arm_ok(ctx, rec):
                continue
            pop, arm = rec.get("population_id"), rec.get("arm_id")
            n = ctx.n_of(pop, arm)
            if n is not None and value > n:
                whose = f"the arm's n in {pop}" if arm is not None else f"the n of {pop} (all arms)"
                yield ctx.problem(
                    "n-exceeds-arm-n",
                    table,
                    rec,
                    name,
                    f"{value} is above {whose}, {n}",
                    f"check {name} and the population; the arm sizes are in population_arms.csv",
                )
    for rec in ctx.loaded.rows("prognostic_factors"):
        value, pop = rec.get("n"), rec.get("population_id")
        n = ctx.population_n(pop) if pop is not None else None
        if value is not None and n is not None and value > n:
            yield ctx.problem(
                "n-exceeds-arm-n",
                "prognostic_factors",
                rec,
                "n",
                f"{value} patients at this level is above the n of {pop}, {n}",
            )


# ---------------------------------------------------------------------------------------------------------
# Estimates and confidence intervals


@check(CHECKS, "ci-order", "ci-inverted")
def confidence_intervals(ctx: Context) -> Iterator[Problem]:
    """ci_low <= ci_high, and the estimate lies within the interval."""
    for table, est_field, what in CI_TABLES:
        for rec in ctx.loaded.rows(table):
            low, high, est = rec.get("ci_low"), rec.get("ci_high"), rec.get(est_field)
            if low is not None and high is not None and low > high:
                yield ctx.problem(
                    "ci-inverted", table, rec, "ci_low", f"{fmt(low)} is above the upper limit {fmt(high)}"
                )
                continue
            if est is None:
                continue
            if low is not None and low > est:
                yield ctx.problem(
                    "ci-order",
                    table,
                    rec,
                    "ci_low",
                    f"{fmt(low)} is above the {what} {fmt(est)}",
                    "check the order of the CI limits in the source table",
                )
            if high is not None and high < est:
                yield ctx.problem(
                    "ci-order",
                    table,
                    rec,
                    "ci_high",
                    f"{fmt(high)} is below the {what} {fmt(est)}",
                    "check the order of the CI limits in the source table",
                )


@check(CHECKS, "effect-measure", "effect-criterion", "effect-same-arm")
def effects_shape(ctx: Context) -> Iterator[Problem]:
    """A 'test' row has a p-value and no estimate; an effect row has an estimate; criteria fit outcomes."""
    counts_from = {o.get("outcome_id"): o.text("counts_from") for o in ctx.loaded.rows("outcomes")}
    response_criteria = {r.get("criterion") for r in ctx.loaded.rows("response")} - {None, "none"}
    for rec in ctx.loaded.rows("effects"):
        measure = rec.get("measure")
        if measure == "test":
            filled = [f for f in ("estimate", "ci_low", "ci_high") if rec.get(f) is not None]
            if filled:
                yield ctx.problem(
                    "effect-measure",
                    "effects",
                    rec,
                    filled[0],
                    f"a 'test' row has {', '.join(filled)}",
                    "set measure to the printed measure (HR, OR, RR, RD, MD, SMD, ROM), or empty the estimate and CI",
                )
            elif not rec.text("p_value") and "p_value" not in rec.bad:
                yield ctx.problem(
                    "effect-measure",
                    "effects",
                    rec,
                    "p_value",
                    "a 'test' row has no p-value",
                    "fill in the printed p-value, or delete the row",
                )
        elif measure not in (None, "test") and rec.get("estimate") is None and "estimate" not in rec.bad:
            yield ctx.problem(
                "effect-measure",
                "effects",
                rec,
                "estimate",
                f"the {measure} row has no estimate",
                f"fill in the {measure}, or use measure 'test' for a p-value without an estimate",
            )
        outcome, criterion = rec.get("outcome"), rec.get("criterion")
        from_response = counts_from.get(outcome, "").startswith("response:")
        if from_response and criterion == "none":
            yield ctx.problem(
                "effect-criterion",
                "effects",
                rec,
                "criterion",
                f"the {outcome} effect needs the response criterion its counts use, not 'none'",
            )
        elif not from_response and criterion in response_criteria:
            yield ctx.problem(
                "effect-criterion",
                "effects",
                rec,
                "criterion",
                f"the {outcome} effect has the response criterion '{criterion}', but {outcome} is not a response",
            )
        ia, ca = rec.get("intervention_arm_id"), rec.get("control_arm_id")
        if ia is not None and ia == ca:
            yield ctx.problem(
                "effect-same-arm", "effects", rec, "control_arm_id", f"the arm '{ia}' is compared with itself"
            )


# ---------------------------------------------------------------------------------------------------------
# Arms, populations, studies


@check(CHECKS, "arm-study", "arm-population")
def arms_belong(ctx: Context) -> Iterator[Problem]:
    """An arm used with a population is of the population's study and listed for it in population_arms."""
    for table, pop_field, arm_fields, _required in ARM_TABLES:
        for rec in ctx.loaded.rows(table):
            pop = rec.get(pop_field)
            pop_study = ctx.population_study(pop)
            if pop_study is None:
                continue
            for arm_field in arm_fields:
                arm = rec.get(arm_field)
                arm_study = ctx.arm_study(arm)
                if arm is None or arm_study is None:
                    continue
                if arm_study != pop_study:
                    others = ", ".join(ctx.arms_of_study(pop_study)) or "none"
                    yield ctx.problem(
                        "arm-study",
                        table,
                        rec,
                        arm_field,
                        f"the arm '{arm}' belongs to the study '{arm_study}', but the population "
                        f"'{pop}' belongs to '{pop_study}'",
                        f"use an arm of {pop_study} ({others}), or fix the population",
                    )
                elif (
                    table != "population_arms"
                    and ctx.population_arms_loaded
                    and arm not in (ctx.population_arm_ids.get(pop, []))
                ):
                    yield ctx.problem(
                        "arm-population",
                        table,
                        rec,
                        arm_field,
                        f"the arm '{arm}' has no n in the population '{pop}'",
                        f"add a row '{pop},{arm},<n>,<source>' to population_arms.csv, or fix the "
                        "population or the arm",
                    )
    for rec in ctx.loaded.rows("subgroups"):
        study, pop, arm = rec.get("study_id"), rec.get("population_id"), rec.get("arm_id")
        if study is None or study not in ctx.studies:
            continue
        pop_study, arm_study = ctx.population_study(pop), ctx.arm_study(arm)
        bad_pop = pop_study is not None and pop_study != study
        if bad_pop:
            yield ctx.problem(
                "arm-study",
                "subgroups",
                rec,
                "population_id",
                f"the population '{pop}' belongs to the study '{pop_study}', not '{study}'",
                "use a population of the subgroup's study, or fix study_id",
            )
        if arm_study is not None and arm_study != study:
            others = ", ".join(ctx.arms_of_study(study)) or "none"
            yield ctx.problem(
                "arm-study",
                "subgroups",
                rec,
                "arm_id",
                f"the arm '{arm}' belongs to the study '{arm_study}', not '{study}'",
                f"use an arm of {study} ({others}), or fix study_id",
            )
        elif (
            arm_study is not None
            and pop_study is not None
            and not bad_pop
            and ctx.population_arms_loaded
            and arm not in ctx.population_arm_ids.get(pop, [])
        ):
            yield ctx.problem(
                "arm-population",
                "subgroups",
                rec,
                "arm_id",
                f"the arm '{arm}' has no n in the population '{pop}'",
                f"add a row '{pop},{arm},<n>,<source>' to population_arms.csv, or fix the population",
            )


@check(CHECKS, "parent-study", "parent-n", "parent-cycle", "disjoint-set-n")
def population_parents(ctx: Context) -> Iterator[Problem]:
    """A parent population is of the same study, contains the child's arms with at least as many patients."""
    pops = ctx.populations
    for pid, rec in pops.items():
        parent = rec.get("parent_population_id")
        if parent is None or parent not in pops:
            continue
        # cycle: follow parents until the chain ends or returns
        seen = [pid]
        cur: Any = parent
        while cur is not None and cur in pops and cur not in seen:
            seen.append(cur)
            cur = pops[cur].get("parent_population_id")
        if cur == pid:
            yield ctx.problem(
                "parent-cycle",
                "populations",
                rec,
                "parent_population_id",
                f"the population is its own ancestor: {' -> '.join([*seen, pid])}",
            )
            continue
        study, parent_study = rec.get("study_id"), pops[parent].get("study_id")
        if study is not None and parent_study is not None and study != parent_study:
            yield ctx.problem(
                "parent-study",
                "populations",
                rec,
                "parent_population_id",
                f"the parent '{parent}' belongs to the study '{parent_study}', not '{study}'",
            )
            continue
        if not ctx.population_arms_loaded:
            continue
        for arm in ctx.population_arm_ids.get(pid, []):
            n, parent_n = ctx.arm_n.get((pid, arm)), ctx.arm_n.get((parent, arm))
            if arm not in ctx.population_arm_ids.get(parent, []):
                yield ctx.problem(
                    "parent-n",
                    "populations",
                    rec,
                    "parent_population_id",
                    f"the arm '{arm}' is in '{pid}' but not in its parent '{parent}'",
                    f"add the arm's n in '{parent}' to population_arms.csv, or fix the parent",
                )
            elif n is not None and parent_n is not None and n > parent_n:
                yield ctx.problem(
                    "parent-n",
                    "populations",
                    rec,
                    "parent_population_id",
                    f"the arm '{arm}' has {n} patients in '{pid}', more than the {parent_n} of its parent '{parent}'",
                )
    # populations of one disjoint set with the same parent share the parent's patients
    groups: dict[tuple[Any, Any, Any], list[str]] = {}
    for pid, rec in pops.items():
        dset, parent = rec.get("disjoint_set"), rec.get("parent_population_id")
        if dset is not None and parent is not None and parent in pops:
            groups.setdefault((rec.get("study_id"), dset, parent), []).append(pid)
    for (_study, dset, parent), members in groups.items():
        if len(members) < 2 or not ctx.population_arms_loaded:
            continue
        for arm in ctx.population_arm_ids.get(parent, []):
            parent_n = ctx.arm_n.get((parent, arm))
            sizes = [ctx.arm_n.get((m, arm)) for m in members]
            known = [s for s in sizes if s is not None]
            if parent_n is not None and sum(known) > parent_n:
                yield ctx.problem(
                    "disjoint-set-n",
                    "populations",
                    pops[members[-1]],
                    "disjoint_set",
                    f"the populations {', '.join(members)} of the disjoint set '{dset}' have "
                    f"{'+'.join(map(str, known))} = {sum(known)} patients in the arm '{arm}', more "
                    f"than the {parent_n} of their parent '{parent}'",
                )


@check(CHECKS, "primary-population", "population-without-arms")
def populations_of_study(ctx: Context) -> Iterator[Problem]:
    """At most one primary population per study; every population lists its arms."""
    primary: dict[Any, Record] = {}
    for rec in ctx.loaded.rows("populations"):
        study = rec.get("study_id")
        if rec.get("primary") is True and study is not None:
            if study in primary:
                yield ctx.problem(
                    "primary-population",
                    "populations",
                    rec,
                    "primary",
                    f"the study '{study}' already has the primary population "
                    f"'{primary[study].get('population_id')}' (line {primary[study].line})",
                    "set primary to false for all but the study's main analysis set",
                )
            else:
                primary[study] = rec
    if ctx.population_arms_loaded:
        for pid, rec in ctx.populations.items():
            if not ctx.population_arm_ids.get(pid):
                yield ctx.problem(
                    "population-without-arms",
                    "populations",
                    rec,
                    "population_id",
                    f"the population '{pid}' has no arms in population_arms.csv",
                )


@check(CHECKS, "study-without-arms", "study-without-populations", "single-arm-design")
def studies_complete(ctx: Context) -> Iterator[Problem]:
    """Every study has an arm and a population; single-arm designs have one arm."""
    pop_studies = {rec.get("study_id") for rec in ctx.populations.values()}
    for sid, rec in ctx.studies.items():
        arms = ctx.arms_of_study(sid)
        if ctx.arms_loaded and not arms:
            yield ctx.problem(
                "study-without-arms", "studies", rec, "study_id", f"the study '{sid}' has no arms in arms.csv"
            )
        if ctx.populations_loaded and sid not in pop_studies:
            yield ctx.problem(
                "study-without-populations",
                "studies",
                rec,
                "study_id",
                f"the study '{sid}' has no population in populations.csv",
            )
        design = rec.get("design")
        if ctx.arms_loaded and isinstance(design, str) and design.endswith("single-arm") and len(arms) > 1:
            yield ctx.problem(
                "single-arm-design",
                "studies",
                rec,
                "design",
                f"the design is '{design}' but the study has {len(arms)} arms ({', '.join(arms)})",
            )


# ---------------------------------------------------------------------------------------------------------
# Comparisons and regimens


@check(CHECKS, "comparison-same-regimen", "comparison-without-pairs", "regimen-without-components", "parent-cycle")
def comparisons(ctx: Context) -> Iterator[Problem]:
    """Pairs compare two regimens; every comparison has a pair; every regimen has components."""
    with_pairs = set()
    for rec in ctx.loaded.rows("comparison_pairs"):
        with_pairs.add(rec.get("comparison_id"))
        a, b = rec.get("intervention_regimen_id"), rec.get("control_regimen_id")
        if a is not None and a == b:
            yield ctx.problem(
                "comparison-same-regimen",
                "comparison_pairs",
                rec,
                "control_regimen_id",
                f"the regimen '{a}' is compared with itself",
            )
    if "comparison_pairs" in ctx.loaded.tables:
        for cid, rec in ctx.comparisons.items():
            if cid not in with_pairs:
                yield ctx.problem(
                    "comparison-without-pairs",
                    "comparisons",
                    rec,
                    "comparison_id",
                    f"the comparison '{cid}' has no regimen pair in comparison_pairs.csv",
                )
    for cid, rec in ctx.comparisons.items():
        seen = [cid]
        cur = rec.get("parent_comparison_id")
        while cur is not None and cur in ctx.comparisons and cur not in seen:
            seen.append(cur)
            cur = ctx.comparisons[cur].get("parent_comparison_id")
        if cur == cid:
            yield ctx.problem(
                "parent-cycle",
                "comparisons",
                rec,
                "parent_comparison_id",
                f"the comparison is its own ancestor: {' -> '.join([*seen, cid])}",
            )
    if "regimen_components" in ctx.loaded.tables:
        with_components = {rec.get("regimen_id") for rec in ctx.loaded.rows("regimen_components")}
        for rid, rec in ctx.regimens.items():
            if rid not in with_components:
                yield ctx.problem(
                    "regimen-without-components",
                    "regimens",
                    rec,
                    "regimen_id",
                    f"the regimen '{rid}' has no interventions in regimen_components.csv",
                )


# ---------------------------------------------------------------------------------------------------------
# Dates


def _date_parts(value: Any) -> tuple[int, ...] | None:
    """(year, month[, day]) of a yearmonth, date, or 'YYYY-MM[-DD]' string; (year,) of an integer year."""
    if value is None:
        return None
    if isinstance(value, date):
        return (value.year, value.month, value.day)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value,)
    if isinstance(value, tuple) and len(value) == 2:
        return (int(value[0]), int(value[1]))
    if isinstance(value, str):
        m = re.match(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$", value.strip())
        if m:
            return tuple(int(g) for g in m.groups() if g is not None)
    return None


def _show_date(parts: tuple[int, ...]) -> str:
    return "-".join(f"{p:04d}" if i == 0 else f"{p:02d}" for i, p in enumerate(parts))


DATE_CHAIN = (
    ("enrolment_start", "enrolment start"),
    ("enrolment_end", "enrolment end"),
    ("follow_up_end", "end of follow-up"),
    ("publication_date", "publication"),
    ("extraction_date", "extraction"),
)


@check(CHECKS, "dates-order")
def dates_in_order(ctx: Context) -> Iterator[Problem]:
    """Enrolment start <= enrolment end <= end of follow-up <= publication <= extraction (each known date
    against the previous known one, at the precision both are printed); the publication year is not
    before the end of enrolment or follow-up."""
    for rec in ctx.loaded.rows("studies"):
        previous: tuple[str, str, tuple[int, ...]] | None = None
        for name, label in DATE_CHAIN:
            parts = _date_parts(rec.get(name))
            if parts is None:
                continue
            if previous is not None:
                k = min(len(parts), len(previous[2]))
                if parts[:k] < previous[2][:k]:
                    yield ctx.problem(
                        "dates-order",
                        "studies",
                        rec,
                        name,
                        f"the {label} {_show_date(parts)} is before {previous[0]} {_show_date(previous[2])}",
                    )
            previous = (name, label, parts)
        year = rec.get("year")
        if isinstance(year, int) and not isinstance(year, bool) and rec.get("publication_date") is None:
            for name, _label in DATE_CHAIN[1:3]:
                parts = _date_parts(rec.get(name))
                if parts is not None and year < parts[0]:
                    yield ctx.problem(
                        "dates-order",
                        "studies",
                        rec,
                        "year",
                        f"the publication year {year} is before {name} {_show_date(parts)}",
                    )
                    break


# ---------------------------------------------------------------------------------------------------------
# Duplicates and repeated p-values in tables without a primary key


NATURAL_KEYS = {
    "baseline": ("population_id", "arm_id", "characteristic", "category", "statistic"),
    "adverse_events": ("population_id", "arm_id", "category", "term", "grade"),
    "risk_of_bias": ("study_id", "outcome", "domain"),
    "certainty": ("comparison_id", "outcome", "analysis"),
}


def _norm(value: Any) -> Any:
    return value.strip().casefold() if isinstance(value, str) else value


def _normalised_keys(ctx: Context, table: str, key_fields: tuple[str, ...]) -> Iterator[tuple[Record, tuple[Any, ...]]]:
    """Each row of ``table`` whose key cells are all valid, with its key normalised by :func:`_norm`.

    These keys are built for every row of the two largest tables, so the values are picked in one call and
    normalised inline (the same expression as ``_norm``) rather than with a call per field.
    """
    source = ctx.loaded.table(table)
    if source is None:
        return
    pick = source.picker(key_fields)
    for rec in source.records:
        bad = rec.bad
        if bad and any(f in bad for f in key_fields):
            continue
        yield rec, tuple([v.strip().casefold() if isinstance(v, str) else v for v in pick(rec)])


@check(CHECKS, "duplicate-row")
def duplicate_rows(ctx: Context) -> Iterator[Problem]:
    """Rows of the tables without a primary key are unique by their natural key (NATURAL_KEYS)."""
    for table, key_fields in NATURAL_KEYS.items():
        seen: dict[tuple[Any, ...], int] = {}
        for rec, key in _normalised_keys(ctx, table, key_fields):
            if key in seen:
                shown = ", ".join(f"{f}={'' if rec.get(f) is None else rec.get(f)}" for f in key_fields)
                yield ctx.problem("duplicate-row", table, rec, None, f"the same {shown} is on line {seen[key]}")
            else:
                seen[key] = rec.line


# (table, fields that identify one comparison, what varies across its rows)
REPEATED_P = (
    ("adverse_events", ("population_id", "category", "term", "grade"), "arm"),
    ("baseline", ("population_id", "characteristic", "category", "statistic"), "arm"),
    ("binary_outcomes", ("population_id", "outcome"), "arm"),
    ("subgroups", ("study_id", "population_id", "arm_id", "variable", "outcome"), "level"),
)


@check(CHECKS, "p-value-differs")
def repeated_p_values(ctx: Context) -> Iterator[Problem]:
    """A p-value repeated on each arm's (or level's) row of one comparison is the same on every row."""
    for table, key_fields, varies in REPEATED_P:
        groups: dict[tuple[Any, ...], list[Record]] = {}
        for rec, key in _normalised_keys(ctx, table, key_fields):
            if varies == "arm" and rec.get("arm_id") is None:
                continue  # a whole-population row is not one side of a between-arm comparison
            if "p_value" in rec.bad:
                continue
            groups.setdefault(key, []).append(rec)
        parsed: dict[str, tuple[str, Decimal] | None] = {}  # the same p-values recur: parse each text once
        for rows in groups.values():
            if len(rows) < 2:
                continue
            first = rows[0]
            ref = _parse_p_cached(parsed, first.text("p_value"))
            for rec in rows[1:]:
                this = _parse_p_cached(parsed, rec.text("p_value"))
                if this == ref:
                    continue
                other = f"on line {first.line}, the other {varies}'s row of the same comparison"
                if this is None:
                    msg = f"no p-value here, but '{first.text('p_value')}' {other}"
                elif ref is None:
                    msg = f"'{rec.text('p_value')}' here, but no p-value {other}"
                else:
                    msg = f"'{rec.text('p_value')}' differs from '{first.text('p_value')}' {other}"
                yield ctx.problem("p-value-differs", table, rec, "p_value", msg)


def _parse_p_cached(cache: dict[str, tuple[str, Decimal] | None], text: str) -> tuple[str, Decimal] | None:
    """:func:`parse_p` of ``text``, remembered in ``cache`` (its result is a pure function of the text)."""
    if text not in cache:
        cache[text] = parse_p(text)
    return cache[text]


# ---------------------------------------------------------------------------------------------------------
# Baseline rows


@check(CHECKS, "baseline-statistic", "baseline-spread-order")
def baseline_values(ctx: Context) -> Iterator[Problem]:
    """Continuous rows have a value and ordered spreads; categorical rows have a count or percent."""
    for rec in ctx.loaded.rows("baseline"):
        if "statistic" in rec.bad:
            continue
        statistic = rec.get("statistic")
        value, low, high = rec.get("value"), rec.get("spread_low"), rec.get("spread_high")
        if statistic is None:
            filled = [f for f in ("value", "spread_low", "spread_high") if rec.get(f) is not None]
            if filled:
                yield ctx.problem(
                    "baseline-statistic",
                    "baseline",
                    rec,
                    "statistic",
                    f"{', '.join(filled)} given without a statistic",
                    "set statistic (mean-sd, median-iqr, median-range), or move the number to count/percent",
                )
            elif rec.get("count") is None and rec.get("percent") is None and not {"count", "percent"} & rec.bad:
                yield ctx.problem(
                    "baseline-statistic",
                    "baseline",
                    rec,
                    "count",
                    "a category row has neither a count nor a percent",
                    "fill in the count and/or percent as printed, or delete the row",
                )
            continue
        if value is None:
            if "value" not in rec.bad:
                yield ctx.problem(
                    "baseline-statistic",
                    "baseline",
                    rec,
                    "value",
                    f"a {statistic} row has no value",
                    "fill in the mean or median",
                )
            continue
        if statistic == "mean-sd":
            if high is not None:
                yield ctx.problem(
                    "baseline-spread-order",
                    "baseline",
                    rec,
                    "spread_high",
                    f"a mean-sd row has spread_high {fmt(high)}",
                    "write the SD in spread_low and leave spread_high empty",
                )
            if low is not None and low < 0:
                yield ctx.problem(
                    "baseline-spread-order", "baseline", rec, "spread_low", f"the SD {fmt(low)} is negative"
                )
        else:
            if low is not None and low > value:
                yield ctx.problem(
                    "baseline-spread-order",
                    "baseline",
                    rec,
                    "spread_low",
                    f"{fmt(low)} is above the median {fmt(value)}",
                )
            if high is not None and high < value:
                yield ctx.problem(
                    "baseline-spread-order",
                    "baseline",
                    rec,
                    "spread_high",
                    f"{fmt(high)} is below the median {fmt(value)}",
                )


# ---------------------------------------------------------------------------------------------------------
# References from notes to extraction notes

NOTE_REFERENCE = re.compile(
    r"extraction notes?\s+((?:[a-z0-9]+(?:-[a-z0-9]+)+)(?:(?:\s*,\s*(?:and\s+)?|\s+and\s+)[a-z0-9]+(?:-[a-z0-9]+)+)*)",
    re.IGNORECASE,
)
NOTE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


@check(CHECKS, "note-reference")
def note_references(ctx: Context) -> Iterator[Problem]:
    """'see extraction note x' in a note names a note that exists in extraction_notes.csv."""
    if "extraction_notes" not in ctx.loaded.tables:
        return
    ids = {rec.get("note_id") for rec in ctx.loaded.rows("extraction_notes")} | {
        rec.text("note_id") for rec in ctx.loaded.rows("extraction_notes")
    }
    for name, table in ctx.loaded.tables.items():
        for field_name in ("note", "description", "setting"):
            if field_name not in table.field_names:
                continue
            for rec in table.records:
                text = rec.text(field_name)
                if "extraction note" not in text.lower():
                    continue
                for m in NOTE_REFERENCE.finditer(text):
                    for ref in NOTE_ID.findall(m.group(1)):
                        if ref not in ids:
                            yield ctx.problem(
                                "note-reference", name, rec, field_name, f"the extraction note '{ref}' does not exist"
                            )
