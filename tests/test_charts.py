"""Tests for the chart layer: specs round-trip through Altair, are deterministic and survive missing values;
the palette is stable; the offline bundle defines one global; charts render under a strict CSP in Chromium."""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import altair as alt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livingevidence.charts import (
    CHART_ATTR,
    adverse_events,
    assets,
    chart_div,
    chart_html_attrs,
    forest,
    funnel,
    medians,
    palette,
    regimen_colours,
    response,
    risk_of_bias,
    risk_of_bias_summary,
    theme,
)
from livingevidence.charts._template import Template, colours_for
from tests import chart_examples as examples
from tests.browser_helpers import wait_until

ROOT = Path(__file__).resolve().parent.parent
COLOURS = regimen_colours(examples.REGIMEN_IDS)
DOMAIN, RANGE = list(COLOURS), list(COLOURS.values())
BUILDERS = examples.builders(DOMAIN, RANGE)


def _round_trip(spec: dict[str, Any]) -> dict[str, Any]:
    """Validate the spec against the Vega-Lite schema via Altair and return Altair's re-serialisation."""
    chart = alt.LayerChart.from_dict(spec, validate=True)
    return chart.to_dict(validate=True)


# --- every kind: schema round-trip, JSON-ready, deterministic -------------------------------------------------


@pytest.mark.parametrize("name", list(BUILDERS))
def test_spec_round_trips_through_altair(name: str) -> None:
    spec = BUILDERS[name]()
    assert spec["width"] == "container"
    assert spec["config"]["background"] == "transparent"
    again = _round_trip(spec)
    assert again["layer"]  # every kind is one layered view (container width works; no facet/concat)


KINDS = [medians, response, adverse_events, forest, risk_of_bias, risk_of_bias_summary, funnel]
KIND_IDS = ["medians", "response", "adverse_events", "forest", "risk_of_bias", "risk_of_bias_summary", "funnel"]


@pytest.mark.parametrize("module", KINDS, ids=KIND_IDS)
def test_templates_round_trip_and_use_every_slot(module: Any) -> None:
    templates = list(module._TEMPLATES.values()) if hasattr(module, "_TEMPLATES") else [module._TEMPLATE]
    for template in templates:
        assert isinstance(template, Template)
        spec = json.loads(template.json_text)  # raises if a declared slot is unused
        spec["data"] = {"values": []}
        alt.LayerChart.from_dict(spec, validate=True)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_spec_json_is_deterministic_and_finite(name: str) -> None:
    first, second = chart_html_attrs(BUILDERS[name]()), chart_html_attrs(BUILDERS[name]())
    assert first == second
    assert "NaN" not in first and "Infinity" not in first
    assert "__le_slot:" not in first  # every placeholder was filled
    assert json.loads(first)["description"].endswith(".")


