"""Layer 2: the topic's vocabulary. Outcomes, their kinds and measures, labels, and what the generator reads.

A topic says in outcomes.csv what each outcome is; these checks make sure the result tables agree with it
(a median of a binary outcome, an MD of a time-to-event outcome cannot be analysed) and that every coded
value shown on a page has its words (labels.csv). Columns and tables the generator does not read are
warnings: they stay in the downloads, but no page shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields

from livingevidence.checks.context import Check, Context, check, fmt
from livingevidence.checks.registry import problem
from livingevidence.model import ROW_TYPES
from livingevidence.report import Problem
from livingevidence.vocabulary import MEASURES_BY_KIND, RATIO_MEASURES

__all__ = ["CHECKS", "CODED_FIELDS"]

CHECKS: list[Check] = []

# (table, outcome field, kinds its rows may have)
KIND_TABLES = (
    ("survival", "outcome", ("time-to-event",)),
    ("landmarks", "outcome", ("time-to-event",)),
    ("subgroups", "outcome", ("time-to-event",)),
    ("prognostic_factors", "outcome", ("time-to-event",)),
    ("binary_outcomes", "outcome", ("binary",)),
    ("continuous_outcomes", "outcome", ("continuous",)),
)
MEASURE_KINDS = {"HR": "time-to-event", **{m: k for k, ms in MEASURES_BY_KIND.items() for m in ms}}
DEFAULT_MEASURES = {"time-to-event": ("HR",), **{k: ms for k, ms in MEASURES_BY_KIND.items() if ms}}
# Coded fields whose values pages show through labels.csv.
CODED_FIELDS = (
    ("studies", "design"),
    ("studies", "source_kind"),
    ("studies", "matching"),
    ("studies", "line_of_therapy"),
    ("interventions", "class"),
    ("populations", "kind"),
    ("response", "criterion"),
    ("adverse_events", "category"),
    ("adverse_events", "grade"),
    ("population_attributes", "attribute"),
    ("population_attributes", "value"),
)


def _kinds(ctx: Context) -> dict[str, str]:
    return {o.get("outcome_id"): o.get("kind") for o in ctx.loaded.rows("outcomes") if o.get("outcome_id")}


@check(CHECKS, "outcome-kind")
def outcome_kinds(ctx: Context) -> Iterator[Problem]:
    """Each table holds outcomes of the kind it can show, and each effect's measure fits its outcome."""
    kinds = _kinds(ctx)
    for table, field_name, allowed in KIND_TABLES:
        for rec in ctx.loaded.rows(table):
            kind = kinds.get(rec.get(field_name))
            if kind is not None and kind not in allowed:
                yield ctx.problem(
                    "outcome-kind",
                    table,
                    rec,
                    field_name,
                    f"'{rec.get(field_name)}' is a {kind} outcome, but {table}.csv holds {allowed[0]} outcomes",
                )
    for rec in ctx.loaded.rows("effects"):
        kind, measure = kinds.get(rec.get("outcome")), rec.get("measure")
        wanted = MEASURE_KINDS.get(measure)
        if kind is not None and wanted is not None and kind != wanted:
            yield ctx.problem(
                "outcome-kind",
                "effects",
                rec,
                "measure",
                f"a {measure} is a measure of {wanted} outcomes, but '{rec.get('outcome')}' is {kind}",
            )


@check(CHECKS, "outcome-measure", "outcome-mid")
def outcome_rows(ctx: Context) -> Iterator[Problem]:
    """Default measures fit kinds; counts_from only for binary outcomes; MIDs on the measure's scale."""
    for rec in ctx.loaded.rows("outcomes"):
        kind, measure = rec.get("kind"), rec.get("default_measure")
        if kind in DEFAULT_MEASURES and measure is not None and measure not in DEFAULT_MEASURES[kind]:
            yield ctx.problem(
                "outcome-measure",
                "outcomes",
                rec,
                "default_measure",
                f"{measure} is not a measure of a {kind} outcome (use {', '.join(DEFAULT_MEASURES[kind])})",
            )
        if rec.text("counts_from") and kind not in (None, "binary"):
            yield ctx.problem(
                "outcome-measure",
                "outcomes",
                rec,
                "counts_from",
                f"counts_from is for binary outcomes, and '{rec.get('outcome_id')}' is {kind}",
            )
        mid = rec.get("mid")
        if mid is not None and measure in RATIO_MEASURES and mid <= 1:
            yield ctx.problem(
                "outcome-mid",
                "outcomes",
                rec,
                "mid",
                f"a minimal important {measure} of {fmt(mid)} is not a ratio above 1",
            )
        if mid is not None and not rec.text("mid_reason"):
            yield ctx.problem(
                "outcome-mid", "outcomes", rec, "mid_reason", "the minimal important difference has no reason"
            )


@check(CHECKS, "ratio-positive")
def ratios_positive(ctx: Context) -> Iterator[Problem]:
    """A ratio and its limits are above 0."""
    for rec in ctx.loaded.rows("effects"):
        if rec.get("measure") not in RATIO_MEASURES:
            continue
        for name in ("estimate", "ci_low", "ci_high"):
            value = rec.get(name)
            if value is not None and value <= 0:
                yield ctx.problem(
                    "ratio-positive", "effects", rec, name, f"the {rec.get('measure')} {fmt(value)} is not above 0"
                )
                break


