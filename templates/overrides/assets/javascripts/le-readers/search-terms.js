/* Search the data tables too: the site's search index leaves the tables out (to stay small), so a drug, an adverse
   event or a baseline characteristic printed only in a table would be found nowhere. The build writes the words of
   those tables once each, with their pages, to search/terms.json (livingevidence/pages/search_terms.py); this
   script loads it when the search box is first used and lists the matching terms and their pages above the theme's
   results. Every word typed must begin a word of the term ("hand foot" finds "Hand-foot skin reaction").
   Plain DOM code (no inline script, no innerHTML: every text is a text node). */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL("../../../", script.src).href : null;  // assets/javascripts/le-readers/ -> root
  var MAX_TERMS = 8, MAX_PAGES = 12, MIN_QUERY = 3;
  var index = null, loading = null;

  function words(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .split(/[^0-9a-z\u00c0-\uffff]+/).filter(Boolean);
  }

  function load() {
    if (!loading) {
      loading = fetch(base + "search/terms.json", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || data.v !== 1) return null;
          data.terms.forEach(function (t) { t.words = words(t[0]); });
          index = data;
          return data;
        })
        .catch(function () { return null; });
    }
    return loading;
  }

  // 3: the term is the query; 2: every query word begins a term word, the first one the term; 1: begins a word.
  function score(term, query) {
    var tw = term.words, i, j, first = false;
    for (i = 0; i < query.length; i++) {
      for (j = 0; j < tw.length && tw[j].indexOf(query[i]) !== 0; j++) { /* next word */ }
      if (j === tw.length) return 0;
      if (i === 0 && j === 0) first = true;
    }
    if (tw.join(" ") === query.join(" ")) return 3;
    return first ? 2 : 1;
  }

  function search(text) {
    var query = words(text);
    if (!index || query.join("").length < MIN_QUERY) return [];
    var found = [];
    index.terms.forEach(function (t) {
      var s = score(t, query);
      if (s) found.push([s, t]);
    });
    found.sort(function (a, b) {
      return b[0] - a[0] || a[1][0].length - b[1][0].length || (a[1][0] < b[1][0] ? -1 : 1);
    });
    return found.slice(0, MAX_TERMS).map(function (f) { return f[1]; });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text) node.textContent = text;
    return node;
  }

  function box() {
    var result = document.querySelector(".md-search-result");
    if (!result) return null;
    var found = result.querySelector(".le-terms");
    if (!found) {
      // Between the theme's count line (its first child) and its result list (its last child), which it keeps.
      found = el("div", "le-terms");
      found.setAttribute("aria-live", "polite");
      found.hidden = true;
      result.insertBefore(found, result.lastElementChild);
    }
    return found;
  }

  function render(text) {
    var target = box();
    if (!target) return;
    var terms = search(text);
    target.textContent = "";
    target.hidden = terms.length === 0;
    target.setAttribute("data-query", text);  // which query the list answers (the tests wait for it)
    if (!terms.length) return;
    target.appendChild(el("p", "le-terms__meta", "In the data tables: " + terms.length +
      (terms.length === 1 ? " term matches" : " terms match")));
    var list = el("ol", "le-terms__list");
    terms.forEach(function (t) {
      var note = index.notes[t[1]] || ["", {}];
      var item = el("li", "le-terms__item");
      var head = el("p", "le-terms__term");
      head.appendChild(el("strong", null, t[0]));
      head.appendChild(document.createTextNode(" \u00b7 " + note[0]));
      item.appendChild(head);
      var pages = el("ul", "le-terms__pages");
      t[2].slice(0, MAX_PAGES).forEach(function (p) {
        var page = index.pages[p];
        var anchor = note[1][page[0].charAt(0)];
        var a = el("a", null, page[1]);
        a.href = base + page[0] + (anchor ? "#" + anchor : "");
        var li = el("li");
        li.appendChild(a);
        pages.appendChild(li);
      });
      if (t[2].length > MAX_PAGES) pages.appendChild(el("li", "le-terms__more", "and " + (t[2].length - MAX_PAGES) + " more"));
      item.appendChild(pages);
      list.appendChild(item);
    });
    target.appendChild(list);
  }

  function onQuery(ev) {
    var input = ev.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("md-search__input") || !base) return;
    var text = input.value;
    if (index) render(text);
    else load().then(function () { if (input.value === text) render(text); });
  }

  // The theme opens and closes the search with a checkbox (a click, so a change event): its results stay in the
  // page while closed, ours are dropped (no stale links behind the page) and redrawn when it opens again.
  document.addEventListener("change", function (ev) {
    var toggle = ev.target;
    if (!(toggle instanceof HTMLInputElement) || toggle.getAttribute("data-md-toggle") !== "search") return;
    var input = document.querySelector(".md-search__input");
    if (toggle.checked && index && input) render(input.value);
    else if (!toggle.checked) render("");
  }, true);
  document.addEventListener("input", onQuery, true);
  document.addEventListener("focusin", function (ev) {
    if (ev.target instanceof HTMLInputElement && ev.target.classList.contains("md-search__input") && base) load();
  }, true);
})();
