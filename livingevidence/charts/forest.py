"""Forest plot of a meta-analysis: studies, pooled diamond(s), prediction interval, numbers beside the plot.

Row dict (drawn top to bottom in the order given)::

    {"label": "Ma et al., pre-monotherapy cohort", "kind": "study" | "pooled" | "common" | "prediction",
     "estimate": 0.42 | None, "ci_low": 0.27 | None, "ci_high": 0.67 | None,
     "weight": 48.1 | None (percent; None for pooled rows), "text": "0.42 [0.27, 0.67]" | None,
     # optional, study rows: risk-of-bias judgements, drawn as columns right of the numbers
     "rob": [{"column": "D1" | "Overall", "judgement": "serious" | None, "domain": "Bias due to confounding"}]}

- study: a square whose AREA is proportional to the weight (medium-sized when the weight is None), and a
  whisker for the CI (only when both limits are given; a missing limit is said in the numbers column).
- pooled (random effects) and common (common/fixed effect): a diamond from ci_low to ci_high, widest at the
  estimate; the common-effect diamond is drawn paler. Their labels are bold.
- prediction: a thin bar from ci_low to ci_high (the prediction interval), on its own row under the diamond.

A vertical rule marks the line of no effect (1 for ratios, 0 for differences). Ratio measures use a log axis
with readable ticks (0.25, 0.5, 1, 2, ...). "Favours ..." labels sit under the axis, on the side that
`lower_is_better` implies. The numbers (estimate [95% CI] and weight) form two text columns right of the plot;
when the chart is narrower than `NARROW_BELOW` pixels (phones) they move under each label instead, so the
plot keeps a usable width. The row labels are in a column left of the plot.

Risk-of-bias columns (robvis and meta's forest plots): when rows carry `rob`, each judgement is a coloured
circle with its symbol (+ low, − moderate/some concerns, × serious/high, ! critical, ? no information, – not
assessed) in a column per domain and an "Overall" column, right of the weights; on phones only the overall
column is kept. The page says which domain each column is (their names are in the tooltips too).
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt

from livingevidence.analysis.appraisal.tools import style
from livingevidence.charts import theme
from livingevidence.charts._template import (
    LABEL_WIDTH_PARAM,
    LINE_HEIGHT,
    ROWS,
    Rows,
    Template,
    labels_layer,
    num,
    slot,
    text,
    text_width,
    top_level,
    wrap,
)

RATIO_MEASURES = frozenset({"HR", "RR", "OR", "IRR", "ROM"})
MEASURE_NAMES: dict[str, str] = {
    "HR": "Hazard ratio",
    "RR": "Risk ratio",
    "OR": "Odds ratio",
    "IRR": "Incidence rate ratio",
    "RD": "Risk difference",
    "MD": "Mean difference",
    "SMD": "Standardised mean difference",
}
#: Below this chart width (pixels) the numbers move under the labels.
NARROW_BELOW = 560
NARROW_PARAM = "le_narrow"
NULL_PARAM = "le_null"
NUM_WIDTH_PARAM = "le_num_width"
FAVOURS_LINES_PARAM = "le_favours_lines"
#: The line of no effect is kept between these fractions of the axis, leaving room for "Favours" either side.
NULL_POSITION = (0.25, 0.55)
DIAMOND_HALF_HEIGHT = 8
#: The risk-of-bias cells: a named data set, filled per page (see `_rob_cells`).
ROB = alt.NamedData(name="le_rob")
ROB_CELL = 22  # pixels between the centres of two risk-of-bias columns
ROB_GAP = 18  # pixels between the weight column and the first risk-of-bias column
_SLOTS = (
    "x_domain",
    "x_ticks",
    "null_data",
    NULL_PARAM,
    NUM_WIDTH_PARAM,
    FAVOURS_LINES_PARAM,
    "favours_left",
    "favours_right",
    "x_title",
    "num_header",
    "weight_header",
)


def _build(log_scale: bool) -> alt.TopLevelMixin:
    """The Altair template for a log or a linear x axis (built once each; per-page values are slots)."""
    x_scale = (
        alt.Scale(type="log", domain=[slot("x_domain")], nice=False)
        if log_scale
        else alt.Scale(type="linear", domain=[slot("x_domain")], nice=False, zero=False)
    )
    x_axis = alt.Axis(
        title=slot("x_title"),
        values=[slot("x_ticks")],
        format="~g",
        grid=False,
        titlePadding=alt.ExprRef(f"{FAVOURS_LINES_PARAM} * {LINE_HEIGHT} + 16"),  # room for "Favours ..." lines
        labelOverlap=True,
        labelSeparation=6,
        titleFontWeight="normal",
    )
    x = alt.X("estimate:Q", scale=x_scale, axis=x_axis)
    y = alt.Y("_y:Q", scale=None, axis=None)
    tooltip = [
        alt.Tooltip("label:N", title="Row"),
        alt.Tooltip("_num_text:N", title="Estimate [95% CI]"),
        alt.Tooltip("_weight_text:N", title="Weight"),
    ]
    rows = alt.Chart()
    studies = rows.transform_filter("datum.kind == 'study'")
    ci = (
        studies.transform_filter("datum.ci_low != null && datum.ci_high != null")
        .mark_rule(style=theme.STYLE_CI, strokeWidth=1.5)
        .encode(x=alt.X("ci_low:Q", scale=x_scale, axis=x_axis), x2="ci_high:Q", y=y, tooltip=tooltip)
    )
    squares = (
        studies.transform_filter("datum.estimate != null")
        .mark_point(style=theme.STYLE_POOLED, shape="square", filled=True, strokeWidth=0, opacity=1)
        .encode(
            x=x,
            y=y,
            size=alt.Size("_weight:Q", scale=alt.Scale(domain=[0, 100], range=[14, 520]), legend=None),
            tooltip=tooltip,
        )
    )
    # a diamond is an area through three points: (ci_low, y), (estimate, y +/- h), (ci_high, y)
    diamonds = (
        rows.transform_filter(
            "(datum.kind == 'pooled' || datum.kind == 'common') && datum.estimate != null"
            " && datum.ci_low != null && datum.ci_high != null"
        )
        .transform_fold(["ci_low", "estimate", "ci_high"], as_=["_point", "_x"])
        .transform_calculate(
            _h=f"datum._point == 'estimate' ? {DIAMOND_HALF_HEIGHT} : 0",
            _top="datum._y - datum._h",
            _bottom="datum._y + datum._h",
        )
        .mark_area(style=theme.STYLE_POOLED, orient="vertical", strokeWidth=1)
        .encode(
            x=alt.X("_x:Q", scale=x_scale, axis=x_axis),
            y=alt.Y("_top:Q", scale=None, axis=None),
            y2="_bottom:Q",
            detail="label:N",
            fillOpacity=alt.condition("datum.kind == 'common'", alt.value(0.35), alt.value(1)),
            tooltip=tooltip,
        )
    )
    prediction = (
        rows.transform_filter("datum.kind == 'prediction' && datum.ci_low != null && datum.ci_high != null")
        .transform_calculate(_top="datum._y - 2.5", _bottom="datum._y + 2.5")
        .mark_bar(style=theme.STYLE_POOLED, opacity=0.6, strokeWidth=0)
        .encode(
            x=alt.X("ci_low:Q", scale=x_scale, axis=x_axis),
            x2="ci_high:Q",
            y=alt.Y("_top:Q", scale=None, axis=None),
            y2="_bottom:Q",
            tooltip=tooltip,
        )
    )
    reference = (
        alt.Chart(alt.Data(values=[{"_null": slot("null_data")}]))
        .mark_rule(style=theme.STYLE_REF, strokeDash=[4, 3], strokeWidth=1.2)
        .encode(x=alt.X("_null:Q", scale=x_scale, axis=x_axis), y=alt.value(0), y2=alt.value("height"))
    )
    # the "Favours" line sits between the tick labels and the axis title, either side of the null line
    favours_y = alt.value("height")
    null_x = f"scale('x', {NULL_PARAM})"
    favours = [
        alt.Chart(alt.Data(values=[{}]))
        .mark_text(
            style=theme.STYLE_MUTED,
            align=align,
            baseline="top",
            dy=26,
            x=alt.ExprRef(null_x),
            dx=dx,
            text=slot(side),
            lineBreak="\n",
            lineHeight=LINE_HEIGHT,
            limit=alt.ExprRef(limit),
        )
        .encode(y=favours_y)
        for side, align, dx, limit in (
            # left: may run on under the label column; right: into the numbers columns unless those moved
            ("favours_left", "right", -8, f"{null_x} + {LABEL_WIDTH_PARAM} - 12"),
            ("favours_right", "left", 8, f"width - {null_x} - 10 + ({NARROW_PARAM} ? 0 : 14 + {NUM_WIDTH_PARAM})"),
        )
    ]
    # numbers: two columns right of the plot, or one line under each label when narrow
    wide = rows.transform_filter(f"!{NARROW_PARAM}")
    num_x = alt.value("width")
    estimate_column = wide.mark_text(style=theme.STYLE_TEXT, align="left", baseline="middle", dx=14).encode(
        x=num_x, y=y, text="_num_text:N"
    )
    weight_column = wide.mark_text(
        style=theme.STYLE_TEXT, align="right", baseline="middle", dx=alt.ExprRef(f"{NUM_WIDTH_PARAM} + 62")
    ).encode(x=num_x, y=y, text="_weight_text:N")
    header = alt.Chart(alt.Data(values=[{}])).transform_filter(f"!{NARROW_PARAM}")
    headers = [
        header.mark_text(
            style=theme.STYLE_TEXT, fontWeight="bold", align=align, baseline="alphabetic", dx=dx, text=slot(name)
        ).encode(x=num_x, y=alt.value(LINE_HEIGHT))  # on the baseline of the "Study" heading
        for name, align, dx in (
            ("num_header", "left", 14),
            ("weight_header", "right", alt.ExprRef(f"{NUM_WIDTH_PARAM} + 62")),
        )
    ]
    narrow_numbers = (
        rows.transform_filter(NARROW_PARAM)
        .transform_calculate(
            _line="datum._weight_text ? datum._num_text + ' · weight ' + datum._weight_text : datum._num_text"
        )
        .mark_text(style=theme.STYLE_MUTED, align="left", baseline="middle", dx=alt.ExprRef(f"-{LABEL_WIDTH_PARAM}"))
        .encode(x=alt.value(0), y=alt.Y("_below_y:Q", scale=None, axis=None), text="_line:N")
    )
    chart = alt.layer(
        reference,
        prediction,
        ci,
        squares,
        diamonds,
        *favours,
        estimate_column,
        weight_column,
        *headers,
        narrow_numbers,
        *_rob_layers(),
        labels_layer(),
        data=ROWS,
    ).add_params(
        alt.param(name=NULL_PARAM, value=slot(NULL_PARAM)),
        alt.param(name=NUM_WIDTH_PARAM, value=slot(NUM_WIDTH_PARAM)),
        alt.param(name=FAVOURS_LINES_PARAM, value=slot(FAVOURS_LINES_PARAM)),
        alt.param(
            name=NARROW_PARAM,
            expr=f"width > 0 && isFinite(containerSize()[0]) && containerSize()[0] > 0"
            f" && containerSize()[0] < {NARROW_BELOW}",
        ),
    )
    return top_level(chart)


def _rob_layers() -> list[alt.Chart]:
    """Risk-of-bias columns right of the numbers (only the overall column, right of the plot, when narrow)."""
    left = f"width + ({NARROW_PARAM} ? 14 : {NUM_WIDTH_PARAM} + 62 + {ROB_GAP})"
    base = (
        alt.Chart(ROB)
        .transform_filter(f"!{NARROW_PARAM} || datum._overall")
        .transform_calculate(_xr=f"{left} + ({NARROW_PARAM} ? datum._dxn : datum._dx)")
    )
    x, y = alt.X("_xr:Q", scale=None, axis=None), alt.Y("_y:Q", scale=None, axis=None)
    tooltip = [
        alt.Tooltip("_row:N", title="Study"),
        alt.Tooltip("_domain_text:N", title="Risk of bias"),
        alt.Tooltip("_judgement_text:N", title="Judgement"),
    ]
    cells = base.transform_filter("!datum._head")
    dots = cells.mark_point(shape="circle", filled=True, opacity=1, strokeWidth=0, size=300).encode(
        x=x, y=y, color=alt.Color("_fill:N", scale=None), tooltip=tooltip
    )
    symbols = cells.mark_text(baseline="middle", align="center", fontWeight="bold").encode(
        x=x, y=y, text="_symbol:N", color=alt.Color("_ink:N", scale=None), tooltip=tooltip
    )
    heads = (
        base.transform_filter("datum._head")
        .transform_calculate(_head_text=f"{NARROW_PARAM} ? 'RoB' : datum._text")
        .mark_text(style=theme.STYLE_TEXT, fontWeight="bold", align="center", baseline="alphabetic")
        .encode(x=x, y=alt.value(LINE_HEIGHT), text="_head_text:N")
    )
    return [dots, symbols, heads]


def _rob_cells(prepared: list[dict[str, Any]], rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The data set of the risk-of-bias columns: a header per column and a cell per study row and column."""
    columns = list(dict.fromkeys(text(c.get("column")) for r in rows for c in r.get("rob") or ()))
    if not columns:
        return []
    widths = [max(ROB_CELL, text_width(c) * 1.1 + 6) for c in columns]
    centres = [sum(widths[:i]) + w / 2 for i, w in enumerate(widths)]
    dx = dict(zip(columns, centres, strict=True))
    out: list[dict[str, Any]] = [
        {"_head": True, "_text": c, "_dx": dx[c], "_dxn": ROB_CELL / 2, "_overall": c == columns[-1], "_y": 0}
        for c in columns
    ]
    for p, r in zip(prepared, rows, strict=True):
        for cell in r.get("rob") or ():
            column, judgement = text(cell.get("column")), cell.get("judgement") or None
            look = style(judgement)
            domain = text(cell.get("domain"))
            out.append(
                {
                    "_head": False,
                    "_row": p["label"],
                    "_y": p["_y"],
                    "_dx": dx[column],
                    "_dxn": ROB_CELL / 2,
                    "_overall": column == columns[-1],
                    "_domain_text": f"{column}: {domain}" if domain else column,
                    "_judgement_text": look.label,
                    "_symbol": look.symbol,
                    "_fill": look.fill,
                    "_ink": look.ink,
                }
            )
    return out


