"""``dialer bench scale``: several dialing workers on one PostgreSQL against the fake Twilio, one killed midway.

Production's processes, each its own OS process: the fake Twilio (``dialer twilio fake-server``), the webhooks
(``dialer serve webhooks`` on gunicorn), ``--workers`` dialing workers (``dialer run --carrier twilio``, every
campaign shared out among them by lease) and, in this process, the agents at their consoles (a disposition after a
short wrap, then ready again). At ``--kill-worker-at`` seconds one worker gets SIGKILL; its campaigns must dial
again on the others once its leases run out (the takeover gap is measured from the kill to the first call the fake
sees for each of them). At the end the database is checked for what must never happen: a lead or a number with two
live calls at once, a callback sent but not stored, a call left open, a disposition on a call nobody talked to.

CPU per process is read from ``/proc`` (Linux): the workers, the webhooks, the fake and PostgreSQL's backends for
this database, so the agents-per-core projection rests on measured figures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select, text

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.inbox.models import CarrierCallback
from campaigns.leads.models import Lead, LeadList
from dialer.bench.console_agents import SimulatedAgents
from dialer.bench.scale_abandons import campaign_abandons
from dialer.bench.twilio import (
    ACCOUNT_SID,
    ANCHOR,
    AUTH_TOKEN,
    CALLER_ID,
    FakeView,
    _fake_process,
    _registry,
    _steady_seconds,
    _webhook_process,
    agent_phone,
    answer_to_agent,
    clock_settings,
)
from dialer.carriers.twilio.fake.server import max_calls_in_window
from dialer.clock import ScaledClock
from dialer.schema.migrate import upgrade
from dnc import settings
from dnc.errors import UserError

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a live process (``/proc/PID/stat``); None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def customer_number(campaign_index: int, i: int) -> str:
    return f"+1212{200 + campaign_index * 5 + i // 10_000:03d}{i % 10_000:04d}"


def campaign_of_number(phone: str) -> int:
    return (int(phone[5:8]) - 200) // 5


def setup(sessions, now: datetime, campaigns: int, agents: int, leads: int) -> list[int]:
    """``campaigns`` power-mode campaigns sharing ``agents`` phone agents (all ready) and ``leads`` leads."""
    ids = []
    with session_scope(sessions) as s:
        for ci in range(campaigns):
            c = create_campaign(s, f"scale-{ci}", CALLER_ID, now,
                                CampaignSettings(seller_name="Bench Sales", pacing_mode="power"))
            c.status, c.power_ratio, c.abandon_target = "active", 3.0, 0.03
            lst = LeadList(campaign_id=c.id, name="bench", sha256=f"{ci:064d}", uploaded_at=now)
            s.add(lst)
            s.flush()
            n = leads // campaigns
            rows = [{"campaign_id": c.id, "list_id": lst.id, "phone": customer_number(ci, i), "custom": {},
                     "created_at": now, "updated_at": now} for i in range(n)]
            for k in range(0, n, 5000):
                s.execute(insert(Lead), rows[k:k + 5000])
            ids.append(c.id)
        for i in range(agents):
            a = agent_svc.create_agent(s, f"scale-{i:04d}", now, campaign=s.get(Campaign, ids[i % campaigns]),
                                       simulated=True)
            agent_lines.set_phone(s, a.id, agent_phone(i), now)
            agent_svc.go_ready(s, a.id, now)
    return ids


def require_empty(sessions, url: str) -> None:
    """The figures count every call and agent in the database: it must hold nothing else."""
    with session_scope(sessions) as s:
        if s.scalar(select(func.count()).select_from(Campaign)):
            raise UserError(f"{url.rsplit('@', 1)[-1]} already holds campaigns: give the benchmark an empty database "
                            "(createdb a fresh one)")


def fake_latency(create_latency_ms: float, jitter_ms: float) -> dict:
    """The fake server's create latency (its ``--create-latency-ms``/``--jitter-ms``)."""
    return {"create_latency_ms": create_latency_ms, "jitter_ms": jitter_ms} if create_latency_ms else {}


