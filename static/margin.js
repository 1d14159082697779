// Margin: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // Move focus to an error summary so screen readers announce it first.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // A live character counter under each textarea with a maxlength. The
  // visible count updates on every key; the one read aloud only after a pause.
  function characterCounters() {
    var areas = document.querySelectorAll("textarea[maxlength]");
    Array.prototype.forEach.call(areas, function (area, i) {
      var max = parseInt(area.getAttribute("maxlength"), 10);
      if (!(max > 0)) {
        return;
      }
      var id = (area.id || "textarea-" + i) + "-count";
      var visible = document.createElement("p");
      visible.className = "char-count";
      visible.id = id;
      visible.setAttribute("aria-hidden", "true");
      var spoken = document.createElement("p");
      spoken.className = "visually-hidden";
      spoken.setAttribute("aria-live", "polite");
      area.insertAdjacentElement("afterend", visible);
      visible.insertAdjacentElement("afterend", spoken);

      var timer = null;
      function message() {
        var left = max - area.value.length;
        if (left < 0) {
          return (-left) + " characters too many";
        }
        return left + (left === 1 ? " character" : " characters") + " left of " + max;
      }
      function update() {
        visible.textContent = message();
        visible.classList.toggle("over", area.value.length > max * 0.95);
        window.clearTimeout(timer);
        timer = window.setTimeout(function () {
          spoken.textContent = message();
        }, 1000);
      }
      visible.textContent = message();
      area.addEventListener("input", update);
    });
  }

  // parseRanges reads "37, 39-40" into a list of [from, to] ranges.
  function parseRanges(value) {
    var out = [];
    value.split(/[,;\s]+/).forEach(function (part) {
      var m = /^(\d+)(?:\s*[-–]\s*(\d+))?$/.exec(part.trim());
      if (m) {
        var from = parseInt(m[1], 10);
        var to = m[2] ? parseInt(m[2], 10) : from;
        out.push([Math.min(from, to), Math.max(from, to)]);
      }
    });
    return out;
  }

  function covers(value, n) {
    return parseRanges(value).some(function (r) {
      return n >= r[0] && n <= r[1];
    });
  }

  // "Comment on ¶N" adds N to the paragraphs field of the form on this page
  // instead of reloading the page with only N, then focuses the comment box.
  function commentLinks() {
    var form = document.getElementById("comment-form");
    if (!form) {
      return;
    }
    var field = form.querySelector("input[name='paragraphs']");
    var body = form.querySelector("textarea[name='body']");
    if (!field) {
      return;
    }
    var announcer = document.createElement("p");
    announcer.className = "visually-hidden";
    announcer.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", announcer);
    document.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a.comment-on[data-paragraph]") : null;
      if (!link || event.defaultPrevented || event.button !== 0 ||
          event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
        return;
      }
      var n = parseInt(link.getAttribute("data-paragraph"), 10);
      if (!(n > 0)) {
        return;
      }
      event.preventDefault();
      var value = field.value.trim();
      if (!covers(value, n)) {
        field.value = value === "" ? String(n) : value.replace(/[,\s]+$/, "") + ", " + n;
      }
      announcer.textContent = "Commenting on paragraphs " + field.value + ".";
      form.scrollIntoView({ block: "start" });
      (body || field).focus({ preventScroll: true });
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "#comment-form");
      }
    });
  }

  // Ask before marking a comment as spam: it removes the comment from view.
  function spamConfirmation() {
    var forms = document.querySelectorAll("form.decision-form");
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", function (event) {
        var chosen = form.querySelector("input[name='status']:checked") ||
          form.querySelector("select[name='status']");
        if (chosen && chosen.value === "spam" &&
            !window.confirm("Mark this comment as spam? It will not be published.")) {
          event.preventDefault();
        }
      });
    });
  }

  // Ask before irreversible author actions marked with data-confirm.
  function confirmButtons() {
    var buttons = document.querySelectorAll("button[data-confirm]");
    Array.prototype.forEach.call(buttons, function (button) {
      if (!button.form) { return; }
      button.form.addEventListener("submit", function (event) {
        if (!window.confirm(button.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  function init() {
    characterCounters();
    commentLinks();
    spamConfirmation();
    confirmButtons();
    focusErrorSummary();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
