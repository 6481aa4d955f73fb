"""Layer 3: consistency. Figures a paper printed that its own counts do not give (warnings).

Papers contain such slips; the site shows them on the public data checks page rather than hiding them.
Every warning says what the paper printed and what the counts give; when the stored value matches the
source, it is the paper's figure, not a data entry error.

Percentages are compared at the decimals they were printed with (``66.0`` allows 65.95 to 66.05):

* response ORR/DCR: percent of ``n_evaluable`` (count: the printed ORR/DCR n, else CR+PR / CR+PR+SD);
* adverse events: percent of ``n_at_risk``;
* baseline: percent of the arm's n in the population (of the population's n for a whole-population row);
* binary outcomes: percent of ``n`` (of the arm's n in the population when ``n`` is not printed).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from livingevidence.checks.context import Check, Context, check, decimals, fmt
from livingevidence.checks.data import Record
from livingevidence.checks.rules import _arm_ok
from livingevidence.report import Problem

__all__ = ["CHECKS", "percent_fits", "percent_possible"]

CHECKS: list[Check] = []

PAPERS_FIGURE = "if the source prints this, it is the paper's figure, not a data entry error"
COMPLEMENTARY = ({"yes", "no"}, {"male", "female"})


@lru_cache(maxsize=4096)  # a few hundred distinct printed percentages make up a whole package
def _half(raw: str) -> Decimal:
    return Decimal(5) * Decimal(10) ** -(decimals(raw) + 1)


def percent_fits(count: int, n: int, printed: Decimal, raw: str) -> bool:
    """Whether 100*count/n rounds to the printed percent at its printed decimals (boundaries included)."""
    true = Decimal(100 * count) / Decimal(n)
    return abs(true - printed) <= _half(raw)


def percent_possible(n: int, printed: Decimal, raw: str) -> bool:
    """Whether some whole number k in 0..n gives the printed percent at its printed decimals."""
    half = _half(raw)
    low = math.ceil((printed - half) * n / 100)
    high = math.floor((printed + half) * n / 100)
    return max(low, 0) <= min(high, n)


def _show(value: Decimal, raw: str) -> str:
    places = max(decimals(raw), 1)
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def _percent_problem(
    ctx: Context,
    table: str,
    rec: Record,
    field: str,
    count: int | None,
    count_label: str,
    n: int | None,
    n_label: str,
    alternatives: tuple[tuple[int | None, str], ...] = (),
) -> Problem | None:
    printed, raw = rec.get(field), rec.text(field)
    if printed is None or n is None or n <= 0 or not raw:
        return None
    if count is not None:
        if count > n or percent_fits(count, n, printed, raw):
            return None
        true = Decimal(100 * count) / Decimal(n)
        message = f"the paper prints {raw}%, but {count} ({count_label}) of {n} ({n_label}) is {_show(true, raw)}%"
        for alt_n, alt_label in alternatives:
            if alt_n and alt_n != n and count <= alt_n and percent_fits(count, alt_n, printed, raw):
                message += f"; {count} of {alt_n} ({alt_label}) gives {raw}%: the paper may use that denominator"
                break
        return ctx.problem("percent-mismatch", table, rec, field, f"{message}; {PAPERS_FIGURE}")
    if percent_possible(n, printed, raw):
        return None
    k = int(printed * n / 100)
    near = ", ".join(f"{j}/{n} = {_show(Decimal(100 * j) / Decimal(n), raw)}%" for j in (k, k + 1) if 0 <= j <= n)
    return ctx.problem(
        "percent-impossible",
        table,
        rec,
        field,
        f"the paper prints {raw}% without a count, but no whole number of patients out of "
        f"{n} ({n_label}) gives it ({near}); {PAPERS_FIGURE}",
    )


def _sum(rec: Record, names: tuple[str, ...]) -> int | None:
    values = [rec.get(n) for n in names]
    return sum(values) if all(v is not None for v in values) else None


def _orr(rec: Record) -> tuple[int | None, str]:
    if rec.get("orr_n") is not None:
        return rec.get("orr_n"), "ORR n"
    return _sum(rec, ("cr", "pr")), "CR+PR"


def _dcr(rec: Record) -> tuple[int | None, str]:
    if rec.get("dcr_n") is not None:
        return rec.get("dcr_n"), "DCR n"
    return _sum(rec, ("cr", "pr", "sd")), "CR+PR+SD"


@check(CHECKS, "percent-mismatch", "percent-impossible")
def printed_percentages(ctx: Context) -> Iterator[Problem]:
    """Printed percentages against their counts and denominators."""
    for rec in ctx.loaded.rows("response"):
        n = rec.get("n_evaluable")
        for field, (count, label) in (("orr_percent", _orr(rec)), ("dcr_percent", _dcr(rec))):
            p = _percent_problem(ctx, "response", rec, field, count, label, n, "n_evaluable")
            if p is not None:
                yield p
    for rec in ctx.loaded.rows("adverse_events"):
        p = _percent_problem(
            ctx, "adverse_events", rec, "percent", rec.get("events"), "events", rec.get("n_at_risk"), "n_at_risk"
        )
        if p is not None:
            yield p
    for rec in ctx.loaded.rows("baseline"):
        if rec.get("percent") is None or not _arm_ok(ctx, rec):
            continue
        pop, arm = rec.get("population_id"), rec.get("arm_id")
        n = ctx.n_of(pop, arm)
        label = f"the arm's n in {pop}" if arm is not None else f"the n of {pop}"
        alternatives = ((ctx.population_n(pop), f"all arms of {pop}"),) if arm is not None else ()
        p = _percent_problem(ctx, "baseline", rec, "percent", rec.get("count"), "count", n, label, alternatives)
        if p is not None:
            yield p
    for rec in ctx.loaded.rows("binary_outcomes"):
        n, label = rec.get("n"), "n"
        if n is None and _arm_ok(ctx, rec) and rec.get("arm_id") is not None:
            n = ctx.n_of(rec.get("population_id"), rec.get("arm_id"))
            label = f"the arm's n in {rec.get('population_id')}; n is not printed"
        p = _percent_problem(ctx, "binary_outcomes", rec, "percent", rec.get("events"), "events", n, label)
        if p is not None:
            yield p


@check(CHECKS, "orr-n-mismatch", "dcr-n-mismatch")
def response_totals(ctx: Context) -> Iterator[Problem]:
    """The printed ORR n is CR+PR and the printed DCR n is CR+PR+SD."""
    for rec in ctx.loaded.rows("response"):
        n = rec.get("n_evaluable")
        counts = [rec.get(f) for f in ("cr", "pr", "sd", "pd", "orr_n", "dcr_n")]
        if n is not None and any(c is not None and c > n for c in counts):
            continue  # a count above n is an error already (response-count-exceeds-n)
        orr, cr_pr = rec.get("orr_n"), _sum(rec, ("cr", "pr"))
        if orr is not None and cr_pr is not None and orr != cr_pr:
            yield ctx.problem(
                "orr-n-mismatch",
                "response",
                rec,
                "orr_n",
                f"the paper prints {orr} objective responses, but CR+PR = {rec.get('cr')}+"
                f"{rec.get('pr')} = {cr_pr}; {PAPERS_FIGURE}",
            )
        dcr, cr_pr_sd = rec.get("dcr_n"), _sum(rec, ("cr", "pr", "sd"))
        if dcr is not None and cr_pr_sd is not None and dcr != cr_pr_sd:
            yield ctx.problem(
                "dcr-n-mismatch",
                "response",
                rec,
                "dcr_n",
                f"the paper prints disease control in {dcr}, but CR+PR+SD = {rec.get('cr')}+"
                f"{rec.get('pr')}+{rec.get('sd')} = {cr_pr_sd}; {PAPERS_FIGURE}",
            )


def _complete(rows: list[Record]) -> bool:
    """Whether the categories of one characteristic look exhaustive and exclusive."""
    categories = {str(r.get("category")).strip().casefold() for r in rows}
    if any(categories == pair for pair in COMPLEMENTARY):
        return True
    percents = [(r.get("percent"), r.text("percent")) for r in rows]
    if any(p is None for p, _ in percents):
        return False
    total = sum(p for p, _ in percents)
    tolerance = sum(_half(raw) for _, raw in percents) + Decimal("0.05")
    return abs(total - 100) <= tolerance


@check(CHECKS, "baseline-sum")
def baseline_totals(ctx: Context) -> Iterator[Problem]:
    """Counts of all categories of one characteristic add up to the arm's n (only when complete)."""
    groups: dict[tuple[Any, ...], list[Record]] = {}
    for rec in ctx.loaded.rows("baseline"):
        if rec.get("statistic") is not None or "statistic" in rec.bad:
            continue
        key = (rec.get("population_id"), rec.get("arm_id"), rec.get("characteristic"))
        groups.setdefault(key, []).append(rec)
    for (pop, arm, characteristic), rows in groups.items():
        if len(rows) < 2 or any(r.get("count") is None for r in rows) or not _complete(rows):
            continue
        if not _arm_ok(ctx, rows[0]):
            continue
        n = ctx.n_of(pop, arm)
        total = sum(r.get("count") for r in rows)
        if n is None or total == n or any(r.get("count") > n for r in rows):
            continue  # a count above n is an error already (baseline-count-exceeds-n)
        parts = ", ".join(f"{r.get('category')} {r.get('count')}" for r in rows)
        whose = f"the arm's n in {pop}" if arm is not None else f"the n of {pop}"
        yield ctx.problem(
            "baseline-sum",
            "baseline",
            rows[0],
            "count",
            f"the categories of '{characteristic}' ({parts}) add up to {total}, but {whose} is {n}; {PAPERS_FIGURE}",
        )


