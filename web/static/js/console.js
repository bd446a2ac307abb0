// Small helpers every page shares: confirmation of destructive buttons and JSON calls that carry the CSRF token.
(function (global) {
  "use strict";

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  async function request(method, url, body) {
    const headers = {"Accept": "application/json", "X-CSRFToken": csrfToken()};
    let payload;
    if (body instanceof FormData) {
      payload = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const r = await fetch(url, {method, headers, body: payload, credentials: "same-origin"});
    if (r.status === 401) {
      global.location.assign("/login?next=" + encodeURIComponent(global.location.pathname));
      throw new Error("signed out");
    }
    let data = {};
    try { data = await r.json(); } catch (e) { data = {}; }
    if (!r.ok) {
      const err = new Error(data.error || `request failed (${r.status})`);
      err.status = r.status;
      err.data = data;
      throw err;
    }
    return data;
  }

  document.addEventListener("click", (ev) => {
    const btn = ev.target.closest("[data-confirm]");
    if (btn && !global.confirm(btn.dataset.confirm)) ev.preventDefault();
  });

  function text(el, value) {
    if (el && el.textContent !== String(value)) el.textContent = value;
  }

  global.Console = {
    csrfToken, text,
    getJSON: (url) => request("GET", url),
    postJSON: (url, body) => request("POST", url, body === undefined ? {} : body),
  };
})(window);
