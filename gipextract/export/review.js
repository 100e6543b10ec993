(function () {
  "use strict";
  var findings = Array.prototype.slice.call(document.querySelectorAll("button.finding"));
  var info = document.getElementById("cellinfo");
  var infoBody = info.querySelector(".body");
  function cellsOf(btn) {
    var keys = (btn.getAttribute("data-cells") || "").split(" ").filter(Boolean);
    var out = [];
    keys.forEach(function (k) {
      document.querySelectorAll('td[data-key="' + (window.CSS && CSS.escape ? CSS.escape(k) : k) + '"]').forEach(function (td) { out.push(td); });
    });
    return out;
  }
  function clear() {
    document.querySelectorAll("td.hl").forEach(function (td) { td.classList.remove("hl"); });
    document.querySelectorAll("td.sel").forEach(function (td) { td.classList.remove("sel"); });
    findings.forEach(function (b) { b.setAttribute("aria-pressed", "false"); b.classList.remove("for-cell"); });
  }
  function select(btn, scroll) {
    clear();
    btn.setAttribute("aria-pressed", "true");
    var cells = cellsOf(btn);
    cells.forEach(function (td) { td.classList.add("hl"); });
    if (scroll !== false && cells.length) {
      cells[0].scrollIntoView({ behavior: "smooth", block: "center", inline: "center" });
    }
  }
  findings.forEach(function (btn) {
    btn.addEventListener("click", function () {
      if (btn.getAttribute("aria-pressed") === "true") { clear(); return; }
      select(btn);
    });
  });
  function text(s) { var d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
  function showCell(td) {
    clear();
    td.classList.add("sel");
    var idx = (td.getAttribute("data-findings") || "").split(" ").filter(Boolean);
    var title = td.getAttribute("title") || "";
    var html = '<p class="key">' + text(td.getAttribute("data-key")) + "</p><p>" +
      text(title).replace(/\n/g, "<br>") + "</p><p><b>Value shown:</b> " + (text(td.textContent) || "(empty)") + "</p>";
    if (idx.length) {
      html += "<b>" + idx.length + " finding" + (idx.length > 1 ? "s" : "") + "</b><ul>";
      idx.forEach(function (i) {
        var b = document.getElementById("f" + i);
        if (!b) { return; }
        b.classList.add("for-cell");
        var msg = b.querySelector(".msg");
        html += '<li><button type="button" data-goto="' + i + '">' + text(b.querySelector("b").textContent) + ": " +
          text(msg ? msg.textContent : "") + "</button></li>";
      });
      html += "</ul>";
      var first = document.getElementById("f" + idx[0]);
      if (first) { first.scrollIntoView({ block: "nearest" }); }
    } else {
      html += "<p>No finding names this cell.</p>";
    }
    infoBody.innerHTML = html;
    info.hidden = false;
  }
  infoBody.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-goto]");
    if (!b) { return; }
    var f = document.getElementById("f" + b.getAttribute("data-goto"));
    if (f) { select(f); f.focus({ preventScroll: true }); }
  });
  info.querySelector(".close").addEventListener("click", function () { info.hidden = true; clear(); });
  var tables = document.getElementById("tables");
  tables.addEventListener("click", function (ev) {
    var td = ev.target.closest("td[data-key]");
    if (td && (td.hasAttribute("data-findings") || td.hasAttribute("tabindex"))) { showCell(td); return; }
    var pg = ev.target.closest(".pg");
    if (pg) { pg.classList.toggle("zoom"); }
  });
  tables.addEventListener("keydown", function (ev) {
    if (ev.key !== "Enter" && ev.key !== " ") { return; }
    var td = ev.target.closest("td[data-key]");
    if (td) { ev.preventDefault(); showCell(td); return; }
    var pg = ev.target.closest(".pg");
    if (pg) { ev.preventDefault(); pg.classList.toggle("zoom"); }
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") { clear(); info.hidden = true; }
  });
})();
