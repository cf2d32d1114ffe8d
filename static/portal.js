/* The P3MI portal: while an upload is queued or being checked, poll the dossier's status every
 * 2 s and redraw the slots' live part (state, failed checks and their fixes). Without JS the
 * page shows the same after a reload. A file dragged onto a slot is sent as if chosen there. */
(function () {
  "use strict";
  var page = document.querySelector(".portal-dossier[data-status-url]");
  if (!page) { return; }
  var url = page.getAttribute("data-status-url");

  Array.prototype.forEach.call(page.querySelectorAll("li[data-slot]"), function (slot) {
    var form = slot.querySelector("form.upload-form");
    if (!form) { return; }
    var input = form.querySelector("input[type=file]");
    var note = slot.querySelector("[data-drop-note]");
    var leave = function () { slot.classList.remove("drop-target"); };
    slot.addEventListener("dragover", function (event) {
      event.preventDefault();
      slot.classList.add("drop-target");
    });
    slot.addEventListener("dragleave", leave);
    slot.addEventListener("drop", function (event) {
      event.preventDefault();
      leave();
      var files = event.dataTransfer && event.dataTransfer.files;
      if (!files || !files.length) { return; }
      if (files.length > 1) {
        // One document per slot: the server would take only the first, silently.
        if (note) { note.textContent = "Seret satu berkas saja untuk dokumen ini."; note.hidden = false; }
        return;
      }
      input.files = files;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    });
  });

  var text = function (tag, cls, content) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (content) { el.textContent = content; }
    return el;
  };

  var drawUpload = function (live, up, status, draft) {
    live.textContent = "";
    if (!up) { return; }
    var line = text("div", "small");
    line.setAttribute("data-upload", up.id);
    line.setAttribute("data-state", up.state);
    line.appendChild(document.createTextNode((up.original_name || "Berkas") + " — "));
    var label = up.state_label + (up.state === "running" ? " " + up.progress + "%" : "");
    var state = text("span", up.state === "failed" || up.failed.length ? "text-danger" : (up.busy ? "text-info" : ""), label);
    state.setAttribute("data-state-label", "");
    line.appendChild(state);
    if (up.state === "failed" && up.state_reason) { line.appendChild(text("span", "text-danger", ": " + up.state_reason)); }
    live.appendChild(line);
    if (up.capture_note) {
      var note = text("div", "small text-muted", up.capture_note);
      note.setAttribute("data-capture-note", "");
      live.appendChild(note);
    }
    if (status === "terverifikasi") {
      live.appendChild(text("div", "small text-success", "✓ Diterima petugas."));
    } else if (up.failed.length) {
      var list = text("ul", "list-unstyled small mb-1 fixes");
      up.failed.forEach(function (c) {
        var li = text("li", "check-fail");
        li.setAttribute("data-check", c.name);
        li.appendChild(text("span", "mark", "✗ "));
        li.appendChild(text("strong", "", c.label));
        li.appendChild(document.createTextNode(": " + c.message + " "));
        li.appendChild(text("span", "fix", "→ " + c.hint));
        list.appendChild(li);
      });
      live.appendChild(list);
    } else if (up.state === "done") {
      live.appendChild(text("div", "small text-success", draft ? "✓ Lolos pemeriksaan otomatis." : "✓ Lolos pemeriksaan otomatis; menunggu pemeriksaan petugas."));
    }
  };

  var poll = function () {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        data.slots.forEach(function (slot) {
          var item = document.getElementById("slot-" + slot.id);
          var live = item && item.querySelector("[data-live]");
          if (!live) { return; }
          var shown = live.querySelector("[data-upload]");
          var up = slot.upload;
          if (up && shown && shown.getAttribute("data-upload") === String(up.id) &&
              shown.getAttribute("data-state") === up.state && up.state !== "running") { return; }
          drawUpload(live, up, slot.status, data.draft);
        });
        var box = page.querySelector("[data-pending-box]");
        if (box) {
          box.hidden = !data.pending;
          box.querySelector("[data-pending-count]").textContent = data.pending;
        }
        var flagged = page.querySelector("[data-flagged-box]");
        if (flagged) {
          flagged.hidden = !data.flagged;
          flagged.querySelector("[data-flagged-count]").textContent = data.flagged;
        }
        if (data.pending) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  };
  if (page.getAttribute("data-pending") !== "0") { window.setTimeout(poll, 2000); }
})();
