"""Light and dark chart themes (Vega-Lite `config`).

Choice (documented for the lead): Vega cannot read CSS variables, and no single grey reaches 4.5:1 contrast on
both white and mkdocs-material's slate background (#1e2129): a grey that does on white has at most ~3.1:1 on
slate. So every spec carries the LIGHT config, and `charts.js` deep-merges `DARK_OVERRIDES` into the spec's
`config` before rendering when `<body data-md-color-scheme="slate">`, and re-renders every chart when the
reader flips the palette toggle. The PNG/SVG that vl-convert makes from a spec is therefore the light version.

Marks never hard-code a theme-dependent colour: they use a named style (`config.style[...]`, the `STYLE_*`
names below) or the per-mark-type config, and only those entries are overridden for dark mode. Colours that sit
on a coloured fill (text inside response bars) or that encode data (regimen colours) are the same in both.

Contrast (WCAG 2.x): text #2d3139 on white 13:1, #5c6370 on white 6.1:1; text #e2e4e9 on slate 12.7:1,
#a9afba on slate 7.3:1. The test-suite re-checks these numbers.
"""

from __future__ import annotations

import copy
from typing import Any

#: mkdocs-material's default light background and its "slate" dark background.
LIGHT_BACKGROUND = "#ffffff"
DARK_BACKGROUND = "#1e2129"

#: The same system font stack that mkdocs-material falls back to when web fonts are off (no CDN).
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'

# Named styles used by the chart templates (mark `style=`).
STYLE_TEXT = "le-text"  # primary text drawn as a mark (row headings, numbers)
STYLE_MUTED = "le-muted"  # secondary text (favours labels, "CI not reported" notes)
STYLE_REF = "le-ref"  # reference line (line of no effect)
STYLE_CI = "le-ci"  # confidence-interval whiskers in the foreground colour
STYLE_DOT = "le-dot"  # data dots filled with a regimen colour; the outline keeps pale colours visible
STYLE_POOLED = "le-pooled"  # pooled-estimate diamond
STYLE_BAR = "le-bar"  # stacked bar segments; the stroke separates segments with the background colour

FONT_SIZE = 12  # never smaller than 12 px: readable on a phone
TITLE_SIZE = 14


def _palette(*, fg: str, muted: str, grid: str, domain: str, bg: str) -> dict[str, Any]:
    """Everything in the config that depends on the colour scheme."""
    return {
        "axis": {
            "labelColor": fg,
            "titleColor": fg,
            "domainColor": domain,
            "tickColor": domain,
            "gridColor": grid,
        },
        "legend": {"labelColor": fg, "titleColor": fg},
        "title": {"color": fg, "subtitleColor": muted},
        "mark": {"color": fg},
        "text": {"color": fg},
        "rule": {"color": fg},
        "style": {
            STYLE_TEXT: {"fill": fg},
            STYLE_MUTED: {"fill": muted},
            STYLE_REF: {"stroke": muted},
            STYLE_CI: {"stroke": fg},
            STYLE_DOT: {"stroke": fg},
            STYLE_POOLED: {"fill": fg, "stroke": fg},
            STYLE_BAR: {"stroke": bg},
        },
    }


LIGHT_COLOURS = {"fg": "#2d3139", "muted": "#5c6370", "grid": "#e3e5e8", "domain": "#8a9099", "bg": LIGHT_BACKGROUND}
DARK_COLOURS = {"fg": "#e2e4e9", "muted": "#a9afba", "grid": "#363a45", "domain": "#6b717c", "bg": DARK_BACKGROUND}

#: Merged by charts.js into `spec.config` when the page is in dark mode (keys mirror the light config).
DARK_OVERRIDES: dict[str, Any] = _palette(**DARK_COLOURS)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Return `base` updated recursively with `extra` (new dicts; inputs untouched)."""
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def light_config() -> dict[str, Any]:
    """The Vega-Lite `config` every chart spec carries: fonts, sizes, transparent background, light colours."""
    layout: dict[str, Any] = {
        # The chart's container is role="img" with the one-sentence description as its name, and the data table
        # below is the text alternative: Vega's per-mark ARIA roles would only add unnamed "images" inside it.
        "aria": False,
        "mark": {"aria": False},
        "background": "transparent",
        "font": FONT,
        "padding": 4,
        "view": {"stroke": None, "continuousHeight": 240},
        "axis": {
            "labelFontSize": FONT_SIZE,
            "titleFontSize": FONT_SIZE,
            "titleFontWeight": "normal",
            "labelFont": FONT,
            "titleFont": FONT,
        },
        "legend": {
            "labelFontSize": FONT_SIZE,
            "titleFontSize": FONT_SIZE,
            "titleFontWeight": "bold",
            "labelLimit": 280,
            "orient": "top",
            "direction": "vertical",
            "columns": 1,
            "symbolStrokeWidth": 1,
        },
        "title": {"fontSize": TITLE_SIZE, "anchor": "start", "fontWeight": "bold", "subtitleFontSize": FONT_SIZE},
        "text": {"fontSize": FONT_SIZE, "font": FONT},
        "point": {"size": 64, "filled": True, "strokeWidth": 1},
        "bar": {"strokeWidth": 1},
    }
    return _deep_merge(layout, _palette(**LIGHT_COLOURS))


def dark_config() -> dict[str, Any]:
    """The config as charts.js sees it in dark mode (light config with DARK_OVERRIDES merged in)."""
    return _deep_merge(light_config(), DARK_OVERRIDES)


def contrast_ratio(colour_a: str, colour_b: str) -> float:
    """WCAG 2.x contrast ratio of two `#rrggbb` colours (1.0 to 21.0)."""

    def luminance(colour: str) -> float:
        value = colour.lstrip("#")
        channels = [int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(colour_a), luminance(colour_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
