/* The many-to-many chooser (SelectFilter2.js, run on "load") names its magnifier icon with an
   aria-label on a bare <span>, which ARIA does not allow (axe: aria-prohibited-attr): the icon is
   an image, so it gets role="img" and keeps its name. Registered after SelectFilter2's own
   "load" listener (this script is at the end of the page), so it runs after it. */
window.addEventListener("load", function () {
  document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
    icon.setAttribute("role", "img");
  });
});
