"""Traffic-light plot of one study's risk of bias (robvis style): a row per group of outcomes, a column per
domain and one for the overall judgement, each cell a coloured circle WITH its symbol, so no judgement is
told by colour alone.

Row dict (one per cell)::

    {"row": "PFS, ORR" | "All outcomes", "column": "D1" | "Overall", "domain": "Bias due to confounding",
     "judgement": "serious" | None (not judged)}

Columns appear in the order of their first row, rows in the order given. Judgement words, symbols and colours
come from analysis/appraisal/tools.py (+ low, − moderate or some concerns, × serious or high, ! critical,
? no information, – not assessed). The legend above the plot names each symbol.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from livingevidence.analysis.appraisal.tools import style
from livingevidence.charts import theme
from livingevidence.charts._template import (
    ROWS,
    Rows,
    Template,
    labels_layer,
    legend,
    slot,
    text,
    text_width,
    top_level,
)

CELL = 34  # pixels between column centres
DOT_SIZE = 480  # area of a circle, square pixels (about 25 px across)
TOTAL_PARAM = "le_cells_width"  # the columns' natural width; narrower views scale them down to fit
_SCALE = f"min(1, width / max(1, {TOTAL_PARAM}))"
_SLOTS = ("judgement_domain", "judgement_range", "legend_labels", TOTAL_PARAM)


def _build() -> alt.TopLevelMixin:
    """The Altair template (built once; per-page values are slots)."""
    tooltip = [
        alt.Tooltip("row:N", title="Outcomes"),
        alt.Tooltip("_domain_text:N", title="Domain"),
        alt.Tooltip("_judgement_text:N", title="Judgement"),
    ]
    x = alt.X("_xs:Q", scale=None, axis=None)
    y = alt.Y("_y:Q", scale=None, axis=None)
    base = alt.Chart().transform_calculate(_xs=f"datum._x * {_SCALE}")
    cells = base.transform_filter("!datum._head")
    colour = alt.Color(
        "_judgement_text:N",
        scale=alt.Scale(domain=[slot("judgement_domain")], range=[slot("judgement_range")]),
        legend=legend(None, labelExpr=slot("legend_labels"), symbolType="circle", symbolSize=160),
        sort=None,
    )
    size = alt.ExprRef(f"{DOT_SIZE} * pow({_SCALE}, 2)")
    dots = cells.mark_point(shape="circle", filled=True, opacity=1, strokeWidth=0, size=size).encode(
        x=x, y=y, color=colour, tooltip=tooltip
    )
    symbols = cells.mark_text(baseline="middle", align="center", fontSize=15, fontWeight="bold").encode(
        x=x, y=y, text="_symbol:N", color=alt.Color("_ink:N", scale=None), tooltip=tooltip
    )
    heads = (
        base.transform_filter("datum._head")
        .mark_text(style=theme.STYLE_TEXT, baseline="alphabetic", align="center", fontWeight="bold")
        .encode(x=x, y=y, text="column:N")
    )
    chart = alt.layer(dots, symbols, heads, labels_layer(), data=ROWS)
    return top_level(chart.add_params(alt.param(name=TOTAL_PARAM, value=slot(TOTAL_PARAM))))


_TEMPLATE = Template(_build, _SLOTS)


def legend_entries(values: list[str | None]) -> tuple[list[str], list[str], str]:
    """Legend domain (judgement words), colours and the label expression that puts each symbol before its word."""
    styles = list({style(v).label: style(v) for v in values}.values())
    styles.sort(key=lambda s: s.severity)
    labels = " : ".join(f"datum.value == '{s.label}' ? '{s.symbol}  {s.label}'" for s in styles)
    return [s.label for s in styles], [s.fill for s in styles], (labels + " : datum.value") if styles else "''"


def spec(rows: list[dict[str, Any]], *, title: str, subtitle: str = "", **_: Any) -> dict[str, Any]:
    """Vega-Lite spec of the traffic-light plot (`colour_domain`/`colour_range` are accepted and not used)."""
    columns = list(dict.fromkeys(text(r.get("column")) for r in rows))
    names = list(dict.fromkeys(text(r.get("row")) for r in rows))
    layout = Rows(min_row=CELL, pad=8)
    layout.heading("Outcomes")
    head_y = layout.height - 4
    ys = {name: layout.row(name).middle for name in names}
    layout.label_width = max(layout.label_width, text_width("Outcomes") * 1.08)  # the bold heading's width
    xs, left = {}, 0.0
    for c in columns:
        xs[c] = left + _wide(c) / 2
        left += _wide(c)
    prepared: list[dict[str, Any]] = [{"_head": True, "_x": xs[c], "_y": head_y, "column": c} for c in columns]
    for r in rows:
        column, judgement = text(r.get("column")), r.get("judgement") or None
        s = style(judgement)
        prepared.append(
            {
                "_head": False,
                "_x": xs[column],
                "_y": ys[text(r.get("row"))],
                "row": text(r.get("row")),
                "column": column,
                "_domain_text": f"{column}: {text(r.get('domain'))}" if text(r.get("domain")) else column,
                "_judgement_text": s.label,
                "_symbol": s.symbol,
                "_ink": s.ink,
                "judgement": judgement,
            }
        )
    domain, colours, labels = legend_entries([r.get("judgement") or None for r in rows])
    values = layout.values(len(domain), legend_title=False)
    return _TEMPLATE.fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows),
        judgement_domain=domain,
        judgement_range=colours,
        legend_labels=labels,
        le_cells_width=round(left),
        **values,
        top={"height": layout.height, "datasets": layout.datasets()},
    )


def _wide(column: str) -> float:
    """Width of a column: a circle's, or its heading's when that is wider (the Overall column)."""
    return max(CELL, text_width(column) * 1.1 + 8)


def describe(rows: list[dict[str, Any]]) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    overall = [r for r in rows if text(r.get("column")).lower() == "overall"]
    groups = len({text(r.get("row")) for r in rows})
    if not rows:
        return "Risk-of-bias traffic-light plot without judgements."
    worst = sorted({style(r.get("judgement") or None).label.lower() for r in overall}) or ["not given"]
    return (
        f"Risk-of-bias traffic-light plot: {groups} {'row' if groups == 1 else 'rows'} of outcomes, one circle per "
        f"domain with a symbol and a colour for its judgement; overall judgement {' or '.join(worst)}."
    )