#: One template per axis type (log for ratios, linear for differences), each built on first use.
_TEMPLATES = {log: Template(lambda log=log: _build(log), _SLOTS) for log in (True, False)}


def _nice_ticks_log(low: float, high: float) -> list[float]:
    """Readable ticks for a log axis from `low` to `high` (both > 0): 1-2-5 steps, finer when the range is short."""
    for mantissas in ((1.0,), (1.0, 2.0, 5.0), (1.0, 1.5, 2.0, 3.0, 5.0, 7.0)):
        ticks = []
        for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
            for m in mantissas:
                tick = float(f"{m * 10.0**exponent:.10g}")
                if low * 0.999 <= tick <= high * 1.001:
                    ticks.append(tick)
        if len(ticks) >= 4:
            return ticks
    return ticks


def _nice_ticks_linear(low: float, high: float) -> list[float]:
    """About five round ticks from `low` to `high`."""
    raw = (high - low) / 5 or 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step - 1e-9)
    return [float(f"{i * step:.10g}") for i in range(first, math.floor(high / step + 1e-9) + 1)]


def _domain(values: list[float], log_scale: bool, null_value: float) -> tuple[list[float], list[float]]:
    """x domain (padded, always containing the null value) and its ticks."""
    transform = math.log10 if log_scale else float
    points = [transform(v) for v in (*values, null_value) if v > 0 or not log_scale]
    null = transform(null_value)
    low, high = min(points), max(points)
    pad = max(0.05 if log_scale else 0.0, (high - low) * 0.06) or 0.5
    low, high = low - pad, high + pad
    # keep the null line between NULL_POSITION[0] and [1] of the axis: both "Favours" labels need room
    first, last = NULL_POSITION
    if (null - low) < first * (high - low):
        low = null - first / (1 - first) * (high - null)
    if (high - null) < (1 - last) * (high - low):
        high = null + (1 - last) / last * (null - low)
    if log_scale:
        domain = [10**low, 10**high]
        ticks = _nice_ticks_log(*domain)
    else:
        domain = [low, high]
        ticks = _nice_ticks_linear(*domain)
    return [float(f"{d:.6g}") for d in domain], ticks


