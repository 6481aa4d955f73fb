"""Shared machinery: Altair templates built once, filled per page with plain-Python data.

Building a chart with Altair costs 30-90 ms (schema validation); a site has hundreds. So each chart kind builds
ONE Altair chart, lazily and once per process, with *slots*: placeholder strings `"__le_slot:NAME__"` at every
place that varies per page (data-dependent scale domains, label maps, heights). The validated dict is kept as
JSON text; `Template.fill` replaces the slots in that text, parses it (tens of microseconds) and sets
`data.values`. Per-page values must therefore be JSON-serialisable; `num` and `text` clean incoming values.

Rows are laid out in pixels by `Rows` (y channels use `scale=None`): each row is as tall as its wrapped label,
and group headings ("Overall survival (OS)", "Criterion A", "Any grade") take one line. Labels are text marks left
of the plot. This keeps every chart a single layered view with `width: "container"` (Vega-Lite ignores
container width in facet and concat views), so charts fit a phone and grow on a desktop.
"""

from __future__ import annotations

import functools
import json
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import altair as alt

from livingevidence.charts import theme

SLOT_PREFIX = "__le_slot:"
#: Height of one line of axis label text, in pixels.
LINE_HEIGHT = 15
#: Wrap row labels at this many characters (about 150 px at 12 px).
WRAP_CHARS = 26


#: The per-page data: templates are built on this named data set, replaced by `{"values": rows}` per page.
ROWS = alt.NamedData(name="le_rows")
#: Row labels and headings, filled per page into the top-level `datasets` (see `Rows`).
LABELS = alt.NamedData(name="le_labels")
#: Longest label line in pixels before an ellipsis (labels are also wrapped at WRAP_CHARS characters).
LABEL_LIMIT = 180
#: Per-page params: width of the label column, height of the legend above the plot (pixels).
LABEL_WIDTH_PARAM = "le_label_width"
LEGEND_HEIGHT_PARAM = "le_legend_height"
#: Chart titles wrap at this many characters (a phone shows about 40 bold 14 px characters).
TITLE_CHARS = 40
#: Slots every template has (title and subtitle are wrapped into lines by `Template.fill`).
COMMON_SLOTS = ("title", "subtitle", "description", LABEL_WIDTH_PARAM, LEGEND_HEIGHT_PARAM)


def slot(name: str) -> str:
    """The placeholder string for the per-page value `name` (use it where Altair expects a string)."""
    return f"{SLOT_PREFIX}{name}__"


class Template:
    """One chart kind's Altair template, built on first use and filled per page without Altair."""

    def __init__(self, build: Callable[[], alt.TopLevelMixin], slots: Sequence[str]) -> None:
        self._build = build
        self.slots = tuple(dict.fromkeys((*COMMON_SLOTS, *slots)))
        self._json: str | None = None

    @property
    def json_text(self) -> str:
        """The validated template as JSON text (built on first access)."""
        if self._json is None:
            chart = self._build()
            spec = chart.to_dict(validate=True)
            if spec.pop("data", None) != {"name": ROWS.name} or "empty" in spec.get("datasets", {}):
                raise ValueError("a chart template must be built on data=ROWS (and its layers on no data)")
            text = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            for name in self.slots:
                if json.dumps(slot(name)) not in text:
                    raise ValueError(f"template slot {name!r} is not used by the chart")
            self._json = text
        return self._json

    def fill(self, rows: list[dict[str, Any]], *, top: dict[str, Any] | None = None, **values: Any) -> dict[str, Any]:
        """A fresh spec dict: the template with every slot replaced by `values[name]` and `rows` as data.

        A slot that stands alone in a list (`["__le_slot:x__"]`) is replaced by the whole value (a list), so
        Altair could validate the template with a list of strings where the value is a list. `top` sets
        top-level keys afterwards (numbers such as `height`, where a string slot would not pass Altair's
        validation, and the `datasets` of `Rows`).
        """
        text = self.json_text
        missing = set(self.slots) - set(values)
        if missing:
            raise TypeError(f"missing template values: {sorted(missing)}")
        for name in ("title", "subtitle"):
            if isinstance(values.get(name), str):
                values[name] = wrap(values[name], width=TITLE_CHARS) if values[name] else ""
        for name in self.slots:
            encoded = json.dumps(values[name], separators=(",", ":"), ensure_ascii=False, allow_nan=False)
            token = json.dumps(slot(name))
            text = text.replace(f"[{token}]", encoded).replace(token, encoded)
        spec: dict[str, Any] = json.loads(text)
        spec["data"] = {"values": rows}
        legend_height = values.get(LEGEND_HEIGHT_PARAM)
        if not values.get("title") and isinstance(legend_height, int | float) and legend_height > 0:
            spec["padding"] = {"top": legend_height + 18, "left": 4, "right": 4, "bottom": 4}
        if top:
            spec.update(top)
        return spec


