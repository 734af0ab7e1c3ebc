/* Import jobs in the admin: keep status, progress and counters fresh while a job runs. */
(function () {
  "use strict";

  const POLL_MS = 1500;
  const MAX_FAILURES = 5;
  const COUNTERS = ["total_rows", "processed_rows", "products_created", "products_updated", "products_unchanged", "failed_rows"];

  // Grouped like the server renders them ("250,000" in English).
  function formatCount(value) {
    return value === null ? "—" : Number(value).toLocaleString(document.documentElement.lang || undefined);
  }

  function setStatus(el, job) {
    el.className = el.className.replace(/pixee-badge--\w+/, "pixee-badge--" + job.status);
    el.dataset.status = job.status;
    el.textContent = job.status_label;
  }

  function setProgress(el, job) {
    const bar = el.querySelector(".pixee-progress__bar");
    bar.style.width = job.progress + "%";
    bar.className = bar.className.replace(/pixee-progress__bar--\w+/, "pixee-progress__bar--" + job.status);
    el.querySelector(".pixee-progress__label").textContent = job.progress + "%";
    el.setAttribute("aria-valuenow", job.progress);
  }

  function render(job) {
    document.querySelectorAll('[data-job="' + job.id + '"]').forEach(function (el) {
      const field = el.dataset.field;
      if (field === "status") setStatus(el, job);
      else if (field === "progress") setProgress(el, job);
      else if (COUNTERS.includes(field)) el.textContent = formatCount(job[field]);
    });
  }

  // Poll one job until it stops running; onChange gets the job when its status changes.
  function watch(url, status, onChange) {
    let failures = 0;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (job) {
          failures = 0;
          render(job);
          if (job.status !== status) onChange(job);
          if (job.running) setTimeout(tick, POLL_MS);
        })
        .catch(function () {
          // A lost session or a restarting server: retry a few times, then leave the page as it is.
          if (++failures < MAX_FAILURES) setTimeout(tick, POLL_MS * 2);
        });
    }
    setTimeout(tick, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const page = document.getElementById("pixee-job");
    if (page) {
      // The job page: when the status changes, reload it so preview, logs and buttons follow.
      if (page.hasAttribute("data-live")) {
        watch(page.dataset.statusUrl, page.dataset.status, function () { window.location.reload(); });
      }
    } else {
      // The list: update each running job's row in place.
      document.querySelectorAll('.pixee-badge[data-field="status"]').forEach(function (badge) {
        if (["pending", "analyzing", "processing"].includes(badge.dataset.status)) {
          watch(badge.dataset.statusUrl, badge.dataset.status, function () {});
        }
      });
    }

    document.querySelectorAll("button[data-confirm]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (!window.confirm(button.dataset.confirm)) event.preventDefault();
      });
    });
  });
})();
