"""Periodic-job contention on SQLite: do the worker's jobs stall the dial loop's writes?

SQLite has one write lock, and the product starts every transaction IMMEDIATE, so a job that reads, computes and
writes in one transaction holds the lock for its whole run. This benchmark generates a campaign's history (the
reports benchmark's generator: calls, leads, agents, 30 days), builds its rollups and judges its calls once, as a
worker that has been running would have. Then it runs the worker's periodic jobs on their own schedules, on one
job thread as the worker does on SQLite (every interval job at once at the start, as when a worker starts), while a
separate process writes as the dial loop does (one short transaction every 50 ms placing and ending a call, so the
rollups and the reconciliation always have new calls to absorb), timing each write from BEGIN to COMMIT. It also
reports, per job, the longest write transaction it held. A slow alert endpoint (0.2 s a POST) receives the abandon
alerts; no mail server is configured (the mailing job only says what waits).
"""

from __future__ import annotations

import functools
import multiprocessing
import shutil
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import case, event, insert, select, update

from campaigns.alerts.models import AbandonAlert, AlertDelivery
from campaigns.callbacks.models import Callback
from campaigns.callerid.models import CallerIdNumber
from campaigns.campaign import dial_settings
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from campaigns.reports.rollup import refresh
from dialer.bench import reports_compliance as compliance
from dialer.bench.reports_gen import TZ, Plan, generate
from dialer.jobs.catalog import start_worker_scheduler, worker_jobs
from dialer.jobs.scheduler import Job
from dialer.schema.migrate import upgrade
from dnc import settings

CALLER_IDS = ("+12125550181", "+12125550182")
WEBHOOK_DELAY_S = 0.2  # a slow alert endpoint: each POST takes this long


class _Clock:
    """Wall time shifted to the generated history's ``now``: the jobs and the writer read the same time line."""

    def __init__(self, now: datetime, anchor: float) -> None:
        self.base, self.anchor = now, anchor

    def now(self) -> datetime:
        return self.base + timedelta(seconds=time.time() - self.anchor)


class _SlowHook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(WEBHOOK_DELAY_S)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


def _seed(url: str, calls: int, leads: int, days: int, root: Path, hook: str, now: datetime) -> int:
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with session_scope(sessions) as s:
        c = create_campaign(s, "Bench jobs", "+12125550100", now, CampaignSettings(timezone=TZ))
        c.status, cid = "active", c.id
        dial_settings.update(s, c, now, callerid_min_answer_rate=0.01, callerid_min_dials=10,
                             alert_webhook_url=hook)
        for n in CALLER_IDS:
            s.add(CallerIdNumber(campaign_id=cid, number=n, area_code="212", active=True, added_at=now))
    today = now.astimezone(ZoneInfo(TZ)).date()
    plan = Plan(calls=calls, leads=leads, days=days, lists=4, first_day=today - timedelta(days=days))
    store = compliance.load_registry(sessions, root, plan.first_day, days)
    with engine.begin() as conn:
        generate(conn, cid, "Bench jobs", plan, now)
        conn.execute(update(Call).where(Call.campaign_id == cid).values(
            caller_id=case((Call.id % 2 == 0, CALLER_IDS[0]), else_=CALLER_IDS[1])))
    with session_scope(sessions) as s:
        refresh(s, s.get(Campaign, cid), now)  # a worker that has been running: rollups built, calls judged
    compliance.build(sessions, store, now)
    with session_scope(sessions) as s:  # what the other jobs find to do: due callbacks, undelivered alerts
        lead_ids = s.scalars(select(Lead.id).where(Lead.campaign_id == cid).limit(200)).all()
        s.add_all(Callback(campaign_id=cid, lead_id=lid, requested_at=now - timedelta(days=1),
                           due_at=now - timedelta(hours=1), status="pending", created_at=now) for lid in lead_ids)
        alert = AbandonAlert(campaign_id=cid, level="warn", previous="ok", rate=0.026, live_answers=1000,
                             abandoned=26, machines=0, fallback=False, message="bench", at=now)
        s.add(alert)
        s.flush()
        s.add_all(AlertDelivery(alert_id=alert.id, url=hook, payload={"n": i}, attempts=0, next_try_at=now,
                                created_at=now) for i in range(10))
    engine.dispose()
    return cid


