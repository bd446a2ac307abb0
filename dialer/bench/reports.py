"""``dialer bench reports``: every report over a 30-day range on a large generated history, timed.

Generates a campaign with ``--leads`` leads and ``--calls`` calls over ``--days`` days (bulk-loaded with change
capture off, as a migration from another system would be), builds the rollups once, then times each report
exactly as the CLI and the console run it (refresh check included), three times each. It also times how long
a refresh takes to absorb one busy hour of new calls, and checks the rollups against a raw count of the calls.
Reconciliation and window exceptions are timed the same way (``dialer.bench.reports_compliance``), after every
call has been judged once. The national-registry loads they need stay in the database's append-only ledger: use a
scratch database.
"""

from __future__ import annotations

import contextlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.exc import OperationalError

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.models import Campaign, Disposition
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList, RejectedRow
from campaigns.reports.catalog import REPORTS, run_report
from campaigns.reports.models import AgentRollup, CallRollup, DailyReport, LeadCallStats, ReportChange, ReportState
from campaigns.reports.period import period
from campaigns.reports.rollup import refresh
from campaigns.reports.sqlbits import CallFacts, count_if
from dialer.bench import reports_compliance as compliance
from dialer.bench.reports_gen import TZ, Loader, Plan, generate, stamp
from dialer.schema.migrate import upgrade
from dnc.errors import UserError

RUNS = 3
TIMED = (("summary", None), ("hit-rate", "day"), ("hit-rate", "list"), ("hit-rate", "hour"), ("agents", None),
         ("first-call-close", "day"), ("first-call-close", "agent"), ("list-close", None), ("pass", None),
         ("abandon", None), ("abandon-periods", None), ("outcomes", "day"), ("agent-time", "agent"),
         ("agent-time", "day"), ("dnc", "day"), ("completion", "day"), ("refusals", None),
         ("agent-leaderboard", None), ("list-leaderboard", None))
Progress = Callable[[str], None]


def run(url: str, calls: int, leads: int, days: int, lists: int, now: datetime, keep: bool = False,
        progress: Progress | None = None) -> dict:
    say = progress or (lambda _msg: None)
    _check_timed()  # before an hour of generating, not after it
    engine = make_engine(url)
    try:
        upgrade(engine)
        return _run(engine, calls, leads, days, lists, now, keep, say)
    finally:
        engine.dispose()


def _check_timed() -> None:
    """Every timed report and grouping must exist: a report whose groupings changed failed the 10 M run at its end."""
    for report_name, by in TIMED:
        spec = REPORTS.get(report_name)
        if spec is None or (by is not None and by not in spec.groups):
            raise UserError(f"benchmark asks for report {report_name!r} by {by!r}, which the catalog does not offer")


def _run(engine: Engine, calls: int, leads: int, days: int, lists: int, now: datetime, keep: bool,
         say: Progress) -> dict:
    sessions = session_factory(engine)
    name = f"bench-reports-{now:%Y%m%dT%H%M%S%f}"
    with session_scope(sessions) as s:
        cid = create_campaign(s, name, "+12125550100", now, CampaignSettings(timezone=TZ)).id
    today = now.astimezone(ZoneInfo(TZ)).date()
    plan = Plan(calls=calls, leads=leads, days=days, lists=lists, first_day=today - timedelta(days=days))
    postgres = engine.dialect.name == "postgresql"
    out: dict = {"backend": engine.dialect.name, "campaign": name}
    scratch = Path(tempfile.mkdtemp(prefix="dialer-bench-registry-"))
    store = compliance.load_registry(sessions, scratch, plan.first_day, days)
    try:
        say(f"generating {calls:,} calls, {leads:,} leads, {plan.agents} agents over {days} days …")
        t0 = time.perf_counter()
        with engine.begin() as conn:
            _capture_off(conn)
            gen = generate(conn, cid, name, plan, now)
        out.update(calls=gen.calls, leads=gen.leads, agents=gen.agents, agent_events=gen.agent_events,
                   connected=gen.connected, days=days, generate_s=round(time.perf_counter() - t0, 1))
        _analyze(engine)
        say("building the rollups …")
        t0 = time.perf_counter()
        with session_scope(sessions) as s:
            assert refresh(s, s.get(Campaign, cid), now).rebuilt
        out["rollup_build_s"] = round(time.perf_counter() - t0, 1)
        _analyze(engine)
        last = today - timedelta(days=1)
        first = last - timedelta(days=29)
        out["range"] = f"{first} .. {last}"
        timings = {}
        for report_name, by in TIMED:
            key = report_name + (f" --by {by}" if by else "")
            seconds, rows = _time_report(sessions, report_name, name, now, first, last, by)
            timings[key] = {"max_s": round(max(seconds), 3), "median_s": round(statistics.median(seconds), 3),
                            "rows": rows}
            say(f"  {key:32} {max(seconds):6.3f} s")
        say("judging every call for reconciliation (once, from nothing) …")
        out["verdicts_build"] = compliance.build(sessions, store, now)
        say(f"  {out['verdicts_build']}")
        for key, t in compliance.time_reports(sessions, store, now, first, last).items():
            timings[key] = t
            say(f"  {key:32} {t['max_s']:6.3f} s  ({t['rows']} rows, {t['calls_checked']} calls checked)")
        out["reports"] = timings
        out["slowest_report_s"] = max(t["max_s"] for t in timings.values())
        out["check"] = _check(sessions, cid, name, now, first, last)
        say("absorbing one busy hour of new calls …")
        out["incremental"] = _incremental(engine, sessions, cid, gen, plan, now)
        out["incremental"].update(compliance.absorb(sessions, store, now, first, last))
    finally:
        if not keep:
            say("removing the benchmark campaign …")
            _drop(engine, cid)
        shutil.rmtree(scratch, ignore_errors=True)
    out["postgresql"] = postgres
    return out