@check(CHECKS, "p-value-inconsistent")
def response_p_values(ctx: Context) -> Iterator[Problem]:
    """Printed between-arm ORR/DCR p-values against what the response counts can give."""
    response: dict[tuple[Any, Any, Any], Record] = {}
    for rec in ctx.loaded.rows("response"):
        response.setdefault((rec.get("population_id"), rec.get("arm_id"), rec.get("criterion")), rec)
    todo: list[tuple[Record, str, int, int, int, int, str, str]] = []
    counts_from = {o.get("outcome_id"): o.text("counts_from") for o in ctx.loaded.rows("outcomes")}
    for rec in ctx.loaded.rows("effects"):
        outcome, printed = rec.get("outcome"), rec.text("p_value")
        source = counts_from.get(outcome, "")
        if rec.get("measure") != "test" or source not in ("response:orr", "response:dcr") or not printed:
            continue
        pop, crit = rec.get("population_id"), rec.get("criterion")
        ia, ca = rec.get("intervention_arm_id"), rec.get("control_arm_id")
        r1, r2 = response.get((pop, ia, crit)), response.get((pop, ca, crit))
        if r1 is None or r2 is None:
            continue
        (a, label), (c, _) = (_orr(r1), _orr(r2)) if source == "response:orr" else (_dcr(r1), _dcr(r2))
        n1, n2 = r1.get("n_evaluable"), r2.get("n_evaluable")
        if None in (a, c, n1, n2) or not (0 <= a <= n1 and 0 <= c <= n2) or n1 == 0 or n2 == 0:
            continue
        todo.append((rec, printed, a, n1, c, n2, str(outcome), label))
    if not todo:
        return
    try:  # scipy is imported only when there is something to recompute
        from livingevidence.analysis.effects import p_value_consistent, two_by_two_p_values
    except ImportError:  # pragma: no cover - the analysis helper is part of the package
        return
    for rec, printed, a, n1, c, n2, outcome, label in todo:
        try:
            result = two_by_two_p_values(a, n1, c, n2)
            verdict = p_value_consistent(printed, result)
        except ValueError:
            continue  # an unreadable p-value is a layer-1 pattern problem
        if verdict.consistent:
            continue
        candidates = result.candidates()
        shown = ", ".join(f"{name} {_p(p)}" for name, p in candidates.items())
        yield ctx.problem(
            "p-value-inconsistent",
            "effects",
            rec,
            "p_value",
            f"the paper prints p = {printed} for {outcome} ({rec.get('criterion')}, "
            f"{rec.get('intervention_arm_id')} {a}/{n1} vs {rec.get('control_arm_id')} {c}/{n2}, {label}), but "
            f"these counts give {shown}; {PAPERS_FIGURE}",
        )


def _p(p: float) -> str:
    return "<0.0001" if p < 0.0001 else fmt(round(p, 4))
