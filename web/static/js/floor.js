// The live floor: poll the campaign's JSON every few seconds and update the figures, agents and the pacer's
// explanation in place (text only: nothing from the server is inserted as HTML).
(function () {
  "use strict";
  const root = document.getElementById("floor");
  if (!root) return;
  const every = Number(root.dataset.poll || 3) * 1000;
  const DASH = "—";

  const pct = (v) => (v === null || v === undefined ? DASH : `${(v * 100).toFixed(1)} %`);
  const num = (v, d = 0) => (v === null || v === undefined ? DASH : Number(v).toLocaleString(undefined,
    {minimumFractionDigits: d, maximumFractionDigits: d}));
  function dur(s) {
    if (s === null || s === undefined) return DASH;
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;  // h:mm:ss, as web.filters.duration
  }
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function tile(key, text) {
    const t = root.querySelector(`[data-k="${key}"] [data-value]`);
    if (t) window.Console.text(t, text);
  }

  // colours come from the server (campaigns.alerts.levels): one rule for the floor, compliance and the alerts
  function renderGuard(g) {
    const level = root.querySelector('[data-k="guard.level"]');
    level.className = `tile ${g.tone || ""}`;
    tile("guard.level", g.level_text);
    window.Console.text(level.querySelector('[data-f="checked"]'), g.checked_text ? `${g.checked_text} · ` : "");
    window.Console.text(level.querySelector('[data-f="fallback"]'), g.fallback ? ` · ${g.fallback}` : "");
    root.querySelector('[data-k="guard.missed_callbacks"]').className = `tile ${g.missed_callbacks ? "bad" : "ok"}`;
    tile("guard.missed_callbacks", num(g.missed_callbacks));
  }

  function render(f) {
    const s = f.by_state;
    tile("agents_taking", num(s.ready + s.talking + s.wrap));
    const def = root.querySelector('[data-k="agents_taking"] .def');
    window.Console.text(def, `ready ${s.ready} · talking ${s.talking} · wrap ${s.wrap} · paused ${s.paused}`);
    tile("ringing", num(f.ringing));
    tile("waiting", num(f.waiting));
    tile("dial_level", num(f.dial_level, 2));
    tile("calls_per_ready_agent", num(f.calls_per_ready_agent, 2));
    tile("today.dials", num(f.today.dials));
    tile("today.hit_rate", pct(f.today.hit_rate));
    tile("today.abandon_rate", pct(f.today.abandon_rate));
    tile("today.first_call_close", pct(f.today.first_call_close));
    tile("today.abandon_rate_30d", pct(f.today.abandon_rate_30d));
    const box = root.querySelector('[data-k="today.abandon_rate_30d"]');
    box.className = `tile ${f.abandon_30d.tone}`;
    window.Console.text(box.querySelector('[data-f="abandon_counts"]'),
      `${num(f.today.abandoned_30d)} of ${num(f.today.live_answers_30d)} live answers`);
    window.Console.text(root.querySelector('[data-f="status"]'), f.campaign.status);

    const agents = document.getElementById("agents");
    const on = f.agents.filter((a) => a.state !== "offline");
    agents.replaceChildren(...(on.length ? on.map((a) => {
      const card = el("div", `agent-card ${a.state}`);
      card.append(el("div", "name", a.name));
      const chip = el("div");
      chip.append(el("span", `badge ${a.state}`, a.reason ? `${a.state}: ${a.reason}` : a.state));
      card.append(chip, el("div", "since", dur(a.seconds) + (a.phone ? ` · ${a.phone}` : "")));
      if (a.after_call) card.append(el("div", "since after-call", `then ${a.after_call}`));
      if (!a.simulated) {  // a person who left without signing out: the manager takes the seat off the floor
        const off = el("button", "button small secondary", "Take offline");
        off.type = "button";
        off.dataset.agent = a.name;
        off.addEventListener("click", async () => {
          if (!window.confirm(`Take ${a.name} off the floor? A call in progress is hung up.`)) return;
          off.disabled = true;
          try {
            await window.Console.postJSON(`/floor/${f.campaign.id}/agents/${a.id}/offline`);
          } catch (e) {
            off.disabled = false;
            window.alert(e.message);
          }
        });
        card.append(off);
      }
      return card;
    }) : [el("p", "muted", "No agent is logged in.")]));

    const warn = document.getElementById("warnings");
    warn.replaceChildren(...f.warnings.map((w) => {
      const box = el("div", "flash warning", w.charAt(0).toUpperCase() + w.slice(1));
      if (w.includes("missed callback")) {
        const a = el("a", "", "Open the callback queue");
        a.href = f.guard.callbacks_url;
        box.append(" ", a);
      }
      return box;
    }));
    renderGuard(f.guard);

    const pacing = document.getElementById("pacing");
    if (f.pacing.length) {
      const d = f.decision || {};
      const lead = el("p", "explain", f.sentence);
      const details = el("details");
      details.open = Boolean(pacing.querySelector("details[open]"));  // a re-render keeps it as the user left it
      details.append(el("summary", "", "The pacer's inputs"), el("p", "muted small",
        `Last turn ${f.pacing_at_text}: asked for ${d.planned}, allowed ${d.allowed}, placed ${d.placed}` +
        `${f.capped_text}.`));
      const dl = el("dl", "facts");
      f.pacing.forEach((x) => dl.append(el("dt", "", x.label), el("dd", "", x.text)));  // worded by the server
      details.append(dl);
      pacing.replaceChildren(lead, details);
    } else {  // no decision yet: the server says why in words (not started, paused, the worker not there yet)
      pacing.replaceChildren(el("p", "muted", f.sentence));
    }
    window.Console.text(document.getElementById("updated"), `updated ${f.at_text}`);
  }

  const funnelBox = document.getElementById("funnel");
  const funnelEvery = Number((funnelBox && funnelBox.dataset.poll) || 15) * 1000;
  const TONES = {final: "offline", dialing: "talking", blocked: "warn", dialable: "ok"};
  function renderFunnel(f) {
    const runway = f.runway.charAt(0).toUpperCase() + f.runway.slice(1) + ".";
    window.Console.text(funnelBox.querySelector('[data-f="runway"]'), runway);
    window.Console.text(funnelBox.querySelector('[data-f="equation"]'),
      `${num(f.total)} leads = ${num(f.final_total)} final + ${num(f.dialing)} on a call + ` +
      `${num(f.blocked_total)} blocked + ${num(f.dialable)} dialable now`);
    document.getElementById("funnel-rows").replaceChildren(...f.rows.map((r) => {
      const tr = el("tr"), label = el("td"), bar = el("td", "bar"), p = el("progress");
      label.append(el("span", `badge ${TONES[r.group]}`, r.group), document.createTextNode(` ${r.label}`));
      p.max = f.total || 1;
      p.value = r.leads;
      p.textContent = String(r.leads);
      bar.append(p);
      tr.append(label, el("td", "num", num(r.leads)), bar);
      return tr;
    }));
    const windows = document.getElementById("funnel-windows");
    if (!f.windows.length) { windows.replaceChildren(); } else {
      const ul = el("ul");
      f.window_texts.forEach((text) => ul.append(el("li", "", text)));  // worded, in the campaign's zone, by the server
      windows.replaceChildren(el("h3", "", "When the closed calling windows open"), ul);
    }
    // the runway heads the panel: not again among the notes beneath it
    document.getElementById("funnel-notes").replaceChildren(
      ...f.notes.filter((n) => n !== f.runway).map((n) => el("p", "muted small", n)));
  }
  async function pollFunnel() {
    let f = null;
    try { f = await window.Console.getJSON(funnelBox.dataset.url); } catch (e) { /* unreachable: next time */ }
    if (f) renderFunnel(f);
    setTimeout(pollFunnel, funnelEvery);
  }
  if (funnelBox) setTimeout(pollFunnel, funnelEvery);

  const dot = document.getElementById("live-dot");
  async function poll() {
    let f = null;
    try {
      f = await window.Console.getJSON(root.dataset.url);
      dot.classList.remove("stale");
    } catch (e) {
      dot.classList.add("stale");  // the server did not answer: show it, try again
    }
    if (f) render(f);
    setTimeout(poll, every);
  }
  setTimeout(poll, every);
})();
