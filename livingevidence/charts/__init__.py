"""Charts: Vega-Lite specs for the evidence pages, rendered in the browser from a local, CSP-safe bundle.

API for page builders::

    colours = regimen_colours(all_regimen_ids_in_package_order)        # {regimen_id: "#RRGGBB"}
    domain, range_ = list(colours), list(colours.values())
    spec = medians_spec(rows, title="...", colour_domain=domain, colour_range=range_)
    html = chart_div(spec, medians_describe(rows))                     # or build the div yourself:
    #   <div class="le-chart" data-vega-spec="{{ chart_html_attrs(spec) }}" role="img"
    #        aria-label="{{ describe(rows) }}"></div>              (attribute value HTML-escaped!)
    write_assets(docs_dir)   # js/vega.js + js/charts.js; list only js/charts.js in extra_javascript

Each chart kind is a module (`medians`, `response`, `adverse_events`, `forest`) with `spec(rows, *, title, ...)`
and `describe(rows) -> str`; see their docstrings for the row dicts. Specs are plain dicts built from a cached
template in well under a millisecond (`python -m tests.chart_bench`).
"""

from __future__ import annotations

import html
import json
from typing import Any

from livingevidence.charts import adverse_events, forest, medians, response
from livingevidence.charts.assets import CHART_ATTR, CHART_CLASS, write_assets
from livingevidence.charts.palette import OKABE_ITO, colour_scale, regimen_colours

medians_spec = medians.spec
medians_describe = medians.describe
response_spec = response.spec
response_describe = response.describe
adverse_events_spec = adverse_events.spec
adverse_events_describe = adverse_events.describe
forest_spec = forest.spec
forest_describe = forest.describe


def chart_html_attrs(spec: dict[str, Any]) -> str:
    """The spec as compact JSON with sorted keys (reproducible builds), for the `data-vega-spec` attribute.

    NOT HTML-escaped: put it in an attribute through an escaping template (Jinja autoescape, or `|e`), or use
    `chart_div`. Raises ValueError on NaN/inf (they are not JSON; the spec builders never produce them).
    """
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chart_div(spec: dict[str, Any], description: str) -> str:
    """The complete, escaped chart container: `<div class="le-chart" data-vega-spec=... role="img" ...></div>`.

    `description` (from the kind's `describe(rows)`) becomes the aria-label. Safe to paste into Markdown as a
    raw HTML block; the caption and data table that follow it are the page's job.
    """
    attrs = html.escape(chart_html_attrs(spec), quote=True)
    label = html.escape(description, quote=True)
    return f'<div class="{CHART_CLASS}" {CHART_ATTR}="{attrs}" role="img" aria-label="{label}"></div>'


__all__ = [
    "CHART_ATTR",
    "CHART_CLASS",
    "OKABE_ITO",
    "adverse_events",
    "adverse_events_describe",
    "adverse_events_spec",
    "chart_div",
    "chart_html_attrs",
    "colour_scale",
    "forest",
    "forest_describe",
    "forest_spec",
    "medians",
    "medians_describe",
    "medians_spec",
    "regimen_colours",
    "response",
    "response_describe",
    "response_spec",
    "write_assets",
]
