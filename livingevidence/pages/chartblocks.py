"""Turn model rows into chart blocks: the Vega-Lite spec, its one-sentence description, and the data as a table.

Each block is what the `chart` macro renders: a container the browser draws into, a caption that says
what the chart shows, a link to the chart data, and the same data as a table (the text alternative).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from livingevidence.charts import adverse_events, medians, regimen_colours, response
from livingevidence.model import EvidencePackage
from livingevidence.pages.common import Table
from livingevidence.pages.render import NOT_REPORTED, fmt_num

RESPONSE_CATEGORIES = ("CR", "PR", "SD", "PD")


@cache
def _colours(regimen_ids: tuple[str, ...]) -> tuple[list[str], list[str]]:
    mapping = regimen_colours(list(regimen_ids))
    return list(mapping), list(mapping.values())


def colour_scale(package: EvidencePackage) -> dict[str, list[str]]:
    """The site-wide regimen -> colour mapping as chart keyword arguments."""
    domain, range_ = _colours(tuple(package.regimen_order()))
    return {"colour_domain": domain, "colour_range": range_}


def outcome_headings(package: EvidencePackage) -> dict[str, str]:
    """Outcome id -> chart heading: 'Overall survival (OS)', or the label alone when it is its own short name."""
    return {
        o.outcome_id: o.label if o.short_label == o.label else f"{o.label} ({o.short_label})"
        for o in package.vocabulary.outcomes.values()
    }


def grade_names(package: EvidencePackage) -> dict[str, str]:
    """Adverse-event grade code -> its label (labels.csv)."""
    voc = package.vocabulary
    return {
        lb.value: voc.label("adverse_events", "grade", lb.value) for lb in package.rows("labels") if lb.field == "grade"
    }


def _block(spec: dict, description: str, data_href: str, table: Table) -> dict[str, Any]:
    return {"spec": spec, "description": description, "data_href": data_href, "table": table}


def median_rows(package: EvidencePackage, survival_rows: list, with_study: bool = False) -> list[dict]:
    """Chart rows for medians with CIs (rows without a median are left out of the chart, not the table)."""
    out = []
    for s in survival_rows:
        if s.median_months is None:
            continue
        arm = package.arms[s.arm_id]
        pop = package.populations[s.population_id]
        study = package.studies[arm.study_id]
        label = f"{arm.label}, {pop.label}" if not with_study else f"{study.label}: {arm.label}, {pop.label}"
        out.append(
            {
                "row_label": label,
                "study": study.label,
                "population": pop.label,
                "arm": arm.label,
                "regimen_id": arm.regimen_id,
                "regimen": package.regimens[arm.regimen_id].label,
                "outcome": s.outcome,
                "median": s.median_months,
                "ci_low": s.ci_low,
                "ci_high": s.ci_high,
            }
        )
    return out


def medians_block(package: EvidencePackage, survival_rows: list, title: str, data_href: str, with_study: bool = False):
    """Medians with CIs, per arm and population."""
    rows = median_rows(package, survival_rows, with_study)
    if not rows:
        return None
    spec = medians.spec(rows, title=title, headings=outcome_headings(package), **colour_scale(package))
    table = Table(
        ["Row", "Outcome", "Median (months)", "95% CI"],
        [
            [
                r["row_label"],
                r["outcome"],
                fmt_num(r["median"]),
                NOT_REPORTED
                if r["ci_low"] is None and r["ci_high"] is None
                else f"{fmt_num(r['ci_low'])} to {fmt_num(r['ci_high'])}",
            ]
            for r in rows
        ],
    )
    return _block(spec, medians.describe(rows), data_href, table)


def response_blocks(package: EvidencePackage, response_rows: list, study_label: str, data_href: str) -> list[dict]:
    """One response-composition chart per criterion, for rows with all four categories."""
    blocks = []
    for criterion in sorted({r.criterion for r in response_rows}):
        rows = []
        for r in response_rows:
            if r.criterion != criterion or None in (r.cr, r.pr, r.sd, r.pd):
                continue
            arm = package.arms[r.arm_id]
            pop = package.populations[r.population_id]
            for cat in RESPONSE_CATEGORIES:
                count = getattr(r, cat.lower())
                rows.append(
                    {
                        "arm": arm.label,
                        "population": pop.label,
                        "criterion": criterion,
                        "category": cat,
                        "count": count,
                        "percent": round(100 * count / r.n_evaluable, 1) if r.n_evaluable else 0.0,
                        "regimen_id": arm.regimen_id,
                    }
                )
        if not rows:
            continue
        spec = response.spec(rows, title=f"Best response by {criterion} in {study_label}", **colour_scale(package))
        table = Table(
            ["Arm", "Category", "Patients", "Percent of evaluable"],
            [[f"{x['arm']}, {x['population']}", x["category"], x["count"], fmt_num(x["percent"])] for x in rows],
        )
        blocks.append(_block(spec, response.describe(rows), data_href, table))
    return blocks


#: Adverse-event terms drawn in a study's chart (the most frequent first); the table lists every term. A chart of
#: every term of a large study was 20,000 px tall on a phone.
CHART_TERMS = 12


def _most_frequent_terms(rows: list[dict]) -> tuple[list[dict], int, int]:
    """The rows of the CHART_TERMS terms with the highest percentage in any arm; (rows, shown, total terms)."""
    top: dict[str, float] = {}
    for r in rows:
        top[r["term"]] = max(top.get(r["term"], 0.0), r["percent"])
    keep = set(sorted(top, key=lambda t: (-top[t], t))[:CHART_TERMS])
    return [r for r in rows if r["term"] in keep], len(keep), len(top)


def adverse_events_block(package: EvidencePackage, ae_rows: list, title: str, data_href: str):
    """Adverse events side by side (per-arm rows with a count or a printed percentage)."""
    rows = []
    for a in ae_rows:
        if a.arm_id is None:
            continue
        pct = (
            a.percent
            if a.percent is not None
            else (round(100 * a.events / a.n_at_risk, 1) if a.events is not None else None)
        )
        if pct is None:
            continue
        arm = package.arms[a.arm_id]
        pop = package.populations[a.population_id]
        rows.append(
            {
                "term": a.term,
                "grade": a.grade,
                "arm": f"{arm.label}, {pop.label}",
                "regimen_id": arm.regimen_id,
                "percent": pct,
                "events": a.events,
                "n": a.n_at_risk,
            }
        )
    if not rows:
        return None
    rows, shown, total = _most_frequent_terms(rows)
    if shown < total:
        title = f"{title}: the {shown} most frequent of {total} terms (all in the table below)"
    names = grade_names(package)
    spec = adverse_events.spec(rows, title=title, grade_names=names, **colour_scale(package))
    table = Table(
        ["Term", "Grade", "Arm", "Percent", "Patients", "At risk"],
        [[x["term"], x["grade"], x["arm"], fmt_num(x["percent"]), fmt_num(x["events"]), x["n"]] for x in rows],
    )
    return _block(spec, adverse_events.describe(rows, names), data_href, table)
