"""Adverse events side by side: percent of patients per term, one dot per arm, grouped by grade.

Row dict (one per term x grade x arm)::

    {"term": "Rash", "grade": "any" | "3-4" | ">=3" | "5" | ..., "arm": "AB", "regimen_id": "drug-a-b",
     "percent": 25.0 | None, "events": 16 | None, "n": 64 | None,
     # optional: "regimen": "Drug A + drug B" (shown in the legend and tooltip)}

Grades are headings in the order they first occur (instead of a column facet, which cannot shrink to a phone);
within a grade, terms are sorted by their largest percentage, arms in the order they first occur. Each arm has
its regimen's site-wide colour and its own marker shape (so two arms on the same regimen stay apart). A
missing percent is computed from events/n when both are given; otherwise the row says "not reported".
"""

from __future__ import annotations

from typing import Any

import altair as alt

from livingevidence.charts import theme
from livingevidence.charts._template import (
    ROWS,
    Rows,
    Template,
    colours_for,
    fmt,
    labels_layer,
    legend,
    num,
    slot,
    text,
    top_level,
)

SHAPES: tuple[str, ...] = ("circle", "square", "triangle-up", "diamond", "triangle-down", "cross")
NAMES_PARAM = "le_names"
ARM_STEP = 15  # vertical distance between the arms' dots within a term row
_SLOTS = ("x_domain", "arm_domain", "arm_colours", "arm_shapes", NAMES_PARAM)


def _build() -> alt.TopLevelMixin:
    """The Altair template (built once; per-page values are slots)."""
    arm_legend = legend("Arm", labelExpr=f"{NAMES_PARAM}[datum.value] || datum.value")
    colour = alt.Color(
        "arm:N", scale=alt.Scale(domain=[slot("arm_domain")], range=[slot("arm_colours")]), legend=arm_legend
    )
    shape = alt.Shape(
        "arm:N", scale=alt.Scale(domain=[slot("arm_domain")], range=[slot("arm_shapes")]), legend=arm_legend
    )
    tooltip = [
        alt.Tooltip("term:N", title="Adverse event"),
        alt.Tooltip("_grade_name:N", title="Grade"),
        alt.Tooltip("_arm_label:N", title="Arm"),
        alt.Tooltip("_value_text:N", title="Patients"),
    ]
    y = alt.Y("_y:Q", scale=None, axis=None)
    x_axis = alt.Axis(title="Patients with the event (%)", tickCount=alt.ExprRef("ceil(width / 70)"), grid=True)
    reported = alt.Chart().transform_filter("datum.percent != null")
    dots = reported.mark_point(style=theme.STYLE_DOT, size=70).encode(
        x=alt.X("percent:Q", scale=alt.Scale(domain=[slot("x_domain")], zero=True, nice=True), axis=x_axis),
        y=y,
        color=colour,
        shape=shape,
        tooltip=tooltip,
    )
    values = reported.mark_text(style=theme.STYLE_MUTED, align="left", baseline="middle", dx=8).encode(
        x="percent:Q", y=y, text="_percent_text:N"
    )
    missing = (
        alt.Chart()
        .transform_filter("datum.percent == null")
        .mark_text(style=theme.STYLE_MUTED, align="left", baseline="middle", dx=2)
        .encode(x=alt.value(0), y=y, text=alt.value("not reported"), tooltip=tooltip)
    )
    chart = alt.layer(dots, values, missing, labels_layer(), data=ROWS).add_params(
        alt.param(name=NAMES_PARAM, value=slot(NAMES_PARAM))
    )
    return top_level(chart)


_TEMPLATE = Template(_build, _SLOTS)


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """One input row with JSON-safe values; a missing percent is computed from events / n."""
    percent, events, n = num(row.get("percent")), num(row.get("events")), num(row.get("n"))
    if percent is None and events is not None and n:
        percent = round(100.0 * events / n, 1)
    return {
        "term": text(row.get("term")),
        "grade": text(row.get("grade")),
        "arm": text(row.get("arm")),
        "regimen_id": text(row.get("regimen_id")),
        "regimen": text(row.get("regimen")),
        "percent": percent,
        "events": events,
        "n": n,
    }


