// The agent's seat: tick the state and wrap timers, poll the seat's state and reload when a call pops or ends,
// and (with Twilio configured) keep the browser phone joined to the agent's conference while logged in.
(function () {
  "use strict";
  const seat = document.getElementById("seat");
  if (!seat) return;
  const every = Number(seat.dataset.poll || 2) * 1000;
  // the server's clock may differ from the browser's: count from the server's "now"
  const skew = Date.now() - Date.parse(seat.dataset.now || new Date().toISOString());
  const since = seat.dataset.since ? Date.parse(seat.dataset.since) : null;
  const timers = [document.getElementById("state-timer"), document.getElementById("wrap-timer")].filter(Boolean);

  function fmt(s) {
    s = Math.max(0, Math.floor(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? `${h}:` : "") + `${mm}:${String(r).padStart(2, "0")}`;
  }

  function tick() {
    if (since === null) return;
    const text = fmt((Date.now() - skew - since) / 1000);
    timers.forEach((t) => window.Console.text(t, text));
  }
  tick();
  setInterval(tick, 1000);

  async function poll() {
    try {
      const s = await window.Console.getJSON(seat.dataset.stateUrl);
      const call = s.call_id === null || s.call_id === undefined ? "" : String(s.call_id);
      if (s.state !== seat.dataset.state || call !== seat.dataset.call) {
        // keep what the agent typed in an open disposition form: reload only when nothing is being written
        const typing = document.activeElement && ["TEXTAREA", "INPUT"].includes(document.activeElement.tagName)
          && seat.dataset.state === "wrap" && s.state === "wrap";
        if (!typing) { window.location.reload(); return; }
      }
    } catch (e) {
      // a dropped poll is retried; the page stays as it is
    }
    setTimeout(poll, every);
  }
  setTimeout(poll, every);

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