def test_spec_json_is_identical_in_a_fresh_process() -> None:
    """Builds are reproducible across processes (dict order, hash seeds, float formatting)."""
    code = (
        "import hashlib; from tests import chart_examples as e;"
        "from livingevidence.charts import regimen_colours, chart_html_attrs as j;"
        "c = regimen_colours(e.REGIMEN_IDS);"
        "print(hashlib.sha256(''.join(j(b()) for b in e.builders(list(c), list(c.values())).values())"
        ".encode()).hexdigest())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    here = hashlib.sha256("".join(chart_html_attrs(b()) for b in BUILDERS.values()).encode()).hexdigest()
    assert out.stdout.strip() == here


@pytest.mark.parametrize("module", KINDS, ids=KIND_IDS)
def test_empty_rows_give_a_valid_empty_chart(module: Any) -> None:
    extra = {"measure": "HR", "lower_is_better": True} if module is forest else {}
    extra = {"pooled": 0.0, "ratio": True} if module is funnel else extra
    spec = module.spec([], title="Nothing yet", colour_domain=DOMAIN, colour_range=RANGE, **extra)
    _round_trip(spec)
    assert spec["data"] == {"values": []}


def test_spec_does_not_mutate_the_callers_rows() -> None:
    rows = [dict(r) for r in examples.ADVERSE_EVENTS]
    adverse_events.spec(rows, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    assert rows == examples.ADVERSE_EVENTS


def test_chart_html_attrs_is_compact_sorted_json() -> None:
    text = chart_html_attrs({"b": 1, "a": {"d": [1, 2], "c": "x"}})
    assert text == '{"a":{"c":"x","d":[1,2]},"b":1}'
    with pytest.raises(ValueError):
        chart_html_attrs({"a": math.nan})


def test_chart_div_escapes_and_round_trips() -> None:
    rows = [dict(examples.MEDIANS_STUDY[0], row_label='TRP "after" <PSM> & co', study="O'Brien et al.")]
    spec = medians.spec(rows, title="A <b>title</b>", colour_domain=DOMAIN, colour_range=RANGE)
    div = chart_div(spec, 'Chart of "medians" <x>')

    class Grab(HTMLParser):
        attrs: ClassVar[dict[str, str | None]] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            Grab.attrs = dict(attrs)

    parser = Grab()
    parser.feed(div)
    assert parser.attrs["class"] == "le-chart" and parser.attrs["role"] == "img"
    assert parser.attrs["aria-label"] == 'Chart of "medians" <x>'
    assert json.loads(parser.attrs[CHART_ATTR] or "") == json.loads(chart_html_attrs(spec))
    assert "<b>" not in div and html.unescape(div).count("<b>") == 1


# --- missing values ------------------------------------------------------------------------------------------


def test_medians_missing_ci_limits_do_not_break_the_spec() -> None:
    base = examples.MEDIANS_STUDY[0]
    rows = [
        dict(base, ci_low=None, ci_high=None),
        dict(base, row_label="lower only", ci_low=4.4, ci_high=None),
        dict(base, row_label="upper only", ci_low=math.nan, ci_high=7.4),
        dict(base, row_label="both", ci_low=4.4, ci_high=7.4),
        dict(base, row_label="no median", median=None),
    ]
    spec = medians.spec(rows, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    _round_trip(spec)
    values = spec["data"]["values"]
    assert [v["_has_ci"] for v in values] == [False, False, False, True, False]
    assert values[0]["_ci_text"] == "CI not reported"
    assert "upper limit not reported" in values[1]["_ci_text"]
    assert "lower limit not reported" in values[2]["_ci_text"]
    assert values[0]["_value_text"].endswith("(no CI)")
    assert values[2]["ci_low"] is None  # NaN from pandas became null
    json.loads(chart_html_attrs(spec))


def test_medians_on_regimen_pages_put_the_study_in_the_label() -> None:
    spec = medians.spec(examples.MEDIANS_REGIMEN, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    labels = [r["_text"] for r in spec["datasets"]["le_labels"] if not r["_head"]]
    assert all(label.split("\n")[0] in ("Ma et al.", "Han et al.") for label in labels)
    single = medians.spec(examples.MEDIANS_STUDY, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    assert not any("Li et al." in r["_text"] for r in single["datasets"]["le_labels"])


def test_forest_missing_limits_and_kinds() -> None:
    rows = [
        {"label": "A", "kind": "study", "estimate": 0.5, "ci_low": None, "ci_high": 0.9, "weight": 60.0},
        {"label": "B", "kind": "study", "estimate": 0.8, "ci_low": 0.6, "ci_high": 1.1, "weight": math.nan},
        {"label": "Pooled", "kind": "pooled", "estimate": 0.7, "ci_low": 0.5, "ci_high": 0.95, "weight": None},
        {"label": "Prediction interval", "kind": "prediction", "estimate": None, "ci_low": 0.3, "ci_high": 1.6},
    ]
    spec = forest.spec(rows, title="t", measure="HR", lower_is_better=True)
    _round_trip(spec)
    values = spec["data"]["values"]
    assert values[0]["_num_text"] == "0.50 [not reported, 0.90]"
    assert values[1]["_weight_text"] == ""
    assert values[3]["_num_text"] == "[0.30, 1.60]"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["PFS", "OS", "TTP"]),
            st.one_of(st.none(), st.just(math.nan), st.floats(0.1, 60)),
            st.one_of(st.none(), st.just(math.nan), st.floats(0.1, 60)),
            st.one_of(st.none(), st.floats(0.1, 60)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_medians_any_mix_of_missing_values_gives_valid_json(cells: list[tuple[Any, ...]]) -> None:
    base = examples.MEDIANS_STUDY[0]
    rows = [
        dict(base, outcome=o, row_label=f"row {i}", ci_low=lo, ci_high=hi, median=m)
        for i, (o, lo, hi, m) in enumerate(cells)
    ]
    spec = medians.spec(rows, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    json.loads(chart_html_attrs(spec))  # allow_nan=False: no NaN leaks through


# --- kind-specific behaviour ---------------------------------------------------------------------------------


def test_response_segments_are_ordered_and_fill_each_bar() -> None:
    spec = response.spec(examples.RESPONSE, title="t")
    bars: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for v in spec["data"]["values"]:
        bars.setdefault((v["criterion"], v["_bar_label"]), []).append(v)
    assert len(bars) == 8
    for segments in bars.values():
        assert [s["category"] for s in segments] == ["CR", "PR", "SD", "PD"]
        assert segments[0]["_x0"] == 0 and math.isclose(segments[-1]["_x1"], 100)
    assert spec["layer"][0]["encoding"]["color"]["scale"]["range"] == list(palette.RESPONSE_COLOURS)


def test_response_bar_label_does_not_repeat_the_population() -> None:
    row = dict(examples.RESPONSE[0], arm="TRP, After PSM", population="After PSM")
    assert response.spec([row], title="t")["datasets"]["le_labels"][1]["_text"] == "TRP, After PSM"
    row = dict(examples.RESPONSE[0], arm="TRP", population="After PSM")
    assert response.spec([row], title="t")["datasets"]["le_labels"][1]["_text"] == "TRP, After PSM"


def test_adverse_events_sorted_by_largest_percentage_within_grade() -> None:
    spec = adverse_events.spec(examples.ADVERSE_EVENTS, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    any_grade = [v for v in spec["data"]["values"] if v["grade"] == "any"]
    maxima: dict[str, float] = {}
    for v in any_grade:
        maxima[v["term"]] = max(maxima.get(v["term"], 0.0), v["percent"] or 0.0)
    assert list(maxima.values()) == sorted(maxima.values(), reverse=True)
    # colours follow the arms' regimens, from the site-wide mapping
    colour = spec["layer"][0]["encoding"]["color"]["scale"]
    assert dict(zip(colour["domain"], colour["range"], strict=True)) == {
        "TRP": COLOURS["tace-rego-pd1"],
        "TR": COLOURS["tace-rego"],
    }


def test_adverse_events_percent_from_events_when_missing() -> None:
    rows = [
        {"term": "Rash", "grade": "3-4", "arm": "TR", "regimen_id": "tace-rego", "percent": None, "events": 0, "n": 64}
    ]
    spec = adverse_events.spec(rows, title="t", colour_domain=DOMAIN, colour_range=RANGE)
    assert spec["data"]["values"][0]["percent"] == 0.0


def _walk(node: Any, key: str) -> list[Any]:
    """Every value stored under `key` anywhere in a nested spec."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += _walk(v, key)
    elif isinstance(node, list):
        for item in node:
            found += _walk(item, key)
    return found


@pytest.mark.parametrize(
    ("measure", "lower_is_better", "log", "left"),
    [("HR", True, True, "intervention"), ("RR", False, True, "control"), ("RD", False, False, "control")],
)
def test_forest_scale_null_line_and_favours_sides(measure: str, lower_is_better: bool, log: bool, left: str) -> None:
    rows = examples.FOREST_HR if log else examples.FOREST_RD
    spec = forest.spec(rows, title="t", measure=measure, lower_is_better=lower_is_better)
    _round_trip(spec)
    null = 1.0 if log else 0.0
    assert {p["name"]: p.get("value") for p in spec["params"]}[forest.NULL_PARAM] == null
    # the data axis (risk-of-bias columns are placed in pixels, with no scale)
    scales = [x["scale"] for x in _walk(spec, "x") if isinstance(x, dict) and x.get("scale")]
    assert {sc.get("type") for sc in scales} == {"log" if log else "linear"}
    (low, high), ticks = scales[0]["domain"], next(x["axis"]["values"] for x in _walk(spec, "x") if "axis" in x)
    assert low < null < high
    assert null in ticks and all(low <= t <= high for t in ticks) and len(ticks) >= 3
    assert all(len(f"{t:g}") <= 5 for t in ticks)  # readable: 0.25, 0.5, 1, 2 ...
    right = "control" if left == "intervention" else "intervention"
    texts = [t for t in _walk(spec["layer"], "text") if isinstance(t, str) and "Favours" in t]
    assert texts == [f"← Favours\n{left}", f"Favours →\n{right}"]


def test_forest_rejects_non_positive_values_on_a_log_axis() -> None:
    rows = [{"label": "A", "kind": "study", "estimate": 0.0, "ci_low": -0.1, "ci_high": 0.2, "weight": 100.0}]
    with pytest.raises(ValueError, match="log-scale"):
        forest.spec(rows, title="t", measure="HR", lower_is_better=True)


def test_forest_rows_keep_their_order() -> None:
    spec = forest.spec(examples.FOREST_HR, title="t", measure="HR", lower_is_better=True)
    ys = [v["_y"] for v in spec["data"]["values"]]
    assert ys == sorted(ys)
    assert [v["label"] for v in spec["data"]["values"]] == [r["label"] for r in examples.FOREST_HR]


@pytest.mark.parametrize("module", KINDS, ids=KIND_IDS)
def test_describe_is_one_plain_sentence(module: Any) -> None:
    rows = {
        medians: examples.MEDIANS_REGIMEN,
        response: examples.RESPONSE,
        adverse_events: examples.ADVERSE_EVENTS,
        forest: examples.FOREST_ROB,
        risk_of_bias: examples.ROB_TRAFFIC,
        risk_of_bias_summary: examples.ROB_SUMMARY,
        funnel: examples.FUNNEL,
    }[module]
    sentence = module.describe(rows)
    assert sentence.endswith(".") and sentence.count(". ") == 0 and "\n" not in sentence
    assert "<" not in sentence and 40 < len(sentence) < 400
    assert module.describe([]).endswith(".")


def test_tooltips_are_plain_text_fields() -> None:
    """Tooltips show data fields as text (vega-tooltip escapes them); no HTML is assembled in expressions."""
    for build in BUILDERS.values():
        for tooltip in _walk(build(), "tooltip"):
            for item in tooltip if isinstance(tooltip, list) else [tooltip]:
                assert set(item) == {"field", "title", "type"} and item["type"] == "nominal", item


# --- palette and theme ---------------------------------------------------------------------------------------


def test_palette_is_stable_and_distinct_for_eight() -> None:
    ids = [f"regimen-{i}" for i in range(8)]
    first = regimen_colours(ids)
    assert len(set(first.values())) == 8
    assert regimen_colours(ids) == first
    assert "#000000" not in first.values()  # black vanishes on the dark theme
    # adding a regimen at the end of the package does not recolour the others
    more = regimen_colours([*ids, "regimen-new"])
    assert {k: more[k] for k in ids} == first
    assert regimen_colours([*ids[:3], ids[0]]) == {k: first[k] for k in ids[:3]}


@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=20, unique=True))
def test_palette_colour_depends_only_on_position(ids: list[str]) -> None:
    colours = regimen_colours(ids)
    assert list(colours) == ids
    assert all(colours[i] == palette.OKABE_ITO[n % 8] for n, i in enumerate(ids))
    assert len(set(colours.values())) == min(8, len(ids))


def test_unknown_regimen_is_an_error_not_a_wrong_colour() -> None:
    with pytest.raises(ValueError, match="without a site-wide colour"):
        colours_for(["nope"], DOMAIN, RANGE)
    assert colours_for(["tace", "rego"], DOMAIN, RANGE) == (["rego", "tace"], [COLOURS["rego"], COLOURS["tace"]])


def test_theme_text_contrast_on_light_and_dark_backgrounds() -> None:
    light, dark = theme.light_config(), theme.dark_config()
    for config, background in ((light, theme.LIGHT_BACKGROUND), (dark, theme.DARK_BACKGROUND)):
        for colour in (config["axis"]["labelColor"], config["title"]["color"], config["style"]["le-text"]["fill"]):
            assert theme.contrast_ratio(colour, background) >= 7
        assert theme.contrast_ratio(config["style"]["le-muted"]["fill"], background) >= 4.5
    for fill, text_colour in zip(palette.RESPONSE_COLOURS, palette.RESPONSE_TEXT_COLOURS, strict=True):
        assert theme.contrast_ratio(fill, text_colour) >= 4.5

    # every dark override replaces a key the light config has
    def keys(d: dict[str, Any], prefix: str = "") -> set[str]:
        return {prefix + k for k, v in d.items() if not isinstance(v, dict)} | {
            x for k, v in d.items() if isinstance(v, dict) for x in keys(v, f"{prefix}{k}.")
        }

    assert keys(theme.DARK_OVERRIDES) <= keys(light)
    assert all(theme.contrast_ratio(c, theme.DARK_BACKGROUND) >= 3 for c in palette.OKABE_ITO[:7])


# --- assets --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bundle_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache directory holding the wrapped bundle (built once per test session: ~3 s)."""
    cache = tmp_path_factory.mktemp("vega-cache")
    assets.vega_bundle(cache)
    return cache


def test_write_assets_writes_bundle_and_renderer(tmp_path: Path, bundle_cache: Path, monkeypatch: Any) -> None:
    import vl_convert

    monkeypatch.setattr(vl_convert, "javascript_bundle", lambda **_: pytest.fail("bundle rebuilt despite cache"))
    written = assets.write_assets(tmp_path, cache_dir=bundle_cache)
    assert written == [tmp_path / "js" / "vega.js", tmp_path / "js" / "charts.js"]
    mtimes = [p.stat().st_mtime_ns for p in written]
    assert assets.write_assets(tmp_path, cache_dir=bundle_cache) == written
    assert [p.stat().st_mtime_ns for p in written] == mtimes  # unchanged files are not rewritten
    bundle = written[0].read_text(encoding="utf-8")
    assert bundle.startswith("/*!") and bundle.rstrip().endswith("})();")
    assert len(bundle) > 500_000


def test_charts_js_contract(tmp_path: Path, bundle_cache: Path) -> None:
    js = assets.write_assets(tmp_path, cache_dir=bundle_cache)[1].read_text(encoding="utf-8")
    assert "__" not in js.replace("__proto__", "")  # every placeholder filled
    assert "eval(" not in js and "Function(" not in js
    for needle in (
        "document$",
        "DOMContentLoaded",
        "currentScript",
        '"data-vega-spec"',
        "ast: true",
        "actions: false",
        'renderer: "svg"',
        "console.error",
        "data-md-color-scheme",
        "vega.js?v=",
    ):
        assert needle in js, needle
    dark = json.loads(js.split("var DARK_CONFIG = ", 1)[1].split(";\n", 1)[0])
    assert dark == theme.DARK_OVERRIDES
    if shutil.which("node"):
        subprocess.run(["node", "--check", str(tmp_path / "js" / "charts.js")], check=True)


_NODE_GLOBALS = r"""
const vm = require("vm"), fs = require("fs");
const noop = () => {};
const el = () => ({ style: {}, setAttribute: noop, appendChild: noop, getContext: () => null,
                    classList: { add: noop, remove: noop } });
const sandbox = { console, setTimeout, clearTimeout, setInterval, clearInterval, URL, TextEncoder, TextDecoder,
  structuredClone, queueMicrotask, performance, atob, btoa, fetch, Event, EventTarget, AbortController,
  navigator: { userAgent: "node" }, location: { href: "http://localhost/" },
  document: { createElement: el, createElementNS: el, head: { appendChild: noop }, body: { appendChild: noop },
              querySelector: () => null, getElementById: () => null } };
sandbox.window = sandbox; sandbox.self = sandbox;
// strings: false = what a CSP without 'unsafe-eval' does: eval / new Function throw
const ctx = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
const before = new Set(Object.getOwnPropertyNames(ctx));
vm.runInContext(fs.readFileSync(process.argv[1], "utf8"), ctx, { filename: "vega.js" });
const added = Object.getOwnPropertyNames(ctx).filter((k) => !before.has(k)).sort();
// top-level const/let/class of an unwrapped bundle are globals too, though not properties: probe some
const lexical = ["n", "t", "$t6", "__default", "__default1"].filter(
  (name) => vm.runInContext(`typeof ${name} !== "undefined"`, ctx));
console.log(JSON.stringify({ added, lexical, vegaEmbed: typeof ctx.vegaEmbed }));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_bundle_defines_only_the_exposed_globals(tmp_path: Path, bundle_cache: Path) -> None:
    vega_js = assets.write_assets(tmp_path, cache_dir=bundle_cache)[0]
    out = subprocess.run(
        ["node", "-e", _NODE_GLOBALS, str(vega_js)], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"added": list(assets.EXPOSED_GLOBALS), "lexical": [], "vegaEmbed": "function"}


# --- in a real browser, under a strict Content-Security-Policy -----------------------------------------------

CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
FAKE_MATERIAL = """
window.document$ = { subs: [], subscribe: function (fn) { this.subs.push(fn); fn(); },
                     next: function () { this.subs.forEach(function (fn) { fn(); }); } };
"""


def _page(body: str, *, material: bool, renderer: str = "charts.js") -> str:
    scripts = '<script src="/js/material.js"></script>' if material else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>t</title></head>'
        f'<body data-md-color-scheme="default"><article style="max-width:760px">{body}</article>'
        f'{scripts}<script src="/js/{renderer}"></script></body></html>'
    )


@pytest.fixture(scope="module")
def browser_site(tmp_path_factory: pytest.TempPathFactory, bundle_cache: Path) -> Path:
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("needs /usr/bin/chromium")
    pytest.importorskip("playwright.sync_api")
    site = tmp_path_factory.mktemp("site")
    assets.write_assets(site, cache_dir=bundle_cache)
    (site / "js" / "material.js").write_text(FAKE_MATERIAL)
    charts = "".join(chart_div(b(), "A chart.") for b in BUILDERS.values())
    (site / "charts.html").write_text(_page(charts, material=True))
    (site / "plain.html").write_text(_page(chart_div(BUILDERS["response"](), "Response."), material=False))
    (site / "nochart.html").write_text(_page("<p>No charts here.</p>", material=True))
    # control: the same renderer without the expression interpreter must trip the CSP
    no_ast = (site / "js" / "charts.js").read_text().replace("ast: true,", "ast: false,")
    (site / "js" / "charts-noast.js").write_text(no_ast)
    (site / "noast.html").write_text(_page(charts, material=False, renderer="charts-noast.js"))
    return site


@pytest.mark.browser
def test_charts_render_under_csp_and_follow_the_theme(browser, browser_site: Path) -> None:
    # The session's browser (conftest): a second sync_playwright() in the same process is refused.
    requests: list[str] = []
    problems: list[str] = []

    def serve(route: Any) -> None:
        path = route.request.url.split("le.test", 1)[1].split("?", 1)[0].lstrip("/")
        file = browser_site / path
        if not file.is_file():
            route.fulfill(status=404, body="")
            return
        kind = "text/html" if path.endswith(".html") else "application/javascript"
        route.fulfill(body=file.read_bytes(), headers={"Content-Type": kind, "Content-Security-Policy": CSP})

    page = browser.new_page(viewport={"width": 1000, "height": 900})
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.route("http://le.test/**", serve)

        # a page without charts never downloads the bundle
        page.goto("http://le.test/nochart.html")
        page.wait_for_load_state("networkidle")
        assert not any("vega.js" in url for url in requests)

        # every kind renders as SVG, with no CSP violation (no eval) and no error
        page.goto("http://le.test/charts.html")
        n = len(BUILDERS)
        wait_until(page, f"document.querySelectorAll('.le-chart svg').length === {n}", timeout=20)
        widths = page.eval_on_selector_all(".le-chart svg", "els => els.map(e => +e.getAttribute('width'))")
        assert all(w > 600 for w in widths), widths  # width "container" took the column width
        assert page.evaluate("typeof window.vega") == "undefined"  # only vegaEmbed is global
        assert sum("vega.js" in url for url in requests) == 1

        # the palette toggle re-renders in dark colours
        page.evaluate("document.body.setAttribute('data-md-color-scheme', 'slate')")
        wait_until(
            page, "[...document.querySelectorAll('.le-chart')].every(e => e.getAttribute('data-le-theme') === 'dark')"
        )
        wait_until(page, f"document.querySelectorAll('.le-chart svg').length === {n}")
        fills = page.eval_on_selector_all(".le-chart svg text", "els => els.map(e => e.getAttribute('fill'))")
        assert theme.DARK_COLOURS["fg"] in fills and theme.LIGHT_COLOURS["fg"] not in fills

        # instant navigation: new content, then document$ emits
        page.evaluate(
            "document.querySelector('article').innerHTML = document.querySelector('.le-chart').outerHTML;"
            "document.querySelector('.le-chart').innerHTML = '';"
            "document.querySelector('.le-chart').removeAttribute('data-le-theme');"
            "window.document$.next();"
        )
        wait_until(page, "document.querySelectorAll('.le-chart svg').length === 1")

        # without mkdocs-material's document$, DOMContentLoaded renders the charts; a phone width works
        page.set_viewport_size({"width": 360, "height": 800})
        page.goto("http://le.test/plain.html")
        wait_until(page, "document.querySelectorAll('.le-chart svg').length === 1")
        width = page.eval_on_selector(".le-chart svg", "e => +e.getAttribute('width')")
        assert 300 <= width <= 360
        assert problems == []

        # control: without `ast: true` Vega compiles expressions with Function(), which this CSP blocks
        page.goto("http://le.test/noast.html")
        wait_until(page, "document.querySelectorAll('.le-chart--error').length > 0", timeout=20)
        assert any("unsafe-eval" in message for message in problems)
    finally:
        page.close()
