// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  // Destructive actions ask first: <form data-confirm="Recall lot X?">.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
  // Barcode scanners type like keyboards and end with Enter: keep focus in the scan box.
  var scan = document.querySelector("[data-scan-autofocus]");
  if (scan) {
    scan.focus();
  }
})();
