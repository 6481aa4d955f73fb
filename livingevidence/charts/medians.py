"""Median survival (months) with its 95% CI, one row per arm/population, grouped under outcome headings.

Used on study pages (rows of one study) and on regimen pages (rows from many studies: the study name then
becomes the first line of each row label, see `label_with_study`).

Row dict (one per arm x population x outcome; order = drawing order within an outcome)::

    {"row_label": "TRP, after PSM", "study": "Li et al.", "population": "After PSM", "arm": "TRP",
     "regimen_id": "drug-a-b", "regimen": "Drug A + drug B",
     "outcome": "PFS" | "OS" | "TTP" | ..., "median": 6.5, "ci_low": None | float, "ci_high": None | float}

The CI whisker is drawn only when both limits are reported; otherwise the tooltip says which limit is missing.
Outcomes are drawn in the order they first appear in `rows`, each under its own heading row.
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

NAMES_PARAM = "le_names"
_SLOTS = ("x_domain", "colour_domain", "colour_range", NAMES_PARAM)


def _build() -> alt.TopLevelMixin:
    """The Altair template (built once; per-page values are slots)."""
    y = alt.Y("_y:Q", scale=None, axis=None)
    colour = alt.Color(
        "regimen_id:N",
        scale=alt.Scale(domain=[slot("colour_domain")], range=[slot("colour_range")]),
        legend=legend("Regimen", labelExpr=f"{NAMES_PARAM}[datum.value] || datum.value"),
    )
    tooltip = [
        alt.Tooltip("study:N", title="Study"),
        alt.Tooltip("population:N", title="Population"),
        alt.Tooltip("arm:N", title="Arm"),
        alt.Tooltip("regimen:N", title="Regimen"),
        alt.Tooltip("outcome:N", title="Outcome"),
        alt.Tooltip("_median_text:N", title="Median (months)"),
        alt.Tooltip("_ci_text:N", title="95% CI (months)"),
    ]
    x_title = "Median, months"
    x_axis = alt.Axis(title=x_title, tickCount=alt.ExprRef("ceil(width / 70)"), grid=True)
    base = alt.Chart().encode(y=y)
    ci = (
        base.mark_rule(style=theme.STYLE_CI, strokeWidth=2)
        .encode(x=alt.X("ci_low:Q", title=x_title), x2="ci_high:Q", tooltip=tooltip)
        .transform_filter("datum._has_ci")
    )
    dot = base.mark_point(style=theme.STYLE_DOT, size=90).encode(
        x=alt.X("median:Q", scale=alt.Scale(domain=[slot("x_domain")], zero=True, nice=True), axis=x_axis),
        color=colour,
        tooltip=tooltip,
    )
    value = base.mark_text(style=theme.STYLE_TEXT, align="left", baseline="middle", dx=8).encode(
        x=alt.X("_text_x:Q", title=x_title), text="_value_text:N"
    )
    chart = alt.layer(ci, dot, value, labels_layer(), data=ROWS).add_params(
        alt.param(name=NAMES_PARAM, value=slot(NAMES_PARAM))
    )
    return top_level(chart)


_TEMPLATE = Template(_build, _SLOTS)


def _ci_text(low: float | None, high: float | None) -> str:
    """Tooltip text for the CI, saying plainly which limit is missing."""
    if low is not None and high is not None:
        return f"{fmt(low)} to {fmt(high)}"
    if low is None and high is None:
        return "CI not reported"
    if low is None:
        return f"lower limit not reported, upper {fmt(high)}"
    return f"{fmt(low)}, upper limit not reported"


def _value_text(median: float | None, low: float | None, high: float | None) -> str:
    """The label beside the dot: the median, flagged when the CI is incomplete (no whisker is drawn then)."""
    if low is not None and high is not None:
        return fmt(median)
    if low is None and high is None:
        return f"{fmt(median)} (no CI)"
    return f"{fmt(median)} (CI {fmt(low) if low is not None else '?'} to {fmt(high) if high is not None else '?'})"


def spec(
    rows: list[dict[str, Any]],
    *,
    title: str,
    colour_domain: list[str],
    colour_range: list[str],
    subtitle: str = "",
    label_with_study: bool | None = None,
    headings: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Vega-Lite spec: a dot per median (coloured by regimen), a whisker for the 95% CI when reported.

    `label_with_study`: put the study name on the first line of each row label; None (default) does so when
    the rows come from more than one study (regimen pages). `subtitle` is shown under the title.
    `headings` maps a row's outcome id to its group heading (the topic's outcome names).
    """
    with_study = len({text(r.get("study")) for r in rows}) > 1 if label_with_study is None else label_with_study
    layout = Rows()
    prepared: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {}  # outcome -> rows, in order of first appearance
    for row in rows:
        groups.setdefault(text(row.get("outcome")), []).append(row)
    for outcome, outcome_rows in groups.items():
        layout.heading((headings or {}).get(outcome, outcome) or "Outcome not named")
        for row in outcome_rows:
            study, label = text(row.get("study")), text(row.get("row_label"))
            lines = [study, label] if with_study and study and not label.startswith(study) else [label]
            top, bottom, *_ = layout.row(lines)
            median, low, high = num(row.get("median")), num(row.get("ci_low")), num(row.get("ci_high"))
            has_ci = low is not None and high is not None
            prepared.append(
                {
                    "_y": (top + bottom) / 2,
                    "study": study,
                    "population": text(row.get("population")),
                    "arm": text(row.get("arm")),
                    "regimen_id": text(row.get("regimen_id")),
                    "regimen": text(row.get("regimen")),
                    "outcome": outcome,
                    "row_label": label,
                    "median": median,
                    "ci_low": low,
                    "ci_high": high,
                    "_has_ci": has_ci,
                    "_median_text": fmt(median),
                    "_value_text": _value_text(median, low, high),
                    "_ci_text": _ci_text(low, high),
                    "_text_x": max(v for v in (median, high if has_ci else None, 0.0) if v is not None),
                }
            )
    domain, colours = colours_for([r["regimen_id"] for r in prepared], colour_domain, colour_range)
    names = {r["regimen_id"]: r["regimen"] or r["regimen_id"] for r in prepared}
    return _TEMPLATE.fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows),
        colour_domain=domain,
        colour_range=colours,
        # the domain is set here, not derived by Vega: a chart where no row has a CI would otherwise log
        # "Infinite extent" warnings for the (empty) whisker layer
        x_domain=[0, max([r["_text_x"] for r in prepared], default=0.0) or 1.0],
        le_names=names,
        **layout.values(len(domain)),
        top={"height": layout.height, "datasets": layout.datasets()},
    )


def describe(rows: list[dict[str, Any]]) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    outcomes = list(dict.fromkeys(text(r.get("outcome")) for r in rows if text(r.get("outcome"))))
    studies = list(dict.fromkeys(text(r.get("study")) for r in rows if text(r.get("study"))))
    no_ci = sum(1 for r in rows if num(r.get("ci_low")) is None or num(r.get("ci_high")) is None)
    where = f"{len(studies)} studies" if len(studies) > 1 else (studies[0] if studies else "the study")
    what = " and ".join(outcomes) if outcomes else "survival"
    sentence = f"Dot chart of median {what} in months for {len(rows)} arm and population results from {where}"
    sentence += ", with 95% confidence intervals as horizontal lines"
    if no_ci:
        sentence += f" where reported ({no_ci} without a complete interval)"
    return sentence + "."
