"""``dialer bench twilio``: sustained calls per second through the whole live path, offline.

The real dial loop, pre-dial gate, callback pump and adapter (real twilio library) against the fake Twilio server
in its own process (``dialer twilio fake-server``), whose signed webhooks go to the webhook process
(``python -m web.twilio.serve``) over real HTTP: three processes, as in production. ``--agents`` simulated agents
answer on phones the worker rings into their conferences, then disposition each call after a short wrap. The
campaign dials in power mode so demand always exceeds the account's CPS: the token bucket is what holds the rate.

It reports what the issue asks: calls per second offered to "Twilio" in every one-second window (never above the
limit), callbacks sent by the fake against callbacks stored and delivered (none lost), and the answer-to-agent
delay of every connected call. Everything runs on one clock anchored at a Tuesday 10:00 in New York, so the
calling window is open whenever the bench runs (the gate is the real one, with a generated registry).
"""

from __future__ import annotations

import json
import math
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import requests
from sqlalchemy import func, insert, select

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead, LeadList
from dialer.bench.console_agents import WRAP_S, SimulatedAgents
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.carriers.twilio.fake.cps import max_calls_in_window, max_queue_s
from dialer.clock import ScaledClock
from dialer.schema.migrate import upgrade
from dnc import settings

ANCHOR = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # Tuesday 10:00 in New York
ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "bench-" + "t" * 26
CALLER_ID = "+12125550100"
# who answers: shares of dials (docs/pacing.md's base column, with a little fax/unknown) and how long things take
MIX = [
    (CallScript(answer="human", ring_s=1.0, amd_s=1.5, talk_s=4.0, patience_s=8), 0.12),
    (CallScript(answer="human", ring_s=2.5, amd_s=2.0, talk_s=9.0, patience_s=8), 0.12),
    (CallScript(answer="unknown", ring_s=1.5, amd_s=3.0, talk_s=6.0, patience_s=8), 0.03),
    (CallScript(answer="machine", ring_s=2.0, amd_s=2.5, talk_s=20.0, patience_s=8), 0.20),
    (CallScript(answer="no-answer", ring_s=6.0), 0.30),
    (CallScript(answer="busy", ring_s=1.0), 0.10),
    (CallScript(answer="failed", ring_s=0.3), 0.13),
]
AGENT_LEG = CallScript(answer="human", ring_s=0.2, talk_s=86_400)
START_GRACE_S = 60.0  # the longest the dialing's clock waits for the worker's first call
BUSY_SHARE = 0.4  # the share of its time the default floor spends with a customer at the account's CPS


def agent_seconds_per_dial() -> float:
    """What one dial costs the floor in agent time on average, from ``MIX``: a live (or unknown) answer is talked to
    and wrapped up; a machine sits with an agent until its asynchronous AMD verdict pulls it off."""
    wrap = sum(WRAP_S) / 2
    return sum(w * (sc.talk_s + wrap if sc.answer in ("human", "unknown") else sc.amd_s if sc.answer == "machine"
                    else 0.0) for sc, w in MIX)


def agents_for(cps: float) -> int:
    """The default floor: enough agents that the account's CPS, not the people, limits the dialing. At ``cps`` the
    answers keep ``cps x agent_seconds_per_dial()`` agents busy (about 56 at 20 calls/s); a floor busy only
    ``BUSY_SHARE`` of the time always has agents ready, so power mode keeps asking for more than the CPS allows and
    an answer rarely waits for someone to come free. (With fewer agents the pacer rightly dials less: 50 agents take
    about 14 calls/s of this mix, which is what the bench then measures.)"""
    return max(5, math.ceil(cps * agent_seconds_per_dial() / BUSY_SHARE))


@dataclass
class BenchSetup:
    campaign_id: int
    leads: int
    agents: list[int]
    since: datetime  # the bench's own calls are placed from here on; the seeded history is older
    callbacks_before: int = 0  # callbacks already stored (a database that is not empty): not the bench's


def agent_phone(i: int) -> str:
    return f"+1646555{i:04d}"


