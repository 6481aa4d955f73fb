/* Accessibility fixes to the theme's markup (axe-core rule aria-dialog-name): the search overlay is a dialog
   without a name. Loaded from templates/overrides/partials/javascripts/content.html, so it runs again after
   every instant navigation; it only sets attributes that are missing. */
(function () {
  "use strict";
  var search = document.querySelector(".md-search[role=dialog]");
  if (search && !search.hasAttribute("aria-label")) {
    var input = document.querySelector(".md-search__input");
    search.setAttribute("aria-label", (input && input.getAttribute("aria-label")) || "Search");
  }
})();
