/* mkdocs-material 9.8.1 partials/javascripts/content.html, moved from an inline <script> to this file so that
   the site's Content-Security-Policy allows no inline script (templates/overrides/partials/javascripts/content.html). */
var tabs=__md_get("__tabs");if(Array.isArray(tabs))e:for(var set of document.querySelectorAll(".tabbed-set")){var labels=set.querySelector(".tabbed-labels");for(var tab of tabs)for(var label of labels.getElementsByTagName("label"))if(label.innerText.trim()===tab){var input=document.getElementById(label.htmlFor);input.checked=!0;continue e}}