def spec(
    rows: list[dict[str, Any]],
    *,
    title: str,
    colour_domain: list[str],
    colour_range: list[str],
    subtitle: str = "",
    grade_names: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Vega-Lite spec: dot plot of the percentage of patients with each adverse event, per arm and grade.

    `grade_names` maps a row's grade code to its heading (the topic's labels); unknown codes show as printed.
    """
    clean = [_clean(r) for r in rows]
    arm_regimen: dict[str, str] = {}
    arm_names: dict[str, str] = {}
    # grade -> term -> rows, all in order of first appearance
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in clean:
        arm, regimen = row["arm"], row["regimen"]
        arm_regimen.setdefault(arm, row["regimen_id"])
        arm_names.setdefault(arm, f"{arm} ({regimen})" if regimen and regimen != arm else arm)
        groups.setdefault(row["grade"], {}).setdefault(row["term"], []).append(row)
    arms = list(arm_regimen)
    site_domain, site_colours = colours_for(list(arm_regimen.values()), colour_domain, colour_range)
    colour_of = dict(zip(site_domain, site_colours, strict=True))
    arm_index = {arm: i for i, arm in enumerate(arms)}

    layout = Rows(min_row=26, pad=8)
    prepared: list[dict[str, Any]] = []
    for grade, terms in groups.items():
        grade_name = _grade_name(grade, grade_names)
        layout.heading(grade_name)
        ordered = sorted(terms.items(), key=lambda kv: -max(r["percent"] or 0.0 for r in kv[1]))
        for term, term_rows in ordered:
            term_rows = sorted(term_rows, key=lambda r: arm_index[r["arm"]])
            box = layout.row(term, min_height=len(term_rows) * ARM_STEP + 8)
            first = box.middle - (len(term_rows) - 1) * ARM_STEP / 2
            for i, row in enumerate(term_rows):
                percent, events, n = row["percent"], row["events"], row["n"]
                value_text = f"{fmt(percent)}%" if percent is not None else "not reported"
                if events is not None and n:
                    value_text = f"{int(events)} of {int(n)} ({value_text})"
                del row["regimen"]
                row.update(
                    {
                        "_y": first + i * ARM_STEP,
                        "_grade_name": grade_name,
                        "_arm_label": arm_names[row["arm"]],
                        "_percent_text": f"{fmt(percent)}%" if percent is not None else "",
                        "_value_text": value_text,
                    }
                )
                prepared.append(row)
    return _TEMPLATE.fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows),
        arm_domain=arms,
        x_domain=[0, max([r["percent"] or 0.0 for r in prepared], default=0.0) or 1.0],
        arm_colours=[colour_of[arm_regimen[a]] for a in arms],
        arm_shapes=[SHAPES[i % len(SHAPES)] for i in range(len(arms))],
        le_names=arm_names,
        **layout.values(len(arms)),
        top={"height": layout.height, "datasets": layout.datasets()},
    )


def _grade_name(grade: str, names: dict[str, str] | None) -> str:
    if not grade:
        return "Grade not given"
    name = (names or {}).get(grade) or f"Grade {grade}"
    return name[:1].upper() + name[1:]


def describe(rows: list[dict[str, Any]], grade_names: dict[str, str] | None = None) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    arms = list(dict.fromkeys(text(r.get("arm")) for r in rows if text(r.get("arm"))))
    terms = {text(r.get("term")) for r in rows}
    grades = [_grade_name(g, grade_names).lower() for g in dict.fromkeys(text(r.get("grade")) for r in rows)]
    sentence = f"Dot chart of the percentage of patients with each of {len(terms)} adverse events"
    if arms:
        sentence += f" in the {' and '.join(arms)} arm{'s' if len(arms) > 1 else ''}"
    if grades:
        sentence += f", for {' and for '.join(grades)}"
    return sentence + ", most frequent first."