def setup(sessions, now: datetime, leads: int, agents: int) -> BenchSetup:
    """A power-mode campaign with ``leads`` leads and ``agents`` phone agents, all ready."""
    with session_scope(sessions) as s:
        c = create_campaign(s, f"bench-twilio-{now:%H%M%S%f}", CALLER_ID, now,
                            CampaignSettings(seller_name="Bench Sales", pacing_mode="power"))
        c.status, c.power_ratio, c.abandon_target = "active", 6.0, 0.03
        # a campaign in its stride, with abandons to spare: power is held to the 30-day abandon budget, and a
        # fresh campaign has none (it would dial one call per ready agent, never the account's CPS)
        yesterday = now - timedelta(days=1)
        s.execute(insert(Call), [{"campaign_id": c.id, "phone": f"+1313555{i % 10_000:04d}", "placed_at": yesterday,
                                  "answered_at": yesterday, "answered_by": "human", "connected_at": yesterday,
                                  "ended_at": yesterday, "outcome": "completed", "status": "completed"}
                                 for i in range(max(300, 40 * agents))])
        lst = LeadList(campaign_id=c.id, name="bench", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        rows = [{"campaign_id": c.id, "list_id": lst.id, "phone": _number(i), "custom": {}, "created_at": now,
                 "updated_at": now} for i in range(leads)]
        for k in range(0, len(rows), 5000):
            s.execute(insert(Lead), rows[k:k + 5000])
        ids = []
        for i in range(agents):
            a = agent_svc.create_agent(s, f"bench-{c.id}-{i:03d}", now, campaign=c, simulated=True)
            agent_lines.set_phone(s, a.id, agent_phone(i), now)
            agent_svc.go_ready(s, a.id, now)
            ids.append(a.id)
        before = sum(inbox.counts(s, "twilio").values())
        return BenchSetup(c.id, leads, ids, now, before)


def _number(i: int) -> str:
    return f"+1212{200 + i // 10_000:03d}{i % 10_000:04d}"


def _registry(sessions, dnc_dir: Path, now: datetime) -> None:
    from dnc.registry import Store, generate, load_full

    path = generate(dnc_dir.parent / "bench-registry.txt", 2_000, area_codes=["212", "646"], seed=9).path
    with session_scope(sessions) as s:
        load_full(s, Store(dnc_dir), [path], version_date=now.date(), loaded_by="bench", now=now,
                  area_codes="212,646")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], environ: dict, log: Path, ready: str) -> subprocess.Popen:
    """A child process, started and waited for until it prints ``ready`` (its errors go to ``log``)."""
    with open(log, "w") as err:
        proc = subprocess.Popen(args, env=settings.child_environ(**environ), stdout=subprocess.PIPE, stderr=err,
                                text=True)
    line = proc.stdout.readline().strip()
    if ready not in line:
        proc.kill()
        raise RuntimeError(f"{' '.join(args[:4])} did not start: {line!r} {log.read_text()[-2000:]}")
    return proc


def clock_settings(clock: ScaledClock) -> dict[str, str]:
    """The settings that make another process read ``clock`` (our processes share one calendar)."""
    return {"DIALER_CLOCK_ANCHOR": clock.anchor.isoformat(), "DIALER_CLOCK_START": clock.start.isoformat(),
            "DIALER_CLOCK_SPEED": repr(clock.speed)}


def _fake_process(tmp: Path, environ: dict, clock: ScaledClock, agents: int, seed: int,
                  conditions: dict) -> tuple[subprocess.Popen, str]:
    """``dialer twilio fake-server`` in its own process, as Twilio is to a worker: the mix of answers for every
    customer number, agents' phones that answer and stay."""
    scripts = {"default": asdict(MIX[0][0]), "mix": [asdict(sc) | {"weight": w} for sc, w in MIX]}
    scripts |= {agent_phone(i): asdict(AGENT_LEG) for i in range(agents)}
    path = tmp / "scripts.json"
    path.write_text(json.dumps(scripts))
    port = _free_port()
    proc = _spawn([sys.executable, "-c", "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))",
                   "twilio", "fake-server", "--port", str(port), "--scripts", str(path), "--seed", str(seed),
                   "--workers", "32", *_condition_args(conditions)],
                  environ | clock_settings(clock), tmp / "fake.log", "fake Twilio listening")
    return proc, f"http://127.0.0.1:{port}"


def _condition_args(conditions: dict) -> list[str]:
    """``create_latency_ms=250`` -> ``--create-latency-ms 250`` (the fake server's options)."""
    return [a for k, v in conditions.items() for a in (f"--{k.replace('_', '-')}", repr(float(v)))]


def _webhook_process(url: str, environ: dict, clock: ScaledClock, log: Path) -> tuple[subprocess.Popen, str]:
    """``dialer serve webhooks`` (gunicorn) on a port chosen first, so its public URL (what the fake signs) is
    known."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _spawn([sys.executable, "-m", "dialer", "serve", "webhooks", "--bind", f"127.0.0.1:{port}", "--workers",
                   "2", "--no-access-log"],
                  environ | clock_settings(clock) | {"DIALER_PUBLIC_BASE_URL": base, "DIALER_DATABASE_URL": url},
                  log, "listening on")
    return proc, base


class FakeView:
    """The fake server's figures, read over HTTP (``GET /_fake/stats``)."""

    def __init__(self, api_base: str) -> None:
        self.url = f"{api_base}/_fake/stats"
        self.session = requests.Session()
        self.session.trust_env = False

    def stats(self) -> dict:
        r = self.session.get(self.url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=30)
        r.raise_for_status()
        return r.json()


