// The studio's only script besides vendored htmx and plotly. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // Charts: an element with data-plotly="<id of a JSON script tag>" is drawn with plotly.
  function renderCharts(root) {
    if (typeof window.Plotly === "undefined") return;
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      var source = document.getElementById(el.getAttribute("data-plotly"));
      if (!source) return;
      try {
        var figure = JSON.parse(source.textContent);
        window.Plotly.react(el, figure.data || [], figure.layout || {}, {responsive: true, displaylogo: false});
      } catch (err) {
        el.textContent = "This chart could not be drawn: " + err.message;
      }
    });
  }

  function wire(root) {
    root.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      if (select.dataset.wired) return;
      select.dataset.wired = "1";
      select.addEventListener("change", function () { select.form.requestSubmit(); });
    });
    root.querySelectorAll("[data-copy]").forEach(function (button) {
      if (button.dataset.wired) return;
      button.dataset.wired = "1";
      button.addEventListener("click", function () {
        var target = document.getElementById(button.getAttribute("data-copy"));
        if (target && navigator.clipboard) navigator.clipboard.writeText(target.textContent.trim());
        button.textContent = "Copied";
      });
    });
    renderCharts(root);
  }

  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  document.addEventListener("htmx:afterSettle", function (event) { wire(event.detail.elt || document); });
  // Show server errors from htmx requests instead of failing silently.
  document.addEventListener("htmx:responseError", function (event) {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var xhr = event.detail.xhr;
    var box = document.createElement("div");
    box.className = "flash error";
    box.setAttribute("role", "alert");
    box.textContent = xhr.status >= 500
      ? "Something went wrong on the server (" + xhr.status + "). It was logged; try again."
      : "The request was refused (" + xhr.status + ").";
    flash.replaceChildren(box);
  });
})();