def _dial_loop_writes(url: str, campaign_id: int, now: datetime, anchor: float, seconds: float, every_s: float,
                      conn) -> None:
    """A separate process writing like the dial loop: each turn one short transaction ends the last call and
    places the next; sends back the latencies."""
    settings.load()
    engine = make_engine(url)  # the product's engine: IMMEDIATE transactions, DIALER_SQLITE_BUSY_TIMEOUT_S (30 s)
    sessions = session_factory(engine)
    clock = _Clock(now, anchor)
    with sessions() as s:
        leads = s.execute(select(Lead.id, Lead.list_id, Lead.phone).where(Lead.campaign_id == campaign_id,
                                                                         Lead.status != "suppressed")
                          .limit(5000)).all()
    rng = np.random.default_rng(5)
    out: list[float] = []
    conn.send("ready")  # the jobs start now: none of their first runs is over before the first write
    last = None
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        at = clock.now()
        lead_id, list_id, phone = leads[int(rng.integers(len(leads)))]
        with sessions() as s:
            if last is not None:
                s.execute(update(Call).where(Call.id == last).values(ended_at=at, status="completed",
                                                                     outcome="no_answer"))
            last = s.execute(insert(Call).values(campaign_id=campaign_id, lead_id=lead_id, list_id=list_id,
                                                 phone=phone, caller_id=CALLER_IDS[len(out) % 2], attempt=2,
                                                 provider="bench", status="ringing", placed_at=at)
                             .returning(Call.id)).scalar_one()
            s.commit()
        out.append(time.perf_counter() - t0)
        time.sleep(max(0.0, every_s - (time.perf_counter() - t0)))
    engine.dispose()
    conn.send(out)
    conn.close()


def _jobs(store, current: list[str]) -> list[Job]:
    """The worker's jobs, the registry ones pointed at the benchmark's snapshot directory, each naming itself while
    it runs (so its transactions are counted as its own)."""
    def named(name: str, run):
        def job(session, now):
            current[0] = name
            try:
                return run(session, now)
            finally:
                current[0] = "-"
        return job

    out = []
    for job in worker_jobs():
        if job.name.startswith(("registry-sync", "registry-freshness", "rnd-freshness")):
            continue  # no write transaction of their own worth timing (the sync commits in short steps)
        run = functools.partial(job.run, store=store) if job.name == "reconciliation-verdicts" else job.run
        out.append(replace(job, run=named(job.name, run)))
    return out


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


def run(calls: int, leads: int, days: int, seconds: float, now: datetime, progress=None) -> dict:
    say = progress or (lambda _msg: None)
    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHook)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{hook_server.server_address[1]}/hook"
    tmp = Path(tempfile.mkdtemp(prefix="dialer-bench-jobs-"))
    try:
        with settings.overridden(DIALER_SQLITE_LOCKING="immediate", DIALER_ALERT_WEBHOOK_PRIVATE="1",
                                 DIALER_DNC_DIR=str(tmp / "dnc")):
            url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            say(f"generating {calls:,} calls and {leads:,} leads over {days} days, rollups and verdicts built …")
            cid = _seed(url, calls, leads, days, tmp, hook, now)
            from dnc.registry import Store

            return _measure(url, cid, Store(tmp / "dnc"), seconds, now, say)
    finally:
        hook_server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


def _measure(url: str, cid: int, store, seconds: float, now: datetime, say) -> dict:
    engine = make_engine(url)
    held: dict[str, list[float]] = defaultdict(list)
    current = ["-"]

    @event.listens_for(engine, "begin")
    def _began(conn) -> None:
        conn.info["began"] = time.perf_counter(), current[0]  # a job's transaction begins inside its run

    def _ended(conn) -> None:
        began = conn.info.pop("began", None)
        if began is not None:
            held[began[1]].append(time.perf_counter() - began[0])

    event.listen(engine, "commit", _ended)
    event.listen(engine, "rollback", _ended)
    anchor = time.time()
    jobs = _jobs(store, current)
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    writer = ctx.Process(target=_dial_loop_writes, args=(url, cid, now, anchor, seconds, 0.05, send))
    say(f"the worker's {len(jobs)} jobs on their own schedules (one job thread, as on SQLite) for {seconds:.0f} s "
        "while the dial loop writes …")
    writer.start()
    if receive.recv() != "ready":
        raise RuntimeError("the dial-loop writer did not start")
    sched = start_worker_scheduler(session_factory(engine), _Clock(now, anchor), "bench", jobs)
    try:
        writes = receive.recv()
        writer.join()
    finally:
        sched.shutdown(wait=True)
    engine.dispose()
    per_job = {name: {"transactions": len(v), "max_ms": round(max(v) * 1000, 1),
                      "p50_ms": _ms(v, 50)} for name, v in sorted(held.items()) if name != "-"}
    return {"backend": "sqlite", "seconds": seconds,
            "writes": len(writes), "write_p50_ms": _ms(writes, 50), "write_p99_ms": _ms(writes, 99),
            "write_max_ms": round(max(writes) * 1000, 1) if writes else None, "jobs": per_job}
