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

// ==== Refused forms (base.html's "Not saved" banner) ====
(function () {
  "use strict";
  // After a refused save the first field in error takes the focus, so a screen reader reads the
  // field with its error (aria-describedby) right after the banner's alert.
  if (!document.querySelector(".msg.not-saved")) {
    return;
  }
  var invalid = document.querySelector('[aria-invalid="true"]');
  if (invalid && !invalid.hasAttribute("data-scan-autofocus")) {
    invalid.focus();
  }
})();

// ==== Today, kept current (courses/views/today_live.py) ====
(function () {
  "use strict";
  var box = document.querySelector("[data-live]");
  if (!box || !window.fetch) {
    return;  // without JavaScript the page shows what was true when it was loaded
  }
  var statusLine = document.querySelector("[data-live-status]");
  var interval = parseInt(box.getAttribute("data-live-interval") || "30000", 10);
  var STATUS_CLASS = /\bstatus-\S+/g;

  function setStatus(text) {
    if (statusLine && text) {
      statusLine.textContent = text;
    }
  }

  function apply(data) {
    var changed = 0;
    Array.prototype.forEach.call(box.querySelectorAll("[data-counter]"), function (counter) {
      var value = data.counters[parseInt(counter.getAttribute("data-counter"), 10)];
      var strong = counter.querySelector("strong");
      if (value === undefined || !strong || strong.textContent === String(value)) {
        return;
      }
      strong.textContent = String(value);
      counter.classList.toggle("alert", value > 0);
      changed += 1;
    });
    Object.keys(data.doses).forEach(function (id) {
      var row = document.getElementById("dose-" + id);
      var badge = row && row.querySelector(".badge");
      var dose = data.doses[id];
      if (!badge || badge.textContent === dose.label) {
        return;
      }
      badge.textContent = dose.label;
      badge.className = badge.className.replace(STATUS_CLASS, "").trim() + " status-" + dose.status;
      row.className = row.className.replace(/\brow-\S+/g, "").trim() + " row-" + dose.status;
      changed += 1;
      var form = document.querySelector('[data-record-for="' + id + '"]');
      if (form && ["given", "held", "refused", "missed", "cancelled"].indexOf(dose.status) >= 0) {
        // Recorded by someone else: its form would be refused now; say so instead.
        Array.prototype.forEach.call(form.querySelectorAll("button"), function (button) {
          button.disabled = true;
        });
        if (!form.classList.contains("recorded-elsewhere")) {
          form.classList.add("recorded-elsewhere");
          var note = document.createElement("p");
          note.className = "recorded-note";
          note.textContent = box.getAttribute("data-live-recorded");
          var cell = form.querySelector("td");
          cell.insertBefore(note, cell.firstChild);
        }
      }
    });
    var when = new Date(data.as_of).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
    if (changed) {
      setStatus(box.getAttribute("data-live-changed").replace("%(time)s", when));
    }
  }

  function listedChanged(data) {
    if (!data.listed) {
      return false;
    }
    var shown = Array.prototype.map.call(
      document.querySelectorAll("[data-live-doses] tr.dose-row"),
      function (row) { return row.id.slice("dose-".length); }
    ).sort().join(" ");
    return shown !== data.listed.map(String).sort().join(" ");
  }

  function recordRow(scope, row) {
    return scope.querySelector('[data-record-for="' + row.id.slice("dose-".length) + '"]');
  }

  // A dose prescribed or re-planned onto the day (or moved off it) changes which rows the page
  // lists: the page's own HTML, fetched again, brings the new rows in their ward and hour (and
  // the headings' counts); every row already shown is kept as it is — with whatever a nurse has
  // typed into its form, and the focus — in its place among them.
  function relist(data) {
    var region = document.querySelector("[data-live-doses]");
    return fetch(window.location.href.split("#")[0], {credentials: "same-origin", headers: {"Accept": "text/html"}})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        var fresh = html && new DOMParser().parseFromString(html, "text/html").querySelector("[data-live-doses]");
        if (!fresh) {
          return false;
        }
        var focused = document.activeElement;
        var next = document.importNode(fresh, true);
        Array.prototype.forEach.call(next.querySelectorAll("tr.dose-row"), function (row) {
          var kept = region.querySelector('tr.dose-row[id="' + row.id + '"]');
          if (!kept) {
            row.classList.add("live-added");
            return;
          }
          var newForm = recordRow(next, row);
          var keptForm = recordRow(region, kept);
          row.parentNode.replaceChild(kept, row);
          if (newForm) {
            newForm.parentNode.removeChild(newForm);
          }
          if (keptForm) {
            kept.parentNode.insertBefore(keptForm, kept.nextSibling);
          }
        });
        region.parentNode.replaceChild(next, region);
        if (focused && focused !== document.body && document.contains(focused)) {
          focused.focus({preventScroll: true});
        }
        return true;
      });
  }

  function poll() {
    if (document.hidden) {
      return;
    }
    fetch(box.getAttribute("data-live"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) {
          return null;
        }
        if (!listedChanged(data)) {
          return apply(data);
        }
        return relist(data).then(function (relisted) {
          apply(data);
          if (relisted) {
            var when = new Date(data.as_of).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
            var region = document.querySelector("[data-live-doses]");
            setStatus(region.getAttribute("data-live-listed").replace("%(time)s", when));
          }
        });
      })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  window.setInterval(poll, interval);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      poll();
    }
  });
})();
