"""Risk-of-bias summary of a comparison's studies (robvis "summary plot"): one 100% stacked bar per domain and
one for the overall judgement, split by judgement, each segment with its symbol and count as well as its
colour.

Row dict (one per tool x domain x judgement)::

    {"group": "ROBINS-I", "bar": "D1 Bias due to confounding", "judgement": "serious" | None, "count": 2}

Groups (tools) and bars keep the order of their first row; segments go from the least to the most concern
(robvis order), "no information" and "not assessed" last.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from livingevidence.analysis.appraisal.tools import style
from livingevidence.charts import theme
from livingevidence.charts._template import ROWS, Rows, Template, labels_layer, legend, num, slot, text, top_level
from livingevidence.charts.risk_of_bias import legend_entries

BAR_HEIGHT = 20
_SLOTS = ("judgement_domain", "judgement_range", "legend_labels")


def _build() -> alt.TopLevelMixin:
    """The Altair template (built once; per-page values are slots)."""
    colour = alt.Color(
        "_judgement_text:N",
        scale=alt.Scale(domain=[slot("judgement_domain")], range=[slot("judgement_range")]),
        legend=legend(None, labelExpr=slot("legend_labels"), symbolType="square"),
        sort=None,
    )
    tooltip = [
        alt.Tooltip("bar:N", title="Domain"),
        alt.Tooltip("_judgement_text:N", title="Judgement"),
        alt.Tooltip("_value_text:N", title="Studies"),
    ]
    x = alt.X(
        "_x0:Q",
        title="Share of studies (%)",
        scale=alt.Scale(domain=[0, 100], nice=False),
        axis=alt.Axis(values=[0, 25, 50, 75, 100], grid=True),
    )
    bars = (
        alt.Chart()
        .mark_bar(style=theme.STYLE_BAR)
        .encode(x=x, x2="_x1:Q", y=alt.Y("_y0:Q", scale=None, axis=None), y2="_y1:Q", color=colour, tooltip=tooltip)
    )
    wide_enough = "(datum._x1 - datum._x0) * width / 100 >= 34"
    numbers = (
        alt.Chart()
        .mark_text(baseline="middle", align="center", fontWeight="bold")
        .encode(
            x=alt.X("_mid:Q"),
            y=alt.Y("_ymid:Q", scale=None, axis=None),
            text="_text:N",
            color=alt.Color("_ink:N", scale=None),
            opacity=alt.condition(wide_enough, alt.value(1), alt.value(0)),
            tooltip=tooltip,
        )
    )
    return top_level(alt.layer(bars, numbers, labels_layer(), data=ROWS))


_TEMPLATE = Template(_build, _SLOTS)


def spec(rows: list[dict[str, Any]], *, title: str, subtitle: str = "", **_: Any) -> dict[str, Any]:
    """Vega-Lite spec of the summary plot (`colour_domain`/`colour_range` are accepted and not used)."""
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for r in rows:
        groups.setdefault(text(r.get("group")), {}).setdefault(text(r.get("bar")), []).append(r)
    layout = Rows(min_row=BAR_HEIGHT + 10)
    prepared: list[dict[str, Any]] = []
    for group, bars in groups.items():
        if len(groups) > 1 or group:
            layout.heading(group or "Tool not named")
        for bar, segments in bars.items():
            box = layout.row(bar)
            segments = sorted(segments, key=lambda r: style(r.get("judgement") or None).severity)
            total = sum(num(s.get("count")) or 0.0 for s in segments)
            x0 = 0.0
            for s in segments:
                count = num(s.get("count")) or 0.0
                x1 = min(100.0, x0 + (100.0 * count / total if total else 0.0))
                look = style(s.get("judgement") or None)
                prepared.append(
                    {
                        "_y0": box.middle - BAR_HEIGHT / 2,
                        "_y1": box.middle + BAR_HEIGHT / 2,
                        "_ymid": box.middle,
                        "_x0": round(x0, 6),
                        "_x1": round(x1, 6),
                        "_mid": round((x0 + x1) / 2, 6),
                        "bar": bar,
                        "group": group,
                        "judgement": s.get("judgement") or None,
                        "_judgement_text": look.label,
                        "_text": f"{look.symbol} {count:.0f}",
                        "_ink": look.ink,
                        "_value_text": f"{count:.0f} of {total:.0f}",
                    }
                )
                x0 = x1
    domain, colours, labels = legend_entries([r.get("judgement") or None for r in rows])
    return _TEMPLATE.fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows),
        judgement_domain=domain,
        judgement_range=colours,
        legend_labels=labels,
        **layout.values(len(domain), legend_title=False),
        top={"height": layout.height, "datasets": layout.datasets()},
    )


def describe(rows: list[dict[str, Any]]) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    bars = {(text(r.get("group")), text(r.get("bar"))) for r in rows}
    if not bars:
        return "Risk-of-bias summary plot without judgements."
    return (
        f"Risk-of-bias summary plot: {len(bars)} stacked bars, one per bias domain and one for the overall "
        "judgement, each split into the share of studies with each judgement, marked by a symbol and a colour."
    )
