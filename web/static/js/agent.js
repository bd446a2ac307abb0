// The agent's seat: tick the state and wrap timers, poll the seat's state and reload when a call pops or ends,
// and (with Twilio configured) keep the browser phone joined to the agent's conference while logged in.
(function () {
  "use strict";
  const seat = document.getElementById("seat");
  if (!seat) return;
  const every = Number(seat.dataset.poll || 2) * 1000;
  // the server's clock may differ from the browser's and, in the demo, run faster: count from the server's "now"
  // at the clock's speed
  const loaded = Date.now();
  const serverNow = Date.parse(seat.dataset.now || new Date().toISOString());
  const speed = Number(seat.dataset.speed || 1) || 1;
  const since = seat.dataset.since ? Date.parse(seat.dataset.since) : null;
  const timers = [document.getElementById("state-timer"), document.getElementById("wrap-timer")].filter(Boolean);

  function fmt(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;  // h:mm:ss, as web.filters.duration
  }

  // the campaign's wrap-up limit counts down on the seat (the worker moves the seat when it runs out)
  const left = document.getElementById("wrap-left");
  const limit = left ? Number(document.getElementById("wrap-limit").dataset.limit) : null;

  function tick() {
    if (since === null) return;
    const elapsed = (serverNow + (Date.now() - loaded) * speed - since) / 1000;
    const text = fmt(elapsed);
    timers.forEach((t) => window.Console.text(t, text));
    if (left) window.Console.text(left, fmt(Math.ceil(Math.max(0, limit - elapsed))));
  }
  tick();
  setInterval(tick, 1000);

  // The notes typed for a call are a draft until the disposition is saved: kept in this tab's sessionStorage, keyed
  // by the call's id, so they survive the page's own reloads (the customer hangs up, a call pops) and an accidental
  // one. Why the browser and not the server: a draft is not a record (no half-written notes in the lead's history,
  // the reports or the audit, no database write per keystroke beside the dial loop), and sessionStorage, unlike
  // localStorage, goes with the tab, so a shared desk keeps no customer's words once it is closed. Why keyed by
  // call: a draft is restored only into the form of its own call (each notes field names it: data-draft), so
  // nothing reaches the next customer's form. The seat names the calls still waiting for a disposition
  // (data-drafts: its own call and those the wrap-up limit moved it on from, web.agent_unfinished); every other
  // draft is dropped on each load. The cost, accepted: a closed tab or another computer starts empty.
  const DRAFT = "opendialer.notes.";
  const open = new Set((seat.dataset.drafts || "").split(" ").filter(Boolean).map((id) => DRAFT + id));
  try {
    for (let i = sessionStorage.length - 1; i >= 0; i--) {
      const key = sessionStorage.key(i);
      if (key && key.startsWith(DRAFT) && !open.has(key)) sessionStorage.removeItem(key);
    }
    document.querySelectorAll("textarea[data-draft]").forEach((notes) => {
      const draftKey = DRAFT + notes.dataset.draft;
      const kept = sessionStorage.getItem(draftKey);
      if (kept !== null && !notes.value) notes.value = kept;  // a form sent back with errors keeps its own text
      const keep = () => {
        if (notes.value) sessionStorage.setItem(draftKey, notes.value); else sessionStorage.removeItem(draftKey);
      };
      notes.addEventListener("input", keep);
      keep();
    });
  } catch (e) {
    // storage refused (private mode, quota): the notes stay in the page as before
  }

  // Leaving the page while ready (or on a call) would leave the seat counted as able to answer: warn first. The
  // page's own reloads and form posts are not "leaving".
  let ownNavigation = false;
  document.addEventListener("submit", () => { ownNavigation = true; });
  window.addEventListener("beforeunload", (ev) => {
    if (ownNavigation || !["ready", "talking"].includes(seat.dataset.state)) return;
    ev.preventDefault();
    ev.returnValue = "You are still ready for calls. Pause or log out before leaving.";
  });

  async function poll() {
    try {
      const s = await window.Console.getJSON(seat.dataset.stateUrl);
      const call = s.call_id === null || s.call_id === undefined ? "" : String(s.call_id);
      const consulting = s.consulting ? "1" : "";
      if (s.state !== seat.dataset.state || call !== seat.dataset.call || consulting !== seat.dataset.consulting) {
        // keep what the agent typed in an open disposition form: reload only when nothing is being written
        const typing = document.activeElement && ["TEXTAREA", "INPUT"].includes(document.activeElement.tagName)
          && seat.dataset.state === "wrap" && s.state === "wrap";
        if (!typing) { ownNavigation = true; window.location.reload(); return; }
      }
    } catch (e) {
      // a dropped poll is retried; the page stays as it is
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);

  // "Then" chosen during the call is told to the dialer at once: a seat that pauses or logs out after this call is
  // not coming free, and counted as if it were, the calls dialed for it are answered with nobody there
  const shownCall = document.querySelector('#disposition input[name="call"]');
  const thenField = document.querySelector("#disposition #then");
  const reasonField = document.querySelector("#disposition #pause_reason");
  const afterStatus = document.getElementById("after-call-status");
  const tellButton = document.getElementById("after-call-tell");
  if (thenField && reasonField) {  // a reason only for a pause (without script the form shows both)
    const reasonBox = reasonField.closest(".field") || reasonField;
    const showReason = () => { reasonBox.hidden = thenField.value !== "pause"; };
    thenField.addEventListener("change", showReason);
    showReason();
  }
  if (thenField && shownCall && ["talking", "wrap"].includes(seat.dataset.state)) {
    if (tellButton) tellButton.hidden = true;  // told on every change instead
    const tell = async () => {
      const body = new FormData();
      body.append("call", shownCall.value);
      body.append("then", thenField.value);
      body.append("pause_reason", reasonField ? reasonField.value : "");
      try {
        const r = await window.Console.postJSON(seat.dataset.afterCallUrl, body);
        window.Console.text(afterStatus, r.message);
      } catch (e) {
        window.Console.text(afterStatus, e.message);
        if (tellButton) tellButton.hidden = false;
      }
    };
    thenField.addEventListener("change", tell);
    if (reasonField) reasonField.addEventListener("change", () => { if (thenField.value === "pause") tell(); });
  }

  if (seat.dataset.phone && window.AgentPhone && seat.dataset.state !== "offline") {
    const chip = document.getElementById("phone-chip");
    const show = (state, err) => {
      chip.textContent = `phone: ${state}`;
      chip.className = "badge " + ({connected: "ok", connecting: "warn", error: "bad"}[state] || "offline");
      if (err) chip.title = String(err.message || err);
    };
    window.AgentPhone.start({onState: show}).catch((err) => show("error", err));
  }
})();
