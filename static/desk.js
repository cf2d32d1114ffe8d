/* The officers' desks: a few lines of plain JS on top of server-rendered pages.
 * Every feature degrades to the plain form or link when JS is off. */
(function () {
  "use strict";

  // Flask-Admin's row checkboxes (which only work with JS: its actions post by script) are named
  // by a tooltip alone; screen readers get the same words as their name.
  document.querySelectorAll("input[type=checkbox][title]:not([aria-label])").forEach(function (box) {
    box.setAttribute("aria-label", box.title);
  });

  // Queue filters apply as soon as they change; the "Terapkan" button stays for no-JS use.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll(".js-hide").forEach(function (el) { el.hidden = true; });
    form.addEventListener("change", function () { form.submit(); });
  });

  // A picked reason template fills the reason box, where the officer may still edit it.
  document.addEventListener("change", function (event) {
    var select = event.target.closest && event.target.closest(".reason-template");
    if (!select) { return; }
    var text = select.form.querySelector(".reason-text");
    if (text && select.value) { text.value = select.options[select.selectedIndex].text; text.focus(); }
  });

  // After a slot action the page opens at #slot-N with the outcome inside that card: move focus
  // there, to the reason box when a reason is what is missing, else to the message itself.
  var target = /^#slot-\d+$/.test(window.location.hash) && document.getElementById(window.location.hash.slice(1));
  var notice = target && target.querySelector("[data-slot-notice]");
  if (notice) {
    var reasonBox = notice.getAttribute("data-slot-notice") === "error" &&
      target.querySelector("form[data-needs-reason] .reason-text");
    (reasonBox || notice).focus();
  }

  // Click on a normalised image opens it large in a <dialog> instead of a new tab.
  var viewer = document.getElementById("image-viewer");
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-enlarge]");
    if (!link || !viewer || typeof viewer.showModal !== "function") { return; }
    event.preventDefault();
    viewer.querySelector("img").src = link.href;
    viewer.showModal();
  });
  if (viewer) {
    viewer.addEventListener("click", function (event) { if (event.target === viewer) { viewer.close(); } });
  }

  // Dossier page: poll the status endpoint; swap a slot's card when its processing or review
  // state changes, move only the bar while a job runs. Slower polling when nothing is running.
  var dossier = document.querySelector(".dossier[data-status-url]");
  if (dossier) {
    var statusUrl = dossier.getAttribute("data-status-url");
    var cardUrl = dossier.getAttribute("data-card-url");
    var pendingBox = dossier.querySelector("[data-pending]");

    var swapCard = function (slotId) {
      return fetch(cardUrl.replace("/0/kartu", "/" + slotId + "/kartu"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          var old = document.getElementById("slot-" + slotId);
          if (!html || !old) { return; }
          var holder = document.createElement("div");
          holder.innerHTML = html.trim();
          var fresh = holder.firstElementChild;
          fresh.classList.add("slot-updated");
          old.replaceWith(fresh);
        });
    };

    var poll = function () {
      fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) {
          data.slots.forEach(function (slot) {
            var card = document.getElementById("slot-" + slot.id);
            if (!card) { return; }
            var up = slot.upload || {};
            var changed = card.getAttribute("data-status") !== slot.status ||
              card.getAttribute("data-state") !== (up.state || "") ||
              card.getAttribute("data-upload") !== String(up.id || "");
            if (changed) {
              swapCard(slot.id);
            } else if (up.state === "running") {
              var bar = card.querySelector(".slot-progress .progress-bar");
              var label = card.querySelector("[data-progress]");
              if (bar) { bar.style.width = up.progress + "%"; }
              if (label) { label.textContent = up.progress + "%"; }
            }
          });
          if (pendingBox) {
            pendingBox.hidden = !data.pending;
            pendingBox.querySelector("[data-pending-count]").textContent = data.pending;
          }
          dossier.setAttribute("data-pending", data.pending);
          window.setTimeout(poll, data.pending ? 1500 : 15000);
        })
        .catch(function () { window.setTimeout(poll, 15000); });
    };
    window.setTimeout(poll, 1000);
  }

  // Signer's desk: select all, and a button that says how many will be signed.
  var signForm = document.querySelector("form.sign-form");
  if (signForm) {
    var boxes = signForm.querySelectorAll("input[name=agreement]:not(:disabled)");
    var all = signForm.querySelector("input[data-select-all]");
    var button = signForm.querySelector("button[data-sign]");
    var refresh = function () {
      var n = signForm.querySelectorAll("input[name=agreement]:checked").length;
      if (button) {
        button.disabled = n === 0;
        button.textContent = n > 1 ? "Tandatangani " + n + " dokumen" : n === 1 ? "Tandatangani 1 dokumen" : "Pilih dokumen";
      }
      if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
    };
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (b) { b.checked = all.checked; });
        refresh();
      });
    }
    signForm.addEventListener("change", refresh);
    refresh();
  }

  // Batch signing progress: poll the job and move the bar; list outcomes as they arrive.
  var job = document.querySelector(".batch[data-job-url]");
  if (job) {
    var jobUrl = job.getAttribute("data-job-url");
    var statusWords = { queued: "dalam antrean", started: "berjalan", finished: "selesai", failed: "gagal",
                        deferred: "menunggu", scheduled: "terjadwal", stopped: "dihentikan", canceled: "dibatalkan" };
    var render = function (data) {
      var bar = job.querySelector(".progress-bar");
      var percent = data.total ? Math.round(100 * data.done / data.total) : 0;
      bar.style.width = percent + "%";
      bar.setAttribute("aria-valuenow", data.done);
      bar.textContent = data.done + " / " + data.total;
      var status = job.querySelector("[data-job-status]");
      status.setAttribute("data-job-status", data.status);
      status.textContent = statusWords[data.status] || data.status;
      var list = job.querySelector("[data-outcomes]");
      list.innerHTML = "";
      data.outcomes.forEach(function (o) {
        var li = document.createElement("li");
        li.className = "list-group-item py-1 " + (o.ok ? "list-group-item-success" : "list-group-item-danger");
        li.textContent = (o.ok ? "✓ " : "✗ ") + o.message;
        list.appendChild(li);
      });
      if (data.finished) {
        bar.classList.remove("progress-bar-animated", "progress-bar-striped");
        bar.classList.add(data.failed_count ? "bg-warning" : "bg-success");
        job.querySelector("[data-summary]").textContent = data.summary;
        job.querySelector("[data-summary]").hidden = false;
      }
      return data.finished;
    };
    var pollJob = function () {
      fetch(jobUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (data) { if (!render(data)) { window.setTimeout(pollJob, 1000); } })
        .catch(function () { window.setTimeout(pollJob, 5000); });
    };
    if (job.getAttribute("data-finished") !== "1") { pollJob(); }
  }
  // A date typed dd-mm-yyyy is read back in words under its field before saving ("02-01-2025"
  // shows "2 Januari 2025"), so a day and month swapped are seen at once. The server's strict
  // parser still decides; this only echoes what it will store.
  var MONTHS = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus",
    "September", "Oktober", "November", "Desember"];
  var DATE_TYPED = /^(\d{2})-(\d{2})-(\d{4})(?: (\d{2})\.(\d{2}))?$/;
  document.querySelectorAll('input[placeholder^="hh-bb-tttt"]').forEach(function (input) {
    var echo = document.createElement("output");
    echo.className = "date-echo form-text";
    echo.setAttribute("aria-live", "polite");
    if (input.id) { echo.htmlFor = input.id; }
    input.insertAdjacentElement("afterend", echo);
    var update = function () {
      var text = input.value.trim();
      var m = DATE_TYPED.exec(text);
      echo.classList.remove("text-danger");
      if (!text) { echo.textContent = ""; return; }
      if (!m) {
        echo.textContent = "Tulis sebagai " + input.getAttribute("placeholder") + ", mis. 02-01-2025.";
        echo.classList.add("text-danger");
        return;
      }
      var day = +m[1], month = +m[2], year = +m[3];
      var date = new Date(Date.UTC(year, month - 1, day));
      var real = date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
      if (!real || (m[4] && (+m[4] > 23 || +m[5] > 59))) {
        echo.textContent = "Tanggal atau jam ini tidak ada di kalender.";
        echo.classList.add("text-danger");
        return;
      }
      echo.textContent = "Dibaca: " + day + " " + MONTHS[month - 1] + " " + year + (m[4] ? " pukul " + m[4] + "." + m[5] : "");
    };
    input.addEventListener("input", update);
    update();
  });
})();
