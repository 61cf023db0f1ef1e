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
  // The box is empty after each scan (the server sends it back empty) and keeps the focus, also
  // when the page comes back from the browser's cache or a click lands elsewhere on the page.
  var scan = document.querySelector("[data-scan-autofocus]");
  if (scan) {
    var refocus = function () {
      scan.value = "";
      scan.focus();
    };
    refocus();
    window.addEventListener("pageshow", refocus);
    document.addEventListener("click", function (event) {
      var tag = event.target.tagName;
      if (tag !== "INPUT" && tag !== "SELECT" && tag !== "TEXTAREA" && tag !== "BUTTON" &&
          tag !== "A" && tag !== "SUMMARY") {
        scan.focus();
      }
    });
  }
})();

// ==== Ward pages (courses/templates/courses) ====
(function () {
  "use strict";
  // A select with data-reload="<action>" resubmits its form with that action when it changes
  // (the prescribe form loads the chosen protocol's fields, keeping what was typed).
  document.addEventListener("change", function (event) {
    var select = event.target;
    var action = select.getAttribute && select.getAttribute("data-reload");
    if (!action || !select.form) {
      return;
    }
    var button = select.form.querySelector('button[name="action"][value="' + action + '"]');
    if (button && select.form.requestSubmit) {
      select.form.requestSubmit(button);
    } else if (button) {
      button.click();
    }
  });
  // Buttons only needed without JavaScript.
  Array.prototype.forEach.call(document.querySelectorAll(".js-hidden"), function (element) {
    element.hidden = true;
  });
})();

// ==== Labels (courses/templates/courses/labels.html) ====
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-print")) {
      window.print();
    }
  });
})();
