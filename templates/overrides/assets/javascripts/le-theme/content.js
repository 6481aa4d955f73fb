/* mkdocs-material 9.8.1 partials/javascripts/content.html, moved from an inline <script> to this file so that
   the site's Content-Security-Policy allows no inline script (templates/overrides/partials/javascripts/content.html). */
var target=document.getElementById(location.hash.slice(1));target&&target.name&&(target.checked=target.name.startsWith("__tabbed_"))
