// List upload: send the file with XHR so the page can show upload progress, then poll the import's progress.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  if (form) {
    const bar = document.getElementById("upload-bar");
    const pct = document.getElementById("upload-pct");
    const label = document.getElementById("upload-label");
    const box = document.getElementById("upload-progress");
    const errorBox = document.getElementById("upload-error");
    const submit = document.getElementById("upload-submit");
    const limit = Number(form.dataset.limit || 0);

    // What the server said about the field before (a first try without a file: "Choose a file to upload.") no longer
    // applies once a file is sent: it goes, so the page says one thing, this upload's.
    function clearStale() {
      const stale = document.getElementById("file-error");
      if (stale) stale.remove();
      const input = form.querySelector('input[type="file"]');
      const said = (input.getAttribute("aria-describedby") || "").replace("file-error", "upload-error").trim();
      if (said) input.setAttribute("aria-describedby", said);
    }

    function fail(message) {
      clearStale();
      errorBox.textContent = message;
      errorBox.classList.remove("hidden");
      box.classList.add("hidden");
      submit.disabled = false;
    }

    form.addEventListener("submit", (ev) => {
      const input = form.querySelector('input[type="file"]');
      if (!input.files.length) return;  // let the server say what is missing, next to the field
      ev.preventDefault();
      const file = input.files[0];
      if (limit && file.size > limit) {
        fail(`This file is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${Math.floor(limit / 1048576)} MB.`);
        return;
      }
      clearStale();
      errorBox.classList.add("hidden");
      box.classList.remove("hidden");
      submit.disabled = true;
      const xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const p = Math.round((e.loaded / e.total) * 100);
        bar.value = p;
        pct.textContent = `${p} %`;
        if (p === 100) label.textContent = "Reading the columns…";
      });
      xhr.addEventListener("load", () => {
        let data = {};
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = {}; }
        if (xhr.status >= 200 && xhr.status < 300 && data.next) {
          window.location.assign(data.next);
        } else {
          fail(data.error || `The upload failed (${xhr.status}).`);
        }
      });
      xhr.addEventListener("error", () => fail("The upload was interrupted. Check the connection and try again."));
      xhr.send(new FormData(form));
    });
  }

  const job = document.getElementById("import");
  if (job) {
    const bar = document.getElementById("import-bar");
    const rows = document.getElementById("import-rows");
    const label = document.getElementById("import-label");
    const errorBox = document.getElementById("import-error");
    const every = Number(job.dataset.poll || 1) * 1000;

    async function poll() {
      let s;
      try {
        s = await window.Console.getJSON(job.dataset.statusUrl);
      } catch (e) {
        label.textContent = "Waiting for the server…";
        setTimeout(poll, every * 2);
        return;
      }
      bar.max = s.total_bytes || 1;
      bar.value = s.bytes_done || 0;
      rows.textContent = `${(s.rows || 0).toLocaleString()} rows`;
      if (s.state === "done") {
        label.textContent = "Done";
        bar.value = bar.max;
        window.location.assign(s.list_url);
      } else if (s.state === "failed") {
        label.textContent = "Failed: nothing was imported";
        errorBox.textContent = s.error;
        errorBox.classList.remove("hidden");
        const a = document.createElement("a");
        a.href = s.mapping_url;
        a.textContent = " Back to the columns";
        errorBox.appendChild(a);
      } else {
        setTimeout(poll, every);
      }
    }
    if (!job.querySelector("a.btn")) poll();
  }
})();