@check(CHECKS, "counts-elsewhere")
def counts_in_their_table(ctx: Context) -> Iterator[Problem]:
    """binary_outcomes.csv does not hold counts that the vocabulary takes from another table."""
    elsewhere = {
        o.get("outcome_id"): o.text("counts_from") for o in ctx.loaded.rows("outcomes") if o.text("counts_from")
    }
    for rec in ctx.loaded.rows("binary_outcomes"):
        source = elsewhere.get(rec.get("outcome"))
        if source:
            yield ctx.problem(
                "counts-elsewhere",
                "binary_outcomes",
                rec,
                "outcome",
                f"the counts of '{rec.get('outcome')}' come from {source.split(':')[0]}.csv (counts_from {source})",
            )


@check(CHECKS, "label-duplicate-pool", "label-missing")
def labels(ctx: Context) -> Iterator[Problem]:
    """Coded values shown on pages have labels; a pool_as name belongs to one field."""
    known = {(r.get("table"), r.get("field"), r.get("value")) for r in ctx.loaded.rows("labels")}
    pools: dict[str, tuple[object, object]] = {}
    for rec in ctx.loaded.rows("labels"):
        pool = rec.text("pool_as")
        where = (rec.get("table"), rec.get("field"))
        # The same definition may pool across the tables that share its field name (response and effects).
        if pool and pools.setdefault(pool, where)[1] != where[1]:
            yield ctx.problem(
                "label-duplicate-pool",
                "labels",
                rec,
                "pool_as",
                f"'{pool}' is also the pool_as of {pools[pool][0]}.{pools[pool][1]}",
            )
    if ctx.loaded.table("labels") is None:
        return
    for table, field_name in CODED_FIELDS:
        t = ctx.loaded.table(table)
        if t is None or field_name not in t.field_names:
            continue
        reported: set[object] = set()
        for rec in t:
            value = rec.get(field_name)
            if value is None or value in reported or (table, field_name, value) in known:
                continue
            reported.add(value)
            yield ctx.problem(
                "label-missing",
                table,
                rec,
                field_name,
                f"'{value}' has no label in labels.csv; pages show it as '{str(value).replace('-', ' ')}'",
                f"add the row '{table},{field_name},{value},<words>' to labels.csv",
            )


@check(CHECKS, "comparison-declarations")
def comparison_declarations(ctx: Context) -> Iterator[Problem]:
    """A comparison's effect modifier, its main level and its headline outcomes exist in the package."""
    levels: dict[object, set[object]] = {}
    for rec in ctx.loaded.rows("population_attributes"):
        levels.setdefault(rec.get("attribute"), set()).add(rec.get("value"))
    outcomes = {o.get("outcome_id") for o in ctx.loaded.rows("outcomes")}
    for rec in ctx.loaded.rows("comparisons"):
        attribute, main = rec.get("subgroup_by"), rec.get("main_level")
        if attribute is not None and attribute not in levels:
            yield ctx.problem(
                "comparison-declarations",
                "comparisons",
                rec,
                "subgroup_by",
                f"no population in population_attributes.csv has the attribute '{attribute}'",
            )
        elif main is not None and attribute is None:
            yield ctx.problem(
                "comparison-declarations", "comparisons", rec, "main_level", "main_level needs subgroup_by"
            )
        elif main is not None and main not in levels.get(attribute, ()):
            yield ctx.problem(
                "comparison-declarations",
                "comparisons",
                rec,
                "main_level",
                f"no population has '{main}' as its {attribute}",
            )
        for outcome in (o.strip() for o in rec.text("headline_outcomes").split(";") if o.strip()):
            if outcome not in outcomes:
                yield ctx.problem(
                    "comparison-declarations",
                    "comparisons",
                    rec,
                    "headline_outcomes",
                    f"'{outcome}' is not an outcome_id of outcomes.csv",
                )


@check(CHECKS, "analysis-settings")
def analysis_settings(ctx: Context) -> Iterator[Problem]:
    """The descriptor's "analysis" property names methods the pooling knows."""
    import json

    from livingevidence.analysis.pooling.settings import CI_METHODS, PI_TYPES, TAU2_METHODS

    text = (ctx.loaded.base / ctx.loaded.descriptor_file).read_text(encoding="utf-8")
    analysis = json.loads(text).get("analysis")
    if analysis is None:
        return
    known = {"tau2_method": TAU2_METHODS, "ci_method": CI_METHODS, "pi_type": PI_TYPES}
    if not isinstance(analysis, dict):
        yield problem("analysis-settings", ctx.loaded.descriptor_file, None, "analysis", "analysis is not an object")
        return
    for key, value in analysis.items():
        line = next((i for i, row in enumerate(text.splitlines(), 1) if f'"{key}"' in row), None)
        if key not in known:
            yield problem(
                "analysis-settings", ctx.loaded.descriptor_file, line, key, f"'{key}' is not an analysis setting"
            )
        elif value not in known[key]:
            yield problem(
                "analysis-settings",
                ctx.loaded.descriptor_file,
                line,
                key,
                f"'{value}' is not a {key} (use {', '.join(known[key])})",
            )


@check(CHECKS, "column-unknown", "resource-unknown")
def what_the_generator_reads(ctx: Context) -> Iterator[Problem]:
    """Columns and tables the generator does not read are kept in the downloads but shown nowhere."""
    for name, table in ctx.loaded.tables.items():
        row_type = ROW_TYPES.get(name)
        if row_type is None:
            yield ctx.problem(
                "resource-unknown", name, None, None, f"the table '{name}' is not one the generator reads"
            )
            continue
        known = {f.name.rstrip("_") for f in fields(row_type)}
        for column in table.field_names:
            if column not in known:
                yield ctx.problem(
                    "column-unknown",
                    name,
                    None,
                    column,
                    f"the column '{column}' of {name}.csv is not one the generator reads; no page shows it",
                )
