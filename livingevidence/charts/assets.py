"""The browser side: an offline Vega bundle (`js/vega.js`) and the renderer (`js/charts.js`).

`vl_convert.javascript_bundle()` returns vega + vega-lite + vega-embed as one ES-module-style script whose
top-level declarations would all become globals of the page. We ask it for a bundle whose only statement of
our own is `window.vegaEmbed = vegaEmbed` and wrap the result in a strict-mode function, so the page gets
exactly one global, `window.vegaEmbed`. The bundle (~0.9 MB) takes seconds to make, so it is cached under the
build directory, keyed by the vl-convert version, the Vega-Lite version and the wrapper; `write_assets` copies
it from there and rewrites files only when their bytes change.

CSP finding: vega-embed (v7, inside the bundle) already contains vega-interpreter. With `{ast: true}` it
parses expressions to an AST and evaluates them with that interpreter (`vega.expressionInterpreter ??
opts.expr ?? <bundled interpreter>`), never through `Function()`. `import ... from "vega-interpreter"` in the
`snippet` does not resolve (vl-convert only bundles its own entry modules), and is not needed. charts.js passes
`ast: true`, so the charts render under `Content-Security-Policy: script-src 'self'` without 'unsafe-eval';
the browser test checks that. The bundle still *contains* `Function(` in code paths not taken (Vega's
expression code generator, d3-dsv's CSV header parser for URL data we never load).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from livingevidence import paths
from livingevidence.charts import theme
from livingevidence.charts._charts_js import CHARTS_JS

#: The attribute of `<div class="le-chart">` that holds the Vega-Lite spec as JSON.
CHART_ATTR = "data-vega-spec"
#: The CSS class of chart containers.
CHART_CLASS = "le-chart"
#: The only globals the bundle defines.
EXPOSED_GLOBALS: tuple[str, ...] = ("vegaEmbed",)
#: Bump when the wrapper below changes (invalidates cached bundles).
_WRAPPER_VERSION = "1"
_SNIPPET = "window.vegaEmbed = vegaEmbed;\n"
_PREFIX = (
    "/*! Vega, Vega-Lite and Vega-Embed (BSD-3-Clause), bundled offline by vl-convert. */\n"
    '(function () {\n"use strict";\n'
)
_SUFFIX = "\n})();\n"


def _cache_key() -> str:
    import vl_convert

    versions = {
        "vl_convert": vl_convert.__version__,
        "vega": vl_convert.get_vega_version(),
        "vega_embed": vl_convert.get_vega_embed_version(),
        "vega_lite": vl_convert.get_vegalite_versions()[-1],
        "wrapper": _WRAPPER_VERSION,
        "snippet": _SNIPPET,
    }
    digest = hashlib.sha256(json.dumps(versions, sort_keys=True).encode()).hexdigest()[:16]
    return f"vega-{versions['vl_convert']}-{digest}.js"


def vega_bundle(cache_dir: Path | None = None) -> str:
    """The wrapped bundle text, from the cache when vl-convert has not changed (else built and cached)."""
    cache_dir = Path(cache_dir) if cache_dir is not None else paths.BUILD_DIR / "cache"
    cached = cache_dir / _cache_key()
    if cached.is_file():
        return cached.read_text(encoding="utf-8")
    import vl_convert

    bundle = vl_convert.javascript_bundle(snippet=_SNIPPET)
    text = f"{_PREFIX}{bundle}{_SUFFIX}"
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(cached)  # atomic: parallel builds never read half a bundle
    return text


def charts_js(bundle_version: str) -> str:
    """The renderer script; `bundle_version` is appended to the bundle URL so browsers refetch a new bundle."""
    return (
        CHARTS_JS.replace("__CHART_ATTR__", json.dumps(CHART_ATTR))
        .replace("__CHART_SELECTOR__", json.dumps(f".{CHART_CLASS}[{CHART_ATTR}]"))
        .replace("__BUNDLE_VERSION__", json.dumps(bundle_version))
        .replace("__DARK_CONFIG__", json.dumps(theme.DARK_OVERRIDES, sort_keys=True))
    )


def _write_if_changed(path: Path, text: str) -> None:
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_assets(dest: Path, *, cache_dir: Path | None = None) -> list[Path]:
    """Write `js/vega.js` and `js/charts.js` under `dest` (the docs directory mkdocs builds); return both paths.

    Add only `js/charts.js` to mkdocs `extra_javascript`: it loads `js/vega.js` itself, and only on pages
    that have a chart.
    """
    dest = Path(dest)
    bundle = vega_bundle(cache_dir)
    version = hashlib.sha256(bundle.encode("utf-8")).hexdigest()[:12]
    vega_path, charts_path = dest / "js" / "vega.js", dest / "js" / "charts.js"
    _write_if_changed(vega_path, bundle)
    _write_if_changed(charts_path, charts_js(version))
    return [vega_path, charts_path]
