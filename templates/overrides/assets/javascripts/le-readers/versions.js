/* The version selector (mkdocs-material's, reading mike's versions.json) keeps the page the reader is on when the
   chosen version's sitemap.xml lists it, and otherwise opens that version's home page without a word. This script
   notes the page when a version is chosen and, on the page reached, says so when it is not the same page.
   Loaded only in versioned builds; the theme's handler listens on document.body, so this capture-phase listener
   on the document runs first and never stops it. Plain DOM code, no inline script (Content-Security-Policy). */
(function () {
  "use strict";
  var KEY = "le-version-switch";

  // The address of the version folder this page belongs to (the theme's config holds it relative to the page).
  function versionBase() {
    var config = document.getElementById("__config");
    try {
      return new URL(JSON.parse(config.textContent).base, location.href).href.replace(/\/?$/, "/");
    } catch (err) {
      return null;
    }
  }

  function pathIn(base) {
    var here = location.origin + location.pathname;
    return here.indexOf(base) === 0 ? here.slice(base.length) : null;
  }

  function pageTitle() {
    var h1 = document.querySelector(".md-content h1");
    if (!h1) return document.title;
    var copy = h1.cloneNode(true);
    copy.querySelectorAll(".headerlink").forEach(function (a) { a.remove(); });
    return copy.textContent.trim();
  }

  document.addEventListener("click", function (ev) {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    var link = ev.target instanceof Element ? ev.target.closest(".md-version a[href]") : null;
    var base = versionBase();
    if (!link || link.target || !base) return;
    var path = pathIn(base);
    if (path === null) return;
    var version = link.cloneNode(true);
    version.querySelectorAll(".md-version__alias").forEach(function (a) { a.remove(); });
    try {
      sessionStorage.setItem(KEY, JSON.stringify({
        target: new URL(link.href, location.href).href, path: path, title: pageTitle(),
        version: version.textContent.trim()
      }));
    } catch (err) { /* storage refused: the theme still switches, without the notice */ }
  }, true);

  function notice(record) {
    var content = document.querySelector(".md-content__inner");
    if (!content) return;
    var box = document.createElement("div");
    box.className = "admonition info le-version-notice";
    box.setAttribute("role", "status");
    var title = document.createElement("p");
    title.className = "admonition-title";
    title.textContent = "Not in data version " + record.version;
    var text = document.createElement("p");
    text.textContent = "The page you were reading, \u201c" + record.title + "\u201d (" + (record.path || "home") +
      "), is not part of data version " + record.version + ", so the version menu opened that version's home page.";
    box.appendChild(title);
    box.appendChild(text);
    content.insertBefore(box, content.firstChild);
  }

  var record = null;
  try {
    record = JSON.parse(sessionStorage.getItem(KEY) || "null");
    sessionStorage.removeItem(KEY);
  } catch (err) {
    record = null;
  }
  if (!record || typeof record.target !== "string" || typeof record.path !== "string") return;
  var target = record.target.replace(/\/?$/, "/");
  var landed = pathIn(target);
  if (landed !== null && landed !== record.path) notice(record);
})();