def run(url: str, workers: int, campaigns: int, agents: int, cps: float, seconds: float, kill_at: float | None,
        create_latency_ms: float = 0.0, jitter_ms: float = 0.0, progress: Callable[[str], None] | None = None,
        seed: int = 1) -> dict:
    say = progress or (lambda msg: None)
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="dialer-bench-scale-") as tmp_dir, \
            settings.overridden(DIALER_DNC_DIR=str(Path(tmp_dir) / "dnc")):
        tmp = Path(tmp_dir)
        engine = make_engine(url, pool_size=5, max_overflow=5)
        upgrade(engine)
        sessions = session_factory(engine)
        require_empty(sessions, url)
        clock = ScaledClock(datetime.now(UTC), 1.0, start=ANCHOR)
        dnc_dir = tmp / "dnc"
        people = SimulatedAgents(sessions, clock, seed=seed)
        try:
            _registry(sessions, dnc_dir, clock.now())
            leads = int(cps * seconds * 1.5) + 100 * campaigns
            ids = setup(sessions, clock.now(), campaigns, agents, leads)
            environ = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                       "TWILIO_CALLER_ID": CALLER_ID, "TWILIO_CPS": str(cps), "DIALER_DNC_DIR": str(dnc_dir)}
            latency = fake_latency(create_latency_ms, jitter_ms)
            fake, api_base = _fake_process(tmp, environ, clock, agents, seed, latency)
            procs.append(fake)
            environ["DIALER_TWILIO_API_BASE"] = api_base
            hooks, base = _webhook_process(url, environ, clock, tmp / "webhooks.log")
            procs.append(hooks)
            view = FakeView(api_base)
            # every worker is told the account's whole CPS: they book send slots from one clock in the database
            # (``campaigns.cpsbudget``), so together they never exceed it and one busy campaign may use it all
            wenv = settings.child_environ(**(environ | clock_settings(clock) | {
                "DIALER_PUBLIC_BASE_URL": base, "DIALER_DATABASE_URL": url, "DIALER_LOG_LEVEL": "info"}))
            dialers = []
            for w in range(workers):
                log = open(tmp / f"worker-{w}.log", "w")  # noqa: SIM115 - closed with the process
                dialers.append((subprocess.Popen([sys.executable, "-m", "dialer", "run", "--carrier", "twilio",
                                                  "--json"], env=wenv, stdout=log, stderr=log), log))
            people.start()
            say(f"{workers} workers, {campaigns} campaigns, {agents} agents, {cps:g} calls/s for {seconds:g} s ...")
            t0 = time.monotonic()
            cpu: dict[str, float] = {}
            killed: dict = {}
            while time.monotonic() - t0 < seconds:
                time.sleep(1.0)
                for w, (p, _) in enumerate(dialers):
                    got = cpu_s(p.pid)
                    if got is not None:
                        cpu[f"worker-{w}"] = got
                if kill_at is not None and not killed and time.monotonic() - t0 >= kill_at:
                    killed = _kill(sessions, clock, dialers[0][0], say)
            cpu["webhooks"] = _tree_cpu(hooks.pid)
            cpu["fake_twilio"] = cpu_s(fake.pid) or 0.0
            cpu["postgresql"] = _db_cpu(sessions)
            stopped_at = time.monotonic()
            _end_of_shift(sessions, ids, clock)
            for p, _ in dialers:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p, log in dialers:
                try:
                    p.wait(120)
                except subprocess.TimeoutExpired:
                    p.kill()
                log.close()
            people.logout.set()
            _wait_quiet(view, sessions)
            people.stop.set()
            people.join(5)
            out = _figures(view.stats(), sessions, ids, cps, seconds, stopped_at, killed, cpu, agents, workers)
            with session_scope(sessions) as s:
                out["abandons_by_campaign"] = campaign_abandons(s, ids)
            out["worker_logs_tail"] = {f"worker-{w}": (tmp / f"worker-{w}.log").read_text()[-1500:]
                                       for w in range(workers)}
        finally:
            people.stop.set()
            for proc in procs:
                proc.terminate()
                proc.wait(10)
            engine.dispose()
        out.update(backend=engine.dialect.name, create_latency_ms=create_latency_ms, jitter_ms=jitter_ms)
        return out


def _kill(sessions, clock, proc: subprocess.Popen, say) -> dict:
    from campaigns.leases.ownership import owners

    with session_scope(sessions) as s:
        name = s.scalar(text("SELECT name FROM dial_workers WHERE name LIKE :pid"), {"pid": f"%:{proc.pid}"})
        theirs = [cid for cid, holder in owners(s, clock.now()).items() if holder == name]
    proc.send_signal(signal.SIGKILL)
    at = time.monotonic()
    say(f"SIGKILL worker {name} holding campaigns {sorted(theirs)}")
    return {"worker": name, "campaigns": theirs, "at": at}


def _tree_cpu(pid: int) -> float:
    """CPU of a process and its children (gunicorn's workers)."""
    total = cpu_s(pid) or 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(cpu_s(int(c)) or 0.0 for c in children)


def _db_cpu(sessions) -> float | None:
    """CPU of PostgreSQL's backends serving this database (same host only)."""
    with session_scope(sessions) as s:
        pids = list(s.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")))
    got = [cpu_s(p) for p in pids]
    return round(sum(g for g in got if g is not None), 1) if any(g is not None for g in got) else None


def _end_of_shift(sessions, ids: list[int], clock, timeout_s: float = 120.0) -> None:
    """How a floor stops: the campaigns are paused (nothing new is dialed, answers still reach the agents) and the
    workers run until every call has ended, so the end callbacks of calls still with an agent are delivered by their
    owner; stopping mid-call would leave those to whichever worker starts next (the database's check counted them as
    calls left open)."""
    with session_scope(sessions) as s:
        s.execute(Campaign.__table__.update().where(Campaign.id.in_(ids)).values(status="paused",
                                                                                  updated_at=clock.now()))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(sessions) as s:
            if not s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))):
                return
        time.sleep(0.5)


