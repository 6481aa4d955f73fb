"""Tumour response composition: one 100% stacked horizontal bar per arm (and population), grouped by criterion.

Row dict (one per arm x population x criterion x category)::

    {"arm": "AB", "population": "After matching", "criterion": "Criterion A", "category": "CR" | "PR" | "SD" | "PD",
     "count": 19 | None, "percent": 29.7 | None, "regimen_id": "drug-a-b",
     # optional: "row_label": "TRP, after PSM" (default "<arm>, <population>", or "<arm>" when the arm label
     # already names the population), "study": "Li et al."}

Segments are in the order CR, PR, SD, PD (then NE, not evaluable, if given). Each bar is normalised over its
categories from `count` (from `percent` when a count is missing); the number printed in a segment and the
tooltip use the reported `percent` when there is one. Criteria appear in the order they first occur in `rows`.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from livingevidence.charts import palette, theme
from livingevidence.charts._template import (
    ROWS,
    Rows,
    Template,
    fmt,
    labels_layer,
    legend,
    num,
    slot,
    text,
    top_level,
)

#: Categories in drawing order with their legend names; NE (not evaluable) is optional.
CATEGORIES: tuple[str, ...] = (*palette.RESPONSE_CATEGORIES, "NE")
_COLOURS: tuple[str, ...] = (*palette.RESPONSE_COLOURS, "#8C8C8C")
_NAMES: dict[str, str] = {**palette.RESPONSE_NAMES, "NE": "Not evaluable"}
_WHITE_TEXT = [
    c for c, t in zip(palette.RESPONSE_CATEGORIES, palette.RESPONSE_TEXT_COLOURS, strict=True) if t != "#1A1A1A"
]
BAR_HEIGHT = 20
_SLOTS = ("category_domain", "category_range")


def _build() -> alt.TopLevelMixin:
    """The Altair template (built once; per-page values are slots)."""
    legend_names = " : ".join(f"datum.value == '{c}' ? '{_NAMES[c]} ({c})'" for c in CATEGORIES)
    colour = alt.Color(
        "category:N",
        scale=alt.Scale(domain=[slot("category_domain")], range=[slot("category_range")]),
        legend=legend(None, labelExpr=f"{legend_names} : datum.value", symbolType="square"),
        sort=None,
    )
    tooltip = [
        alt.Tooltip("_bar_label:N", title="Arm"),
        alt.Tooltip("criterion:N", title="Criterion"),
        alt.Tooltip("_category_name:N", title="Response"),
        alt.Tooltip("_value_text:N", title="Patients"),
    ]
    x = alt.X(
        "_x0:Q",
        title="Share of evaluated patients (%)",
        scale=alt.Scale(domain=[0, 100], nice=False),
        axis=alt.Axis(values=[0, 25, 50, 75, 100], grid=True),
    )
    y = alt.Y("_y0:Q", scale=None, axis=None)
    bars = (
        alt.Chart()
        .mark_bar(style=theme.STYLE_BAR)
        .encode(x=x, x2="_x1:Q", y=y, y2="_y1:Q", color=colour, tooltip=tooltip)
    )
    wide_enough = "(datum._x1 - datum._x0) * width / 100 >= 30"
    white = " || ".join(f"datum.category == '{c}'" for c in _WHITE_TEXT)
    numbers = (
        alt.Chart()
        .mark_text(baseline="middle", align="center", fontSize=theme.FONT_SIZE)
        .encode(
            x=alt.X("_mid:Q"),
            y=alt.Y("_ymid:Q", scale=None, axis=None),
            text="_bar_text:N",
            color=alt.condition(white, alt.value("#FFFFFF"), alt.value("#1A1A1A")),
            opacity=alt.condition(wide_enough, alt.value(1), alt.value(0)),
            tooltip=tooltip,
        )
    )
    chart = alt.layer(bars, numbers, labels_layer(), data=ROWS)
    return top_level(chart)


_TEMPLATE = Template(_build, _SLOTS)


def _bar_label(row: dict[str, Any], with_study: bool) -> list[str]:
    label = text(row.get("row_label"))
    if not label:
        arm, population = text(row.get("arm")), text(row.get("population"))
        label = f"{arm}, {population}" if population and population not in arm else arm
    study = text(row.get("study"))
    return [study, label] if with_study and study and not label.startswith(study) else [label]


def spec(
    rows: list[dict[str, Any]],
    *,
    title: str,
    colour_domain: list[str] | None = None,
    colour_range: list[str] | None = None,
    subtitle: str = "",
    label_with_study: bool | None = None,
) -> dict[str, Any]:
    """Vega-Lite spec: 100% stacked bars of CR/PR/SD/PD per arm and population, under criterion headings.

    `colour_domain`/`colour_range` are accepted for a uniform call signature but not used: bars are coloured
    by response category (blue = response, grey = stable, red = progression), not by regimen.
    `label_with_study`: put the study name on the first line of each bar label; None (default) does so when
    the rows come from more than one study.
    """
    del colour_domain, colour_range
    with_study = len({text(r.get("study")) for r in rows}) > 1 if label_with_study is None else label_with_study
    order = {c: i for i, c in enumerate(CATEGORIES)}
    layout = Rows(min_row=BAR_HEIGHT + 10)
    prepared: list[dict[str, Any]] = []
    # criterion -> bar label lines -> segments, in order of first appearance
    groups: dict[str, dict[tuple[str, ...], list[dict[str, Any]]]] = {}
    for row in rows:
        bars = groups.setdefault(text(row.get("criterion")), {})
        bars.setdefault(tuple(_bar_label(row, with_study)), []).append(row)
    for criterion, bars in groups.items():
        layout.heading(criterion or "Criterion not named")
        for lines, segments in bars.items():
            top, bottom, *_ = layout.row(list(lines))
            mid = (top + bottom) / 2
            segments = sorted(segments, key=lambda r: order.get(text(r.get("category")), len(order)))
            use_counts = all(num(r.get("count")) is not None for r in segments)
            values = [num(r.get("count") if use_counts else r.get("percent")) or 0.0 for r in segments]
            total = sum(values)
            n_total = sum(values) if use_counts else None
            x0 = 0.0
            for row, value in zip(segments, values, strict=True):
                share = 100.0 * value / total if total else 0.0
                x1 = min(100.0, x0 + share)
                category = text(row.get("category"))
                percent = num(row.get("percent"))
                shown = percent if percent is not None else share
                count = num(row.get("count"))
                value_text = f"{fmt(percent if percent is not None else share)}%"
                if count is not None and n_total:
                    value_text = f"{int(count)} of {int(n_total)} ({value_text})"
                prepared.append(
                    {
                        "_y0": mid - BAR_HEIGHT / 2,
                        "_y1": mid + BAR_HEIGHT / 2,
                        "_ymid": mid,
                        "_x0": round(x0, 6),
                        "_x1": round(x1, 6),
                        "_mid": round((x0 + x1) / 2, 6),
                        "_bar_label": " · ".join(lines),
                        "_category_name": f"{_NAMES.get(category, category)} ({category})",
                        "_bar_text": f"{shown:.0f}%",
                        "_value_text": value_text,
                        "criterion": criterion,
                        "category": category,
                        "arm": text(row.get("arm")),
                        "population": text(row.get("population")),
                        "regimen_id": text(row.get("regimen_id")),
                        "count": count,
                        "percent": percent,
                    }
                )
                x0 = x1
    present = {r["category"] for r in prepared}
    domain = [c for c in CATEGORIES if c in present] + sorted(present - set(CATEGORIES))
    colours = [_COLOURS[CATEGORIES.index(c)] if c in CATEGORIES else "#B0B0B0" for c in domain]
    return _TEMPLATE.fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows),
        category_domain=domain,
        category_range=colours,
        **layout.values(len(domain), legend_title=False),
        top={"height": layout.height, "datasets": layout.datasets()},
    )


def describe(rows: list[dict[str, Any]]) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    criteria = list(dict.fromkeys(text(r.get("criterion")) for r in rows if text(r.get("criterion"))))
    bars = {(text(r.get("criterion")), text(r.get("arm")), text(r.get("population"))) for r in rows}
    by = f" by {' and '.join(criteria)}" if criteria else ""
    return (
        f"Stacked bar chart of best tumour response{by}: {len(bars)} bars, one per arm and population, each split"
        " into complete response, partial response, stable disease and progressive disease as a share of"
        " evaluated patients."
    )