def top_level(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """Apply the shared top-level settings: title/description slots, light config, container width."""
    props: dict[str, Any] = {
        # the legend hangs above the plot (see `legend`), so the title is pushed up past it
        "title": alt.TitleParams(
            text=slot("title"), subtitle=slot("subtitle"), offset=alt.ExprRef(f"{LEGEND_HEIGHT_PARAM} + 18")
        ),
        "description": slot("description"),
        "width": "container",
        "autosize": alt.AutoSizeParams(type="fit-x", contains="padding"),
        "height": 100,  # replaced per page: Template.fill(top={"height": ..., "datasets": ...})
    }
    chart = chart.properties(**props)
    return chart.configure(**theme.light_config())


def labels_layer() -> alt.LayerChart:
    """Row labels and group headings, left-aligned in a column of width `le_label_width` left of the plot.

    Drawn from the named data set `le_labels` that `Rows.datasets()` fills per page. The labels sit left of
    x = 0; Vega's `fit-x` autosizing counts them in, so the plot gets whatever width the labels leave. Legends
    (see `legend`) start at the same left edge.
    """
    y = alt.Y("_y:Q", scale=None, axis=None)
    base = alt.Chart(LABELS).encode(y=y, text="_text:N", x=alt.value(0))
    left = alt.ExprRef(f"-{LABEL_WIDTH_PARAM}")
    rows = base.mark_text(
        style=theme.STYLE_TEXT,
        align="left",
        baseline="middle",
        dx=left,
        lineBreak="\n",
        lineHeight=LINE_HEIGHT,
        limit=alt.ExprRef(f"{LABEL_WIDTH_PARAM} - 10"),
    )
    heads = base.mark_text(
        style=theme.STYLE_TEXT,
        align="left",
        baseline="alphabetic",
        fontWeight="bold",
        dx=left,
        lineBreak="\n",
        lineHeight=LINE_HEIGHT,
    )
    strong = base.mark_text(
        style=theme.STYLE_TEXT,
        align="left",
        baseline="middle",
        fontWeight="bold",
        dx=left,
        lineBreak="\n",
        lineHeight=LINE_HEIGHT,
        limit=alt.ExprRef(f"{LABEL_WIDTH_PARAM} - 10"),
    )
    return alt.layer(
        rows.transform_filter("!datum._strong"),
        strong.transform_filter("datum._strong && !datum._head"),
        heads.transform_filter("datum._head"),
    ).add_params(
        alt.param(name=LABEL_WIDTH_PARAM, value=slot(LABEL_WIDTH_PARAM)),
        alt.param(name=LEGEND_HEIGHT_PARAM, value=slot(LEGEND_HEIGHT_PARAM)),
    )


def legend(title: str | None, **extra: Any) -> alt.Legend:
    """A legend above the plot, starting at the left edge of the label column (so it fits a phone).

    Vega leaves legends with `orient: "none"` out of the layout bounds: `top_level` pushes the title up by the
    legend's height, and `Template.fill` adds top padding when there is no title, so the legend is never cut.
    """
    return alt.Legend(
        title=title,
        orient="none",
        legendX=alt.ExprRef(f"-{LABEL_WIDTH_PARAM}"),
        legendY=alt.ExprRef(f"-{LEGEND_HEIGHT_PARAM} - 12"),
        labelLimit=alt.ExprRef(f"width + {LABEL_WIDTH_PARAM} - 40"),
        **extra,
    )


class RowBox(NamedTuple):
    """Where a row landed, in pixels: its top, bottom and middle, its label's first line, the line below."""

    top: float
    bottom: float
    middle: float
    first_line: float
    below: float


class Rows:
    """Vertical layout in pixels: headings and rows, each row as tall as its wrapped label needs.

    y positions are plain pixels (`scale=None`), so a heading takes one line, not a full row. Add headings and
    rows top to bottom; read `height` and `values()` at the end.
    """

    def __init__(self, *, min_row: int = 26, pad: int = 10) -> None:
        self.min_row = min_row
        self.pad = pad
        self.height = 0.0
        self.labels: list[dict[str, Any]] = []
        self.label_width = 0.0

    def heading(self, label: str) -> None:
        """Add a bold heading line (e.g. an outcome or a criterion) above the rows that follow."""
        gap = 10 if self.labels else 0
        lines = wrap(label, width=44)
        self.height += gap + LINE_HEIGHT * len(lines) + 4
        # the text baseline of the last line sits 4 px above the first row below it
        top = self.height - 4 - LINE_HEIGHT * (len(lines) - 1)
        self.labels.append({"_y": top, "_text": "\n".join(lines), "_head": True, "_strong": True})

    def row(
        self,
        label: str | Sequence[str],
        *,
        min_height: float | None = None,
        extra_lines: int = 0,
        strong: bool = False,
    ) -> RowBox:
        """Add a labelled row and return its box in pixels. `label` may be several parts (each starts a line).

        The label block (plus `extra_lines` reserved under it) is centred in the row; `strong` sets it in bold.
        """
        parts = [label] if isinstance(label, str) else list(label)
        lines = [line for part in parts for line in wrap(part)] or [""]
        block = len(lines) + extra_lines
        height = max(self.min_row, min_height or 0, LINE_HEIGHT * block + self.pad)
        top = self.height
        self.height += height
        middle = top + height / 2
        # Vega draws the first line of a multi-line text at y and the others below it: centre the block
        first_line = middle - LINE_HEIGHT * (block - 1) / 2
        self.labels.append({"_y": first_line, "_text": "\n".join(lines), "_head": False, "_strong": strong})
        width = max(text_width(line) for line in lines) * (1.08 if strong else 1.0)
        self.label_width = max(self.label_width, width)
        return RowBox(top, top + height, middle, first_line, first_line + LINE_HEIGHT * len(lines))

    def values(self, legend_entries: int = 0, legend_title: bool = True) -> dict[str, Any]:
        """Slot values: label-column width and the height of the legend drawn above the plot."""
        legend_height = (legend_entries * 17 + (17 if legend_title else 0)) if legend_entries else -12
        return {
            LABEL_WIDTH_PARAM: round(min(LABEL_LIMIT, self.label_width) + 14),
            LEGEND_HEIGHT_PARAM: legend_height,
        }

    def datasets(self) -> dict[str, list[dict[str, Any]]]:
        """The named data sets the label layer reads."""
        return {LABELS.name: self.labels}


# Advance widths of Arial/Helvetica (per 1000 em), close to the system fonts; other characters count as 600.
_WIDTHS = dict.fromkeys("ijl|'", 222) | dict.fromkeys(" .,:;!()[]/-ftrI", 300) | dict.fromkeys("mwMW", 850)
_WIDTHS |= dict.fromkeys("ABCDEGHKNOQRSUVXYZ&", 700) | dict.fromkeys("abcdeghknopqsuvxyzJLFPT0123456789", 556)


@functools.lru_cache(maxsize=4096)
def text_width(line: str, size: float = theme.FONT_SIZE) -> float:
    """Estimated rendered width of `line` in pixels.

    Arial metrics plus 15%: Linux default fonts such as DejaVu Sans run that much wider than Arial, and a label
    cut short by `limit` is better than one running into the plot.
    """
    return sum(_WIDTHS.get(ch, 600) for ch in line) * size / 1000 * 1.15


def wrap(label: str, width: int = WRAP_CHARS) -> list[str]:
    """Split a label into lines of at most `width` characters (never breaking inside a word)."""
    return list(_wrap(label, width))


@functools.lru_cache(maxsize=4096)
def _wrap(label: str, width: int) -> tuple[str, ...]:
    return tuple(textwrap.wrap(label, width=width, break_long_words=False, break_on_hyphens=False)) or ("",)


def num(value: Any) -> float | None:
    """A JSON-safe number: None for missing/NaN/inf (pandas gives NaN for empty cells), else a float."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def text(value: Any) -> str:
    """A JSON-safe string: '' for missing/NaN, else `str(value)` stripped."""
    if type(value) is str:
        return value.strip()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return str(value).strip()


def fmt(value: float | None, digits: int = 1) -> str:
    """Format a number for labels and tooltips ('–' when missing), trimming a trailing '.0' never."""
    if value is None:
        return "–"
    return f"{value:.{digits}f}"


def colours_for(
    ids_in_order: Sequence[str], colour_domain: Sequence[str], colour_range: Sequence[str]
) -> tuple[list[str], list[str]]:
    """Restrict the site-wide colour mapping to the ids a chart shows, keeping the site-wide order.

    Raises ValueError for an id the mapping does not know, so a chart never silently draws a wrong colour.
    """
    if len(colour_domain) != len(colour_range):
        raise ValueError("colour_domain and colour_range must have the same length")
    mapping: Mapping[str, str] = dict(zip(colour_domain, colour_range, strict=True))
    unknown = sorted({i for i in ids_in_order if i not in mapping})
    if unknown:
        raise ValueError(f"regimen ids without a site-wide colour: {unknown} (pass regimen_colours(all ids))")
    present = set(ids_in_order)
    domain = [i for i in colour_domain if i in present]
    return domain, [mapping[i] for i in domain]