def _wait_quiet(view: FakeView, sessions, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(sessions) as s:
            live = s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None)))
        if not live and not view.stats()["live"]:
            return
        time.sleep(1.0)


def double_dials(session) -> tuple[int, int]:
    """Pairs of calls to one lead, or to one number, that were live at the same time."""
    a, b = Call.__table__.alias("a"), Call.__table__.alias("b")
    far = datetime(9999, 1, 1, tzinfo=UTC)
    overlap = (a.c.id < b.c.id) & (b.c.placed_at < func.coalesce(a.c.ended_at, far)) \
        & (a.c.placed_at < func.coalesce(b.c.ended_at, far))
    leads = session.scalar(select(func.count()).select_from(a.join(b, a.c.lead_id == b.c.lead_id)).where(overlap))
    phones = session.scalar(select(func.count()).select_from(a.join(b, a.c.phone == b.c.phone)).where(overlap))
    return leads or 0, phones or 0


def _figures(fake: dict, sessions, ids: list[int], cps: float, seconds: float, stop_at: float, killed: dict,
             cpu: dict, agents: int, workers: int) -> dict:
    customer = [c for c in fake["calls"] if c["to"].startswith("+1212")]
    created = sorted(c["created"] for c in customer)
    sent = [d for d in fake["deliveries"] if "/twilio/status" in d["url"] or "/twilio/amd" in d["url"]]
    with session_scope(sessions) as s:
        stored = inbox.counts(s, "twilio")
        calls = s.scalars(select(Call).where(Call.campaign_id.in_(ids))).all()
        lead_pairs, phone_pairs = double_dials(s)
        lags = [(r.processed_at - r.received_at).total_seconds() for r in s.scalars(
            select(CarrierCallback).where(CarrierCallback.processed_at.is_not(None)))]
    per: dict[int, dict[str, int]] = {cid: {"live": 0, "abandoned": 0, "calls": 0} for cid in ids}
    for c in calls:
        row = per[c.campaign_id]
        row["calls"] += 1
        if c.outcome in ("completed", "abandoned"):
            row["live"] += 1
        if c.outcome == "abandoned":
            row["abandoned"] += 1
    rates = {cid: round(r["abandoned"] / r["live"], 4) if r["live"] else None for cid, r in per.items()}
    connected = [c for c in calls if c.connected_at is not None and c.answered_at is not None]
    waits = np.array([(c.connected_at - c.answered_at).total_seconds() for c in connected])
    joins = np.array([c["joined_at"] - c["answered_at"] for c in customer
                      if c["joined_at"] is not None and c["answered_at"] is not None and c["joined_with"]])
    gap = None
    if killed:
        theirs = {ids.index(cid) for cid in killed["campaigns"] if cid in ids}
        firsts = [min((c["created"] for c in customer if campaign_of_number(c["to"]) == ci
                       and c["created"] > killed["at"]), default=None) for ci in theirs]
        gaps = [f - killed["at"] for f in firsts if f is not None]
        gap = round(max(gaps), 2) if gaps and len(gaps) == len(firsts) else None
    steady = _steady_seconds(created, stop_at) if created else []
    worker_cpu = sum(v for k, v in cpu.items() if k.startswith("worker-"))
    per_core = round(agents / (worker_cpu / seconds), 0) if worker_cpu else None
    return {
        "workers": workers, "campaigns": len(ids), "agents": agents, "cps_limit": cps, "seconds": seconds,
        "calls_placed": len(customer), "calls_in_db": len(calls),
        "sustained_cps": round(float(np.mean(steady)), 2) if steady else None,
        "max_calls_in_any_1s_window": max_calls_in_window(fake["create_times"], 1.0),
        **answer_to_agent(joins, waits),
        "abandon_rate_by_campaign": rates,
        "abandon_rate_max": max((r for r in rates.values() if r is not None), default=None),
        "callback_lag_p99_s": round(float(np.percentile(lags, 99)), 3) if lags else None,
        "callbacks_sent": len(sent), "callbacks_stored": sum(stored.values()), "callbacks_by_result": stored,
        "callbacks_lost": len(sent) - sum(stored.values()),
        "double_dials": lead_pairs + phone_pairs, "double_dials_by_lead": lead_pairs,
        "double_dials_by_number": phone_pairs,
        "calls_not_final": sum(1 for c in calls if c.ended_at is None),
        "dispositions_without_a_call": sum(1 for c in calls if c.disposition_code and c.connected_at is None),
        "killed": {k: v for k, v in killed.items() if k != "at"}, "takeover_gap_s": gap,
        "cpu_s": {k: round(v, 1) if v is not None else None for k, v in cpu.items()},
        "agents_per_worker_core": per_core,
    }


def emit(out: dict) -> str:
    return json.dumps(out, default=str)