def _capture_off(conn) -> None:
    """Bulk history needs no change log (the rollups are built from scratch next); PostgreSQL lets a superuser
    switch the triggers off for this transaction only. Elsewhere the rows are logged and the rebuild clears them."""
    if conn.dialect.name == "postgresql":
        try:
            with conn.begin_nested():
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except Exception:  # noqa: BLE001 - not a superuser: triggers stay on, the rebuild empties the log
            pass


def _analyze(engine: Engine) -> None:
    """Statistics and the visibility map, as autovacuum leaves a table some minutes after a bulk load."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")


def _time_report(sessions, report_name: str, campaign: str, now: datetime, first, last, by) -> tuple[list, int]:
    seconds, rows = [], 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        with session_scope(sessions) as s:
            rep = run_report(s, report_name, campaign, now, first, last, by)
        seconds.append(time.perf_counter() - t0)
        rows = len(rep.rows)
    return seconds, rows


def _check(sessions, cid: int, campaign: str, now: datetime, first, last) -> dict:
    """The summary's dials, live answers and abandons against a raw count over the calls (and how long that takes)."""
    with session_scope(sessions) as s:
        rep = run_report(s, "summary", campaign, now, first, last).payload()
        f = CallFacts()
        c = f.c.c
        span = period(TZ, now, first, last)
        t0 = time.perf_counter()
        raw = s.execute(select(func.count(), count_if(f.live), count_if(f.abandoned)).select_from(f.join)
                        .where(c.campaign_id == cid, c.placed_at >= span.start, c.placed_at < span.end)).one()
        raw_s = time.perf_counter() - t0
    agree = (rep["dials"], rep["live_answers"], rep["abandoned"]) == tuple(int(x) for x in raw)
    return {"range": f"{first} .. {last}", "dials": rep["dials"], "live_answers": rep["live_answers"],
            "abandoned": rep["abandoned"], "abandon_rate": rep["abandon_rate"], "hit_rate": rep["hit_rate"],
            "rollups_match_raw_calls": agree, "raw_count_s": round(raw_s, 2)}


def _incremental(engine: Engine, sessions, cid: int, gen, plan: Plan, now: datetime) -> dict:
    """Insert an hour's worth of dials for today with change capture on, then time the refresh and a summary."""
    per_hour = max(1, gen.calls // (plan.days * 8))
    rng = np.random.default_rng(99)
    with session_scope(sessions) as s:
        lead_rows = s.execute(select(Lead.id, Lead.list_id, Lead.phone).where(Lead.campaign_id == cid,
                                                                             Lead.status != "suppressed")
                              .limit(per_hour)).all()
    start = now - timedelta(hours=1)
    placed = stamp(start.timestamp() + rng.uniform(0, 3500, len(lead_rows)))
    outcomes = rng.choice(np.array(["no_answer", "busy", "machine", "abandoned"], dtype=object), len(lead_rows))
    rows = ((cid, lid, list_id, phone, 9, "bench", "completed", placed[i], placed[i], str(outcomes[i]), False)
            for i, (lid, list_id, phone) in enumerate(lead_rows))
    with engine.begin() as conn:
        Loader(conn).load(Call.__table__, ("campaign_id", "lead_id", "list_id", "phone", "attempt", "provider",
                                           "status", "placed_at", "ended_at", "outcome", "imported"), rows)
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        stats = refresh(s, s.get(Campaign, cid), now)
    refresh_s = time.perf_counter() - t0
    today = now.astimezone(ZoneInfo(TZ)).date()
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        run_report(s, "summary", s.get(Campaign, cid).name, now, today, today)
    return {"new_calls": len(lead_rows), "refresh_s": round(refresh_s, 3), "buckets": stats.buckets,
            "leads": stats.leads, "summary_after_s": round(time.perf_counter() - t0, 3)}


def _drop(engine: Engine, cid: int) -> None:
    """Remove everything the benchmark loaded (change capture off on PostgreSQL: nothing to log for a delete)."""
    with engine.begin() as conn:
        _capture_off(conn)
        compliance.drop(conn, cid)
        for stmt in (delete(DailyReport).where(DailyReport.campaign_id == cid),
                     delete(CallRollup).where(CallRollup.campaign_id == cid),
                     delete(AgentRollup).where(AgentRollup.campaign_id == cid),
                     delete(LeadCallStats).where(LeadCallStats.campaign_id == cid),
                     delete(ReportState).where(ReportState.campaign_id == cid),
                     delete(Call).where(Call.campaign_id == cid),
                     delete(AgentStateEvent).where(AgentStateEvent.campaign_id == cid),
                     delete(Agent).where(Agent.campaign_id == cid),
                     delete(RejectedRow).where(RejectedRow.list_id.in_(
                         select(LeadList.id).where(LeadList.campaign_id == cid))),
                     delete(Lead).where(Lead.campaign_id == cid),
                     delete(LeadList).where(LeadList.campaign_id == cid),
                     delete(Disposition).where(Disposition.campaign_id == cid),
                     delete(ReportChange).where(ReportChange.campaign_id == cid),
                     delete(Campaign).where(Campaign.id == cid)):
            conn.execute(stmt)
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn, contextlib.suppress(OperationalError):
            # housekeeping only: refused while the registry's fetch engine still reads the file
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
