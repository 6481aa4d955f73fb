"""Layer 2: judgements. Risk-of-bias assessments follow their tool, every judgement says why and where, and
the maintainers' certainty decisions are consistent with the proposal they decide on.

The tools (domains, scales, overall rules) are methodology and live in analysis/appraisal/tools.py; these
checks only read them. A study without an assessment is a warning (its pages say "not assessed"); an
assessment that breaks its tool's rules is an error naming the row and the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from livingevidence.analysis.appraisal.tools import OVERALL, TOOLS, Tool, tool_for_design
from livingevidence.checks.context import Check, Context, check
from livingevidence.checks.data import Record
from livingevidence.report import Problem

__all__ = ["CHECKS"]

CHECKS: list[Check] = []

# How severe an overall judgement is, for "less severe than the rule gives" (an error) versus "different"
# (a warning). No information ranks with moderate: whether a domain that lacks information is a key one is
# the assessor's call, so recording moderate instead is shown, not refused.
_RANK = {
    "low": 0,
    "moderate": 1,
    "some-concerns": 1,
    "no-information": 1,
    "serious": 2,
    "high": 2,
    "critical": 3,
}


def _tool_of(rec: Record) -> Tool | None:
    return TOOLS.get(rec.get("tool"))


@check(CHECKS, "rob-tool", "rob-domain", "rob-judgement")
def rob_rows(ctx: Context) -> Iterator[Problem]:
    """Each row's tool fits the study's design, its version is known, its domain and judgement are the tool's."""
    first: dict[Any, tuple[Any, Any, int]] = {}
    for rec in ctx.loaded.rows("risk_of_bias"):
        sid, tool = rec.get("study_id"), _tool_of(rec)
        if sid is None or tool is None:
            continue
        study = ctx.studies.get(sid)
        design = study.get("design") if study is not None else None
        wanted = tool_for_design(design) if design is not None else None
        version = rec.get("tool_version")
        if wanted is not None and wanted.id != tool.id:
            yield ctx.problem(
                "rob-tool",
                "risk_of_bias",
                rec,
                "tool",
                f"{sid} is a '{design}' study, assessed with {wanted.name} ({wanted.id}), not {tool.name}",
            )
            continue
        if version is not None and version not in tool.versions:
            yield ctx.problem(
                "rob-tool",
                "risk_of_bias",
                rec,
                "tool_version",
                f"'{version}' is not a version of {tool.name} the generator knows ({', '.join(tool.versions)})",
            )
        elif (tool.id, version) != (seen := first.setdefault(sid, (tool.id, version, rec.line)))[:2]:
            yield ctx.problem(
                "rob-tool",
                "risk_of_bias",
                rec,
                "tool_version" if tool.id == seen[0] else "tool",
                f"{sid}'s row on line {seen[2]} uses {seen[0]} {seen[1]}, this one {tool.id} {version}",
            )
        domain, judgement = rec.get("domain"), rec.get("judgement")
        if domain is not None and domain != OVERALL and tool.domain(domain) is None:
            yield ctx.problem(
                "rob-domain",
                "risk_of_bias",
                rec,
                "domain",
                f"'{domain}' is not a domain of {tool.name}",
                f"use one of {', '.join(tool.domain_ids)} or {OVERALL}",
            )
        if judgement is not None and judgement not in tool.scale:
            yield ctx.problem(
                "rob-judgement",
                "risk_of_bias",
                rec,
                "judgement",
                f"'{judgement}' is not on the {tool.name} scale",
                f"use one of {', '.join(tool.scale)}",
            )


@check(CHECKS, "appraisal-support")
def supports(ctx: Context) -> Iterator[Problem]:
    """Every judgement has its support and its location."""
    what = {"support": "why (support)", "location": "where in the paper (location)"}
    for table in ("risk_of_bias", "indirectness"):
        for rec in ctx.loaded.rows(table):
            for name, words in what.items():
                if name not in rec.bad and not rec.text(name):
                    yield ctx.problem("appraisal-support", table, rec, name, f"the judgement does not say {words}")


def _usable(rec: Record, tool: Tool) -> bool:
    """A row the overall rule can use: of its study's tool, with a domain and judgement of that tool."""
    domain, judgement = rec.get("domain"), rec.get("judgement")
    return _tool_of(rec) is tool and judgement in tool.scale and (domain == OVERALL or tool.domain(domain) is not None)


def _profiles(tool: Tool, general: dict[str, Record], specific: dict[str, dict[str, Record]], outcome: Any):
    """(what, domain judgements) the overall row of `outcome` (None: every outcome) speaks for, when complete."""
    names = tool.domain_ids
    if outcome is not None:
        effective = {**general, **specific.get(outcome, {})}
        return [(f"outcome {outcome}", effective)] if all(d in effective for d in names) else []
    out = [("all outcomes", general)] if all(d in general for d in names) else []
    for oc, rows in specific.items():
        effective = {**general, **rows}
        if all(d in effective for d in names):
            out.append((f"outcome {oc}", effective))
    return out