def _num_text(estimate: float | None, low: float | None, high: float | None, given: str) -> str:
    if given:
        return given
    if estimate is None and low is not None and high is not None:
        return f"[{low:.2f}, {high:.2f}]"
    if estimate is None:
        return "not estimable"
    low_text = f"{low:.2f}" if low is not None else "not reported"
    high_text = f"{high:.2f}" if high is not None else "not reported"
    return f"{estimate:.2f} [{low_text}, {high_text}]"


def spec(
    rows: list[dict[str, Any]],
    *,
    title: str,
    measure: str,
    lower_is_better: bool | None,
    log_scale: bool | None = None,
    intervention: str = "intervention",
    control: str = "control",
    subtitle: str = "",
    unit: str = "",
    colour_domain: list[str] | None = None,
    colour_range: list[str] | None = None,
) -> dict[str, Any]:
    """Vega-Lite spec of a forest plot.

    `measure`: "HR", "RR", "OR", "RD", ... (names the axis and the numbers column). `log_scale`: log x axis;
    None (default) means True for ratio measures (HR, RR, OR, IRR, ROM) and False otherwise. The line of no
    effect is 1 on a log axis and 0 otherwise. `lower_is_better`: True when values below the line favour the
    intervention (e.g. HR for death), False when values above it do (e.g. RR of response), None when neither
    direction is better (the sides then say "Lower with" / "Higher with" the intervention).
    `intervention`/`control` name the two sides: "Favours <intervention>" / "Favours <control>".
    `unit`: the outcome's unit for a difference on its scale (a mean difference), shown on the axis.
    `colour_domain`/`colour_range` are accepted for a uniform call signature and not used.
    """
    del colour_domain, colour_range
    measure = measure.strip()
    log = measure.upper() in RATIO_MEASURES if log_scale is None else log_scale
    null_value = 1.0 if log else 0.0

    layout = Rows(min_row=28, pad=8)
    layout.heading("Study")
    prepared: list[dict[str, Any]] = []
    values: list[float] = []
    num_width = text_width(f"{measure} [95% CI]") * 1.08
    for row in rows:
        kind = text(row.get("kind")) or "study"
        estimate, low, high = num(row.get("estimate")), num(row.get("ci_low")), num(row.get("ci_high"))
        weight = num(row.get("weight")) if kind == "study" else None
        label = text(row.get("label"))
        box = layout.row(label, extra_lines=1, strong=kind in ("pooled", "common"))
        values += [v for v in (estimate, low, high) if v is not None]
        num_text = _num_text(estimate, low, high, text(row.get("text")))
        weight_text = f"{weight:.1f}%" if weight is not None else ""
        num_width = max(num_width, text_width(num_text))
        prepared.append(
            {
                "_y": box.first_line,  # marks and numbers line up with the label's first line
                "_below_y": box.below,
                "label": label,
                "kind": kind,
                "estimate": estimate,
                "ci_low": low,
                "ci_high": high,
                "weight": weight,
                # a study without a weight (nothing pooled) gets a medium square rather than a dot
                "_weight": weight if weight is not None else 25.0,
                "_num_text": num_text,
                "_weight_text": weight_text,
            }
        )
    if log:
        bad = [v for v in values if v <= 0]
        if bad:
            raise ValueError(f"log-scale forest plot got values <= 0: {bad[:3]}")
    domain, ticks = _domain(values or [null_value], log, null_value)
    if lower_is_better is None:
        left_words, right_words = ["← Lower with"], ["Higher with →"]
        left = right = intervention
    else:
        left_words, right_words = ["← Favours"], ["Favours →"]
        left, right = (intervention, control) if lower_is_better else (control, intervention)
    left_lines, right_lines = wrap(left, width=18), wrap(right, width=18)
    name = MEASURE_NAMES.get(measure.upper(), measure)
    if unit and not log:
        name = f"{name} ({unit})"
    return _TEMPLATES[log].fill(
        prepared,
        title=title,
        subtitle=subtitle,
        description=describe(rows, measure=measure),
        x_domain=domain,
        x_ticks=ticks,
        x_title=f"{name} (log scale)" if log else name,
        null_data=null_value,
        le_null=null_value,
        le_num_width=round(num_width),
        num_header=f"{measure} [95% CI]",
        weight_header="Weight",
        favours_left="\n".join([*left_words, *left_lines]),
        favours_right="\n".join([*right_words, *right_lines]),
        le_favours_lines=1 + max(len(left_lines), len(right_lines)),
        **layout.values(),
        top={"height": layout.height, "datasets": {**layout.datasets(), ROB.name: _rob_cells(prepared, rows)}},
    )