def run(url: str | None, cps: float, seconds: float, agents: int | None = None,
        progress: Callable[[str], None] | None = None, seed: int = 1, conditions: dict | None = None) -> dict:
    """Dial at ``cps`` for ``seconds`` with ``agents`` agents (None: ``agents_for(cps)``); drain; return the figures.
    ``conditions``: the fake's ``Conditions`` (create latency and jitter, 429/5xx shares, late callbacks). Every
    thread of the worker and of the simulated agents has ended when it returns."""
    conditions = dict(conditions or {})
    agents = agents or agents_for(cps)
    from dialer.carriers.twilio.worker import build_worker, serve

    say = progress or (lambda msg: None)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="dialer-bench-twilio-") as tmp_dir, \
            settings.overridden(DIALER_DNC_DIR=str(Path(tmp_dir) / "dnc")):  # never the installation's registry
        tmp = Path(tmp_dir)
        url = url or f"sqlite:///{tmp / 'bench.sqlite3'}"
        engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=10, max_overflow=10)
        upgrade(engine)
        sessions = session_factory(engine)
        clock = ScaledClock(datetime.now(UTC), 1.0, start=ANCHOR)
        dnc_dir = tmp / "dnc"
        people = SimulatedAgents(sessions, clock, seed=seed)
        try:
            _registry(sessions, dnc_dir, clock.now())
            leads = int(cps * seconds * 1.3) + 100
            floor = setup(sessions, clock.now(), leads, agents)
            environ = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_CALLER_ID": CALLER_ID, "TWILIO_CPS": str(cps), "DIALER_DNC_DIR": str(dnc_dir)}
            fake, api_base = _fake_process(tmp, environ, clock, agents, seed, conditions)
            procs.append(fake)
            environ["DIALER_TWILIO_API_BASE"] = api_base
            hooks, base = _webhook_process(url, environ, clock, tmp / "webhooks.log")
            procs.append(hooks)
            view = FakeView(api_base)
            worker = build_worker(sessions, clock, load(environ | {"DIALER_PUBLIC_BASE_URL": base}),
                                  campaign_ids={floor.campaign_id})
            people.start()
            say(f"dialing at {cps:g} calls/s for {seconds:g} s with {agents} agents ({leads:,} leads) ...")
            t0 = time.monotonic()
            cpu0 = time.process_time()
            stopped: list[float] = []
            began: list[float] = []  # the first call's placement: the dialing is timed from it

            def stop() -> bool:
                """Dial ``seconds`` from the first placement, not from the worker's start: on a busy host the
                worker's first turns (its lease, the warm-up) took most of a short run, which then placed a few
                calls and measured nothing (at most START_GRACE_S of waiting for that first call)."""
                now = time.monotonic()
                if not began and (now - t0 >= START_GRACE_S or _placed_any(sessions)):
                    began.append(now)
                if not stopped and began and now - began[0] >= seconds:
                    stopped.append(now)
                return bool(stopped)

            figures = serve(worker, sessions, clock, stop, jobs=False, drain_s=60)
            dial_s = stopped[0] - began[0]
            worker_cpu = time.process_time() - cpu0
            say("draining: waiting for every call and callback ...")
            people.logout.set()
            try:
                _settle(view, sessions, worker, clock)
            finally:
                worker.runtime.close()  # no thread of the worker outlives the bench
            people.stop.set()
            people.join()
            out = _figures(view.stats(), sessions, floor, cps, seconds, dial_s, stopped[0], worker_cpu, figures,
                           people)
        finally:
            people.stop.set()
            if people.is_alive():  # nothing of ours may write to the database once we return
                people.join()
            for proc in procs:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:  # a loaded host: the figures are taken already, end it
                    proc.kill()
                    proc.wait(10)
            engine.dispose()
        out["backend"] = engine.dialect.name
        out["fake_conditions"] = conditions
        return out


def _placed_any(sessions) -> bool:
    with session_scope(sessions) as s:
        return s.scalar(select(Call.id).limit(1)) is not None