@check(CHECKS, "rob-incomplete", "rob-overall", "rob-overall-differs")
def overall_rule(ctx: Context) -> Iterator[Problem]:
    """Every domain is judged; a recorded overall judgement follows the tool's rule."""
    by_study: dict[Any, list[Record]] = {}
    for rec in ctx.loaded.rows("risk_of_bias"):
        if rec.get("study_id") is not None and _tool_of(rec) is not None:
            by_study.setdefault(rec.get("study_id"), []).append(rec)
    for sid, rows in by_study.items():
        study = ctx.studies.get(sid)
        tool = tool_for_design(study.get("design")) if study is not None else _tool_of(rows[0])
        if any(_tool_of(r) is not tool or r.get("tool_version") != rows[0].get("tool_version") for r in rows):
            continue  # rob-tool reports the rows; the rule cannot say which tool's domains are missing
        usable = [r for r in rows if _usable(r, tool)]
        if len(usable) < len(rows):
            continue  # rob-domain or rob-judgement reports the row; it would only look missing here
        general: dict[str, Record] = {}
        specific: dict[str, dict[str, Record]] = {}
        overall: dict[Any, Record] = {}
        for r in usable:
            domain, outcome = r.get("domain"), r.get("outcome")
            if domain == OVERALL:
                overall.setdefault(outcome, r)
            elif outcome is None:
                general.setdefault(domain, r)
            else:
                specific.setdefault(outcome, {}).setdefault(domain, r)
        judged = set(general) | {d for rows_ in specific.values() for d in rows_}
        missing = [d for d in tool.domains if d.id not in judged]
        if missing:
            names = "; ".join(f"{d.short} {d.id}" for d in missing)
            yield ctx.problem(
                "rob-incomplete", "risk_of_bias", rows[0], "domain", f"{sid}'s {tool.name} assessment has no {names}"
            )
            continue
        for outcome, rec in overall.items():
            yield from _check_overall(ctx, tool, rec, _profiles(tool, general, specific, outcome))


def _check_overall(ctx: Context, tool: Tool, rec: Record, profiles: list) -> Iterator[Problem]:
    recorded = rec.get("judgement")
    for what, rows in profiles:
        judgements = [r.get("judgement") for d, r in rows.items() if d in tool.domain_ids]
        if recorded in tool.allowed_overall(judgements):
            continue
        computed = tool.overall(judgements)
        rule = "rob-overall" if _RANK[recorded] < _RANK[computed] else "rob-overall-differs"
        yield ctx.problem(
            rule,
            "risk_of_bias",
            rec,
            "judgement",
            f"the {tool.name} rule gives '{computed}' for {what} from its domain judgements, not '{recorded}'",
        )
        return


@check(CHECKS, "rob-missing")
def every_study_assessed(ctx: Context) -> Iterator[Problem]:
    """Every study has rows in risk_of_bias.csv (a warning: pages then say 'not assessed')."""
    if "risk_of_bias" in ctx.loaded.failed:
        return  # its own problem is reported; every study would look unassessed
    assessed = {rec.get("study_id") for rec in ctx.loaded.rows("risk_of_bias")}
    for rec in ctx.loaded.rows("studies"):
        sid = rec.get("study_id")
        if sid is not None and sid not in assessed:
            tool = tool_for_design(rec.get("design"))
            yield ctx.problem(
                "rob-missing",
                "studies",
                rec,
                "study_id",
                f"{sid} has no risk-of-bias assessment ({tool.name}, the tool for '{rec.get('design')}' studies)",
            )


@check(CHECKS, "indirectness-study")
def indirectness_studies(ctx: Context) -> Iterator[Problem]:
    """A concern names a study with arms of one of the comparison's regimen pairs."""
    pairs: dict[Any, set[tuple[Any, Any]]] = {}
    for rec in ctx.loaded.rows("comparison_pairs"):
        pairs.setdefault(rec.get("comparison_id"), set()).add(
            (rec.get("intervention_regimen_id"), rec.get("control_regimen_id"))
        )
    for rec in ctx.loaded.rows("indirectness"):
        cid, sid = rec.get("comparison_id"), rec.get("study_id")
        if cid not in ctx.comparisons or sid not in ctx.studies or not ctx.arms_loaded:
            continue  # an unknown id is the foreign-key check's to report
        regimens = {ctx.arms[a].get("regimen_id") for a in ctx.arms_of_study(sid)}
        if not any(i in regimens and c in regimens for i, c in pairs.get(cid, ())):
            yield ctx.problem(
                "indirectness-study",
                "indirectness",
                rec,
                "study_id",
                f"{sid} has no arms of a regimen pair of {cid}, so it does not contribute to it",
            )


@check(CHECKS, "certainty-decision")
def certainty_decisions(ctx: Context) -> Iterator[Problem]:
    """Confirmed = as proposed; overridden = different, with a reason; a named analysis is of the outcome."""
    for rec in ctx.loaded.rows("certainty"):
        outcome, analysis = rec.get("outcome"), rec.get("analysis")
        decision, proposed, rating = rec.get("decision"), rec.get("proposed_rating"), rec.get("rating")
        if outcome is not None and analysis is not None and not analysis.startswith(f"{outcome.lower()}-"):
            yield ctx.problem(
                "certainty-decision",
                "certainty",
                rec,
                "analysis",
                f"'{analysis}' is not an analysis of {outcome} (their keys start with '{outcome.lower()}-')",
            )
        if None in (decision, proposed, rating):
            continue
        if decision == "confirmed" and rating != proposed:
            yield ctx.problem(
                "certainty-decision",
                "certainty",
                rec,
                "rating",
                f"a confirmed rating is the proposed one ('{proposed}'), not '{rating}'",
                "write decision 'overridden' and the reason, or copy the proposed rating",
            )
        elif decision == "overridden" and rating == proposed:
            yield ctx.problem(
                "certainty-decision",
                "certainty",
                rec,
                "decision",
                f"the rating '{rating}' is the proposed one, so it is confirmed, not overridden",
                "write decision 'confirmed'",
            )
        elif decision == "overridden" and not rec.text("reason") and "reason" not in rec.bad:
            yield ctx.problem(
                "certainty-decision", "certainty", rec, "reason", "an override does not say why (reason is empty)"
            )