def describe(rows: list[dict[str, Any]], measure: str = "") -> str:
    """One plain-language sentence saying what the chart shows (for aria-label and screen readers)."""
    kinds = [text(r.get("kind")) or "study" for r in rows]
    study_rows = [r for r, k in zip(rows, kinds, strict=True) if k == "study"]
    n_rows = len(study_rows)
    # Rows may name their study ("study"): several populations of one study are counted apart from studies.
    named = {text(r.get("study")) for r in study_rows if text(r.get("study"))}
    n_studies = len(named) if len(named) and all(text(r.get("study")) for r in study_rows) else n_rows
    if n_studies != n_rows:
        sentence = (
            f"Forest plot of {n_rows} study populations from {n_studies} {'study' if n_studies == 1 else 'studies'}"
        )
    else:
        sentence = f"Forest plot of {n_rows} {'study' if n_rows == 1 else 'studies'}"
    if measure:
        sentence += f" ({MEASURE_NAMES.get(measure.upper(), measure).lower()})"
    pooled = [r for r, k in zip(rows, kinds, strict=True) if k in ("pooled", "common")]
    if pooled:
        p = pooled[0]
        estimate, low, high = num(p.get("estimate")), num(p.get("ci_low")), num(p.get("ci_high"))
        summary = _num_text(estimate, low, high, text(p.get("text")))
        sentence += f" with a pooled estimate of {summary}"
    if "prediction" in kinds:
        sentence += " and a prediction interval"
    sentence += "; each study is a square sized by its weight with a horizontal line for its 95% CI"
    if any(r.get("rob") for r in rows):
        sentence += ", and its risk-of-bias judgements as symbols in coloured circles beside it"
    return sentence + "."
