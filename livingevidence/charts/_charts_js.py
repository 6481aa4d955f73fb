"""Source of `js/charts.js` (kept in a .py file so it ships with the package; `assets.charts_js` fills the
`__NAME__` placeholders with JSON values).

Contract with the page templates:
    <div class="le-chart" data-vega-spec="{{ spec_json }}" role="img" aria-label="{{ sentence }}"></div>
followed by a visible caption and a data table. The script
  (a) renders on first load and after every mkdocs-material instant navigation (`document$`), falling back to
      DOMContentLoaded when the theme's `document$` is absent;
  (b) loads `vega.js` (resolved against this script's own URL) once, and only when the page has a chart;
  (c) renders the containers one per task, in page order, each with
      vegaEmbed(el, spec, {actions: false, renderer: "svg", ast: true}), where
      `ast: true` selects Vega's CSP-safe expression interpreter (no eval / new Function);
  (d) merges the dark config into the spec when <body data-md-color-scheme="slate">, and re-renders all charts
      when the reader switches palette;
  (e) reports a failing chart with console.error only, and marks its container with `le-chart--error`.
"""

CHARTS_JS = r"""/* Living evidence charts: renders <div class="le-chart" data-vega-spec="..."> with Vega-Lite. */
(function () {
  "use strict";

  var ATTR = __CHART_ATTR__;
  var SELECTOR = __CHART_SELECTOR__;
  var BUNDLE_VERSION = __BUNDLE_VERSION__;
  var DARK_CONFIG = __DARK_CONFIG__;

  // Resolve vega.js next to this script, whatever the page's depth in the site.
  var self = document.currentScript || document.querySelector('script[src*="charts.js"]');
  var bundleUrl = new URL("vega.js?v=" + BUNDLE_VERSION, self ? self.src : document.baseURI).href;
  var loading = null;
  var views = []; // [{el, result}] of rendered charts, finalized when replaced or gone

  function loadVega() {
    if (typeof window.vegaEmbed === "function") return Promise.resolve(window.vegaEmbed);
    if (!loading) {
      loading = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = bundleUrl;
        script.async = true;
        script.onload = function () {
          if (typeof window.vegaEmbed === "function") resolve(window.vegaEmbed);
          else reject(new Error("vega.js loaded but did not define vegaEmbed"));
        };
        script.onerror = function () {
          loading = null; // allow a retry on the next navigation
          reject(new Error("could not load " + bundleUrl));
        };
        document.head.appendChild(script);
      });
    }
    return loading;
  }

  function isDark() {
    return !!document.body && document.body.getAttribute("data-md-color-scheme") === "slate";
  }

  function merge(base, extra) {
    var out = {};
    var key;
    for (key in base) if (Object.prototype.hasOwnProperty.call(base, key)) out[key] = base[key];
    for (key in extra) {
      if (!Object.prototype.hasOwnProperty.call(extra, key)) continue;
      var a = out[key];
      var b = extra[key];
      var plain = function (v) { return v && typeof v === "object" && !Array.isArray(v); };
      out[key] = plain(a) && plain(b) ? merge(a, b) : b;
    }
    return out;
  }

  function forget(el) {
    views = views.filter(function (view) {
      var drop = view.el === el || !view.el.isConnected;
      if (drop) {
        try { view.result.finalize(); } catch (err) { /* already gone */ }
      }
      return !drop;
    });
  }

  function render(vegaEmbed, el) {
    var spec;
    try {
      spec = JSON.parse(el.getAttribute(ATTR));
    } catch (err) {
      el.classList.add("le-chart--error");
      console.error("charts.js: invalid chart spec", el, err);
      return Promise.resolve();
    }
    var dark = isDark();
    if (dark) spec.config = merge(spec.config || {}, DARK_CONFIG);
    forget(el);
    el.classList.remove("le-chart--error");
    el.setAttribute("data-le-theme", dark ? "dark" : "light");
    // ast: Vega's expression interpreter, not code generation (a CSP without 'unsafe-eval' allows it);
    // defaultStyle: false keeps vega-embed from injecting a <style> that makes the container inline-block
    // (which would give width "container" a width of 0) and is only needed for the actions menu.
    var options = {
      actions: false,
      renderer: "svg",
      ast: true,
      defaultStyle: false,
      // disableDefaultStyle: vega-tooltip would inject a <style> element, which the site's CSP (style-src 'self')
      // blocks; its rules are in site.css instead.
      tooltip: {theme: dark ? "dark" : "light", disableDefaultStyle: true},
    };
    return vegaEmbed(el, spec, options).then(function (result) {
      views.push({el: el, result: result});
    }).catch(function (err) {
      el.classList.add("le-chart--error");
      console.error("charts.js: could not render chart", el, err);
    });
  }

  function nextTask() {
    return new Promise(function (resolve) { setTimeout(resolve, 0); });
  }

  function renderAll(onlyStale) {
    forget(null);
    var wanted = isDark() ? "dark" : "light";
    var charts = Array.prototype.filter.call(document.querySelectorAll(SELECTOR), function (el) {
      return !onlyStale || (el.getAttribute("data-le-theme") && el.getAttribute("data-le-theme") !== wanted);
    });
    if (!charts.length) return; // pages without charts never download the bundle
    loadVega().then(function (vegaEmbed) {
      // One chart per task, in page order: drawing them all in one go was a single long task on a page with
      // dozens of forest plots, and the page did not answer taps until the last was drawn.
      return charts.reduce(function (previous, el) {
        return previous.then(function () { return render(vegaEmbed, el); }).then(nextTask);
      }, Promise.resolve());
    }).catch(function (err) {
      charts.forEach(function (el) { el.classList.add("le-chart--error"); });
      console.error("charts.js:", err);
    });
  }

  // (a) first load and every instant navigation of mkdocs-material; plain pages fall back to DOMContentLoaded
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(function () { renderAll(false); });
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { renderAll(false); });
  } else {
    renderAll(false);
  }

  // (d) the palette toggle flips data-md-color-scheme on <body>: re-render charts drawn for the other scheme
  if (window.MutationObserver) {
    new MutationObserver(function () { renderAll(true); }).observe(document.documentElement, {
      attributes: true,
      subtree: true,
      attributeFilter: ["data-md-color-scheme"],
    });
  }
})();
"""
