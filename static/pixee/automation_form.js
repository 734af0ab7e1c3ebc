/* The automation form: preview the cron schedule as it is typed (in words, next runs, or what is
   wrong with it), and show only the fields the chosen source type uses. Without JavaScript the
   form still works: every field shows, and the schedule is checked when it is saved. */
(function () {
  "use strict";

  const DEBOUNCE_MS = 250;

  function schedulePreview() {
    const input = document.getElementById("id_schedule");
    const zone = document.getElementById("id_timezone");
    if (!input || !zone || !input.dataset.previewUrl) return;
    const out = document.createElement("div");
    out.className = "help pixee-schedule-preview";
    out.id = "id_schedule_preview";
    out.setAttribute("aria-live", "polite");
    const help = document.getElementById("id_schedule_helptext");
    (help || input).insertAdjacentElement("afterend", out);

    // After a refused save the server's message is already there: the preview takes over once
    // the schedule is edited (the server's message is then about a value no longer in the box).
    const serverErrors = input.closest(".form-row").querySelector(".errorlist");
    let timer = null;
    let asked = 0;
    function show(data, ok) {
      out.replaceChildren();
      out.classList.toggle("pixee-schedule-preview--error", !ok);
      if (!ok) {
        out.textContent = data.error || "This schedule cannot be checked right now.";
        return;
      }
      const words = document.createElement("strong");
      words.textContent = data.description;
      out.append(words, " — next: " + data.next_runs.join(", "));
    }
    function update() {
      const schedule = input.value.trim();
      if (!schedule) {
        out.replaceChildren();
        return;
      }
      const ticket = ++asked;
      const url = input.dataset.previewUrl + "?" + new URLSearchParams({ schedule: schedule, timezone: zone.value });
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().then(function (data) { return [data, response.ok]; });
        })
        .then(function (result) {
          if (ticket === asked) show(result[0], result[1]); // a slower, older answer must not win
        })
        .catch(function () { /* the save still checks the schedule */ });
    }
    function edited() {
      if (serverErrors) serverErrors.hidden = true;
    }
    input.addEventListener("input", function () {
      edited();
      clearTimeout(timer);
      timer = setTimeout(update, DEBOUNCE_MS);
    });
    zone.addEventListener("change", function () {
      edited();
      update();
    });
    if (!serverErrors) update();
  }

  function sourceFields() {
    const select = document.getElementById("id_source_type");
    if (!select || !select.dataset.sourceFields) return;
    const byType = JSON.parse(select.dataset.sourceFields);
    const all = new Set(Object.values(byType).flat());
    function rowOf(name) {
      return document.querySelector(".form-row.field-" + name);
    }
    function apply() {
      const used = new Set(byType[select.value] || Array.from(all));
      all.forEach(function (name) {
        const row = rowOf(name);
        if (row) row.hidden = !used.has(name);
      });
    }
    select.addEventListener("change", apply);
    apply();
  }

  // "Test connection": the source as the form stands (saved or not) is tried by the server, which
  // connects, logs in and looks for the file, importing nothing.
  function testConnection() {
    const select = document.getElementById("id_source_type");
    if (!select || !select.dataset.testUrl) return;
    const fieldset = select.closest("fieldset");
    const row = document.createElement("div");
    row.className = "form-row pixee-test-connection";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "pixee-button pixee-button--secondary";
    button.id = "pixee-test-connection";
    button.textContent = "Test connection";
    const out = document.createElement("span");
    out.className = "pixee-test-result";
    out.id = "pixee-test-result";
    out.setAttribute("aria-live", "polite");
    row.append(button, " ", out);
    fieldset.append(row);
    button.addEventListener("click", function () {
      const data = new FormData(select.form);
      if (select.dataset.automation) data.set("automation", select.dataset.automation);
      button.disabled = true;
      out.className = "pixee-test-result";
      out.textContent = "Testing…";
      fetch(select.dataset.testUrl, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.json(); })
        .then(function (result) {
          out.classList.add(result.ok ? "pixee-test-result--ok" : "pixee-test-result--error");
          out.textContent = result.summary || result.error || "The test failed.";
        })
        .catch(function () {
          out.classList.add("pixee-test-result--error");
          out.textContent = "The test could not be run; try again.";
        })
        .finally(function () { button.disabled = false; });
    });
  }

  function start() {
    schedulePreview();
    sourceFields();
    testConnection();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