def _settle(view: FakeView, sessions, worker, clock, timeout_s: float = 120.0) -> None:
    """After the stop: keep the pump and the lines going until every customer call and agent leg is over."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = clock.now()
        worker.loop.advance(now)
        worker.runtime.tick(now)
        worker.loop.tick(now)
        with session_scope(sessions) as s:
            live = s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None)))
            pending = s.scalar(select(func.count()).select_from(inbox.CarrierCallback)
                               .where(inbox.CarrierCallback.processed_at.is_(None)))
        if not live and not pending:  # the fake's figures are large: read them only when ours are quiet
            fake = view.stats()
            if not fake["live"] and not fake.get("pending"):
                return
        time.sleep(0.2)


def _figures(fake: dict, sessions, floor: BenchSetup, cps: float, seconds: float, dial_s: float,
             stop_at: float, worker_cpu: float, worker: dict, people: SimulatedAgents) -> dict:
    customer = [c for c in fake["calls"] if c["to"].startswith("+1212")]
    created = sorted(c["created"] for c in customer)
    sent = [d for d in fake["deliveries"] if "/twilio/status" in d["url"] or "/twilio/amd" in d["url"]]
    with session_scope(sessions) as s:
        stored = inbox.counts(s, "twilio")
        calls = s.scalars(select(Call).where(Call.campaign_id == floor.campaign_id,
                                             Call.placed_at >= floor.since)).all()
        outcomes: dict[str, int] = {}
        for c in calls:
            outcomes[c.outcome or "live"] = outcomes.get(c.outcome or "live", 0) + 1
        connected = [c for c in calls if c.connected_at is not None and c.answered_at is not None]
        waits = np.array([(c.connected_at - c.answered_at).total_seconds() for c in connected])
        live_answers = sum(1 for c in calls if c.outcome in ("completed", "abandoned"))
        unsettled = sum(1 for c in calls if c.ended_at is None)
        per_lead = s.execute(select(Call.lead_id, func.count()).where(Call.campaign_id == floor.campaign_id,
                                                                      Call.placed_at >= floor.since)
                             .group_by(Call.lead_id).having(func.count() > 1)).all()
    joins = np.array([c["joined_at"] - c["answered_at"] for c in customer
                      if c["joined_at"] is not None and c["answered_at"] is not None and c["joined_with"]])
    steady = _steady_seconds(created, stop_at) if created else []
    return {
        "cps_limit": cps, "seconds": seconds, "agents": len(floor.agents), "dial_wall_s": round(dial_s, 1),
        "calls_placed": len(customer), "calls_in_db": len(calls), "agent_legs": len(fake["calls"]) - len(customer),
        "sustained_cps": round(float(np.mean(steady)), 2) if steady else None,
        "slowest_second": min(steady) if steady else None, "dialing_seconds": len(steady),
        "max_calls_in_any_1s_window": max_calls_in_window(fake["create_times"], 1.0),
        "cps_exceeded": max_calls_in_window(fake["create_times"], 1.0) > cps,
        "twilio_queue_max_s": round(max_queue_s(fake["create_times"], cps), 3),
        "callbacks_sent": len(sent), "callbacks_not_accepted": sum(1 for d in sent if d["status"] != 204),
        "callbacks_stored": sum(stored.values()) - floor.callbacks_before, "callbacks_by_result": stored,
        "callbacks_lost": len(sent) - (sum(stored.values()) - floor.callbacks_before),
        "outcomes": outcomes, "live_answers": live_answers,
        "abandon_rate": round(outcomes.get("abandoned", 0) / live_answers, 4) if live_answers else None,
        **answer_to_agent(joins, waits),
        "refused_by_fake": fake.get("refused", {}),
        "calls_not_final": unsettled, "leads_dialed_twice": len(per_lead),
        "dispositions": people.dispositions, "agent_errors": people.errors,
        "worker_cpu_s": round(worker_cpu, 1), "worker": worker,
    }


def answer_to_agent(joins: np.ndarray, waits: np.ndarray) -> dict:
    """The customer's wait, answer to the agent's conference, on the carrier's own clock (``answer_to_agent_*``),
    and the dial loop's view of it, from the answer stamp stored to its connect (``stored_answer_to_connect_*``).

    Twilio stamps an answer in whole seconds, at or before the moment itself, so the stored figure adds 0-1 s to
    every wait (the 2-second rule errs on the safe side with it) and is no measure of what the customer lived."""
    out = {f"answer_to_agent_{k}_s": _q(joins, q) for k, q in (("p50", 50), ("p99", 99), ("max", 100))}
    out |= {f"stored_answer_to_connect_{k}_s": _q(waits, q) for k, q in (("p50", 50), ("p99", 99), ("max", 100))}
    return out


def _q(values: np.ndarray, q: float) -> float | None:
    return round(float(np.percentile(values, q)), 3) if len(values) else None


def _steady_seconds(created: list[float], end: float) -> list[int]:
    """Customer calls created in each whole second from the first one to the stop (the agents' own legs, rung
    first, are not counted): the rate the dialer held."""
    t0 = created[0]
    counts = [0] * max(1, int(end - t0))
    for t in created:
        k = int(t - t0)
        if k < len(counts):
            counts[k] += 1
    return counts
