"""Funnel plot of one meta-analysis (from 10 studies on, beside Egger's test): each study's effect against its
standard error (0 at the top), the pooled estimate as a vertical line and the pseudo 95% confidence limits
(estimate ± 1.96 SE) as a funnel. Ratios are drawn on a log axis.

Row dict (one per study)::

    {"label": "Study A", "yi": -0.35, "se": 0.21}   # yi on the analysis scale (log ratio or difference)

`spec(rows, pooled=mu, ...)` takes the pooled estimate on the same scale.
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt

from livingevidence.charts import theme
from livingevidence.charts._template import LABELS, ROWS, Template, labels_layer, num, slot, text, top_level

Z = 1.959964
_SLOTS = ("x_domain", "y_domain", "x_title", "lines")


def _build(log_scale: bool) -> alt.TopLevelMixin:
    """The Altair template for a log or a linear effect axis."""
    x_scale = alt.Scale(type="log" if log_scale else "linear", domain=[slot("x_domain")], nice=False, zero=False)
    x_axis = alt.Axis(title=slot("x_title"), format="~g", grid=False, titleFontWeight="normal", labelOverlap=True)
    y = alt.Y(
        "se:Q",
        title="Standard error",
        scale=alt.Scale(domain=[slot("y_domain")], reverse=True, nice=False, zero=True),
        axis=alt.Axis(grid=True, format="~g"),
    )
    tooltip = [
        alt.Tooltip("label:N", title="Study"),
        alt.Tooltip("_effect_text:N", title="Effect"),
        alt.Tooltip("_se_text:N", title="Standard error"),
    ]
    points = (
        alt.Chart()
        .mark_point(style=theme.STYLE_DOT, shape="circle", filled=False, size=60, strokeWidth=1.5)
        .encode(x=alt.X("effect:Q", scale=x_scale, axis=x_axis), y=y, tooltip=tooltip)
    )
    lines = (
        alt.Chart(alt.Data(values=[slot("lines")]))
        .mark_line(style=theme.STYLE_REF, strokeDash=[4, 3], strokeWidth=1.2)
        .encode(
            x=alt.X("x:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("y:Q", scale=alt.Scale(domain=[slot("y_domain")], reverse=True, nice=False, zero=True)),
            detail="line:N",
            order="y:Q",
        )
    )
    # the (empty) label layer carries the shared label-column and legend params
    return top_level(alt.layer(lines, points, labels_layer(), data=ROWS))


_TEMPLATES = {log: Template(lambda log=log: _build(log), _SLOTS) for log in (True, False)}


def spec(
    rows: list[dict[str, Any]], *, title: str, pooled: float, ratio: bool, measure: str = "", **_: Any
) -> dict[str, Any]:
    """Vega-Lite spec of the funnel plot (`colour_domain`/`colour_range` are accepted and not used)."""
    to_natural = math.exp if ratio else float
    prepared = []
    for r in rows:
        yi, se = num(r.get("yi")), num(r.get("se"))
        if yi is None or se is None:
            continue
        prepared.append(
            {
                "label": text(r.get("label")),
                "effect": to_natural(yi),
                "se": se,
                "_effect_text": f"{to_natural(yi):.3g}",
                "_se_text": f"{se:.3g}",
            }
        )
    top = max((p["se"] for p in prepared), default=1.0) * 1.05
    lines = [{"line": "pooled", "x": to_natural(pooled), "y": y} for y in (0.0, top)]
    lines += [
        {"line": side, "x": to_natural(pooled + s * Z * y), "y": y}
        for side, s in (("low", -1), ("high", 1))
        for y in (0.0, top)
    ]
    xs = [p["effect"] for p in prepared] + [v["x"] for v in lines]
    low, high = min(xs), max(xs)
    if ratio:
        pad = (math.log(high) - math.log(low)) * 0.05 or 0.1
        domain = [math.exp(math.log(low) - pad), math.exp(math.log(high) + pad)]
    else:
        pad = (high - low) * 0.05 or 0.1
        domain = [low - pad, high + pad]
    name = {"HR": "Hazard ratio", "RR": "Risk ratio", "OR": "Odds ratio"}.get(measure, measure or "Effect")
    return _TEMPLATES[ratio].fill(
        prepared,
        title=title,
        subtitle="",
        description=describe(rows),
        x_domain=[float(f"{d:.6g}") for d in domain],
        y_domain=[0, float(f"{top:.6g}")],
        x_title=f"{name} (log scale)" if ratio else name,
        lines=lines,
        le_label_width=0,
        le_legend_height=-12,
        top={"height": 260, "datasets": {LABELS.name: []}},
    )


def describe(rows: list[dict[str, Any]]) -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    n = len(rows)
    return (
        f"Funnel plot of {n} {'study' if n == 1 else 'studies'}: each study's effect against its standard error, "
        "with the pooled estimate and its pseudo 95% confidence limits as dashed lines."
    )
