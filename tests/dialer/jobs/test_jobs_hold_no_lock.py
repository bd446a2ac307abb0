"""Finding 1 of issue 15, the worker's periodic jobs: none holds SQLite's write lock while it reads or computes.

On SQLite every transaction of the product starts IMMEDIATE, so a job that reads, computes and writes in one
transaction holds the one write lock for its whole run and the dial loop's writes wait behind it. Each test runs a
job as the worker does (``LeasedRunner`` on the product's engine) with a hook in the middle of its slow part (the
counting, the report building, the webhook POST); the hook writes from a connection of its own, as the dial loop
does, waiting at most ``BUSY_S`` for the lock. Had the job opened its transaction before that point, the write
would fail with "database is locked" (the job's thread is inside the hook: the lock cannot be let go meanwhile).
The tests run on PostgreSQL too, for the jobs' results; and where the hook's write is a change the job must not
lose (a call placed while the rollups are recounted), that it is not lost.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event, func, insert, select
from sqlalchemy.exc import OperationalError

from campaigns.alerts import service as aa
from campaigns.alerts.models import AbandonAlert, AbandonGuard, AlertDelivery
from campaigns.callerid import service as callerid
from campaigns.callerid.models import CallerIdNumber
from campaigns.campaign.dial_settings import update as update_settings
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import make_engine, session_factory
from campaigns.dispatch.models import Call
from campaigns.reports import daily, mailing, rollup
from campaigns.reports.catalog import run_report
from campaigns.reports.models import DailyReport, ReportChange, ReportSchedule
from dialer.jobs.catalog import worker_jobs
from dialer.jobs.scheduler import LeasedRunner
from dnc import settings

BUSY_S = 2.0  # the hook's write waits this long for the lock at most (the jobs' hold was the whole run)


class DialLoop:
    """Writes as the dial loop does (a call placed, in a short transaction) from an engine of its own."""

    def __init__(self, db_url: str, campaign_id: int, at) -> None:
        self.engine = make_engine(db_url)
        if self.engine.dialect.name == "sqlite":
            wait = f"PRAGMA busy_timeout={BUSY_S * 1000:.0f}"
            event.listen(self.engine, "connect", lambda conn, _r: conn.execute(wait))
        self.campaign_id, self.at = campaign_id, at
        self.outcomes: list[str] = []

    def write(self) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(Call).values(campaign_id=self.campaign_id,
                                                 phone=f"+1212555{len(self.outcomes):04d}", placed_at=self.at,
                                                 ended_at=self.at, outcome="no_answer", status="completed"))
            self.outcomes.append("written")
        except OperationalError as e:  # "database is locked": the job held the write lock here
            self.outcomes.append(str(e.orig))

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def jobs():
    return {j.name: j for j in worker_jobs()}


def _calls(s, campaign_id: int, at, outcome: str, n: int, caller_id: str = "", answered: bool = False) -> None:
    s.execute(insert(Call), [{"campaign_id": campaign_id,
                              "phone": f"+1{hash((outcome, caller_id, i, at)) % 10**10:010d}",
                              "placed_at": at - timedelta(seconds=i), "answered_at": at if answered else None,
                              "connected_at": at if outcome == "completed" else None,
                              "ended_at": at + timedelta(seconds=30), "outcome": outcome, "caller_id": caller_id,
                              "status": "completed"} for i in range(n)])


def _campaign(sessions, now, name="Guarded", **settings_) -> int:
    with sessions.begin() as s:
        c = create_campaign(s, name, "+12125550100", now - timedelta(days=3))
        c.status = "active"
        if settings_:
            update_settings(s, c, now, **settings_)
        return c.id


def test_reports_refresh_recounts_with_no_write_lock_and_loses_no_call_placed_meanwhile(
        product_engine, db_url, clock, jobs, monkeypatch):
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(hours=2), "no_answer", 30)
        rollup.refresh(s, s.get(Campaign, cid), now)  # built
        _calls(s, cid, now - timedelta(minutes=20), "no_answer", 12)  # new since: the job has them to absorb
    loop = DialLoop(db_url, cid, now - timedelta(minutes=10))  # placed while the job recounts: same hour
    counting = rollup.buckets_of_hours
    monkeypatch.setattr(rollup, "buckets_of_hours", lambda *a: (loop.write(), counting(*a))[1])
    try:
        run = LeasedRunner(sessions, clock, "w1").run(jobs["reports-refresh"])
    finally:
        loop.close()
    assert run.error is None and run.result == 1
    assert loop.outcomes == ["written"]
    monkeypatch.undo()
    with sessions.begin() as s:  # the call written meanwhile is still to be absorbed, then counted
        assert s.scalar(select(func.count()).select_from(ReportChange)) == 1
        today = now.date()
        assert run_report(s, "summary", "Guarded", now, today - timedelta(days=1), today).rows[0]["dials"] == 43


def test_abandon_guard_counts_with_no_write_lock_and_records_the_level(product_engine, db_url, clock, jobs,
                                                                       monkeypatch):
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(hours=1), "completed", 975, answered=True)
        _calls(s, cid, now - timedelta(hours=1), "abandoned", 25, answered=True)  # 2.5 %: the first warning
    loop = DialLoop(db_url, cid, now)
    rate = aa.abandon_rate
    monkeypatch.setattr(aa, "abandon_rate", lambda ab, live: (loop.write(), rate(ab, live))[1])
    try:
        run = LeasedRunner(sessions, clock, "w1").run(jobs["abandon-guard"])
    finally:
        loop.close()
    assert run.error is None and run.result["Guarded"]["level"] == "warn" and not run.result["Guarded"]["fallback"]
    assert loop.outcomes == ["written"]
    with sessions() as s:
        assert s.get(AbandonGuard, cid).level == "warn"
        assert [(a.previous, a.level) for a in s.scalars(select(AbandonAlert))] == [("ok", "warn")]


def test_alert_webhook_posts_with_no_transaction_open_and_records_the_delivery(product_engine, db_url, clock,
                                                                               setenv):
    setenv(DIALER_ALERT_WEBHOOK_PRIVATE="1")
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now, alert_webhook_url="http://127.0.0.1:9/alerts")
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(hours=1), "completed", 975, answered=True)
        _calls(s, cid, now - timedelta(hours=1), "abandoned", 25, answered=True)
        aa.check(s, s.get(Campaign, cid), now)  # a warning, its delivery due now
    loop = DialLoop(db_url, cid, now)
    posted = []

    def post(url, body) -> int:  # the endpoint takes its time; meanwhile the dial loop writes
        loop.write()
        posted.append((url, body["level"]))
        return 204

    try:
        with sessions() as s:  # as the job runs it
            result = aa.deliver(s, now, post=post)
            s.commit()
    finally:
        loop.close()
    assert loop.outcomes == ["written"]
    assert result == {"sent": 1, "failed": 0} and posted == [("http://127.0.0.1:9/alerts", "warn")]
    with sessions() as s:
        d = s.scalars(select(AlertDelivery)).one()
        assert d.delivered_at == now and d.attempts == 1 and d.last_error is None
        assert aa.deliver(s, now + timedelta(hours=1), post=post) == {"sent": 0, "failed": 0}  # sent once


def test_callerid_health_counts_with_no_write_lock_and_retires_the_number_under_the_floor(
        product_engine, db_url, clock, jobs, monkeypatch):
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now, callerid_min_answer_rate=0.2, callerid_min_dials=50)
    with sessions.begin() as s:
        c = s.get(Campaign, cid)
        for n in ("+12125550181", "+12125550182"):
            callerid.add_number(s, c, n, now - timedelta(days=2))
        _calls(s, cid, now - timedelta(days=1), "no_answer", 95, caller_id="+12125550181")  # 5 % answered
        _calls(s, cid, now - timedelta(days=1), "completed", 5, caller_id="+12125550181", answered=True)
        _calls(s, cid, now - timedelta(days=1), "completed", 60, caller_id="+12125550182", answered=True)
    loop = DialLoop(db_url, cid, now)
    from campaigns.reports import metrics

    answer_rate = metrics.answer_rate
    monkeypatch.setattr(metrics, "answer_rate", lambda a, d: (loop.write(), answer_rate(a, d))[1])
    try:
        run = LeasedRunner(sessions, clock, "w1").run(jobs["callerid-health"])
    finally:
        loop.close()
    assert run.error is None and run.result == {"retired": {"Guarded": ["+12125550181"]}}
    assert loop.outcomes and set(loop.outcomes) == {"written"}
    with sessions() as s:
        active = dict(s.execute(select(CallerIdNumber.number, CallerIdNumber.active)).all())
        assert active == {"+12125550181": False, "+12125550182": True}


def test_daily_reports_are_computed_with_no_write_lock_and_stored_once(product_engine, db_url, clock, jobs,
                                                                      monkeypatch):
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(days=1), "no_answer", 7)
    loop = DialLoop(db_url, cid, now)
    dump = daily._dump
    monkeypatch.setattr(daily, "_dump", lambda rep: (loop.write(), dump(rep))[1])
    try:
        run = LeasedRunner(sessions, clock, "w1").run(jobs["reports-daily"])
    finally:
        loop.close()
    assert run.error is None and sorted(run.result["Guarded"]) == sorted(
        (now.date() - timedelta(days=i)).isoformat() for i in (1, 2, 3))  # since the campaign began
    assert loop.outcomes and set(loop.outcomes) == {"written"}
    with sessions() as s:
        row = daily.stored(s, "Guarded", now.date() - timedelta(days=1))
        summary = next(r for r in daily.sections_of(row) if r.name == "summary").payload()
        assert summary["dials"] == 7
        assert s.scalar(select(func.count()).select_from(DailyReport)) == 3


def test_scheduled_reports_are_built_with_no_write_lock_and_marked_sent(product_engine, db_url, clock, setenv,
                                                                       monkeypatch):
    setenv(DIALER_SMTP_HOST="127.0.0.1", DIALER_SMTP_PORT="9", DIALER_SMTP_SECURITY="none",
           DIALER_SMTP_FROM="reports@dialer.example")
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(days=1), "no_answer", 7)
        mailing.add_schedule(s, s.get(Campaign, cid), "summary", "lead@example.com", 6, None, now, "sales")
    loop = DialLoop(db_url, cid, now)
    to_xlsx = mailing.to_xlsx
    monkeypatch.setattr(mailing, "to_xlsx", lambda reports, buf: (loop.write(), to_xlsx(reports, buf))[1])
    sent = []
    try:
        with sessions() as s:  # as the job runs it
            out = mailing.send_due(s, now, settings.current().smtp, send=lambda smtp, msg: sent.append(msg))
            s.commit()
    finally:
        loop.close()
    assert loop.outcomes == ["written"]
    assert out["sent"] == ["Guarded/summary#1"] and len(sent) == 1
    with sessions() as s:
        assert s.scalars(select(ReportSchedule)).one().last_sent_on == now.date()
    with sessions() as s:
        assert mailing.send_due(s, now, settings.current().smtp, send=lambda smtp, msg: sent.append(msg))["sent"] \
            == []  # once a day


def test_reconciliation_judges_with_no_write_lock_and_a_call_placed_meanwhile_is_judged_once(
        product_engine, db_url, clock, setenv, tmp_path, jobs, monkeypatch):
    from campaigns.compliance import verdicts
    from campaigns.compliance.feed import call_records
    from dnc.reconcile import reconcile
    from dnc.registry import Store, generate, load_full

    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    sessions = session_factory(product_engine)
    now = clock.now()  # 10:00 in New York
    store = Store(tmp_path / "dnc")
    with sessions.begin() as s:
        path = generate(tmp_path / "registry.txt", 500, area_codes=("212", "305"), seed=5).path
        load_full(s, store, [path], version_date=(now - timedelta(days=3)).date(), loaded_by="test",
                  now=now - timedelta(days=3), area_codes="212,305")
    cid = _campaign(sessions, now)
    miami = "+13052345601"
    with sessions.begin() as s:
        for h in (0, 1, 2):
            s.add(Call(campaign_id=cid, phone=miami, placed_at=now + timedelta(hours=h), status="completed",
                       ended_at=now + timedelta(hours=h, seconds=20), outcome="no_answer"))
    with sessions.begin() as s:
        verdicts.refresh(s, store, now)  # judged once: the job has only what comes next to judge
        s.add(Call(campaign_id=cid, phone=miami, placed_at=now + timedelta(hours=3), status="completed",
                   ended_at=now + timedelta(hours=3, seconds=20), outcome="no_answer"))  # the fourth: over FL's cap
        s.add(Call(campaign_id=cid, phone="+12122345602", placed_at=now + timedelta(hours=12), status="completed",
                   ended_at=now + timedelta(hours=12, seconds=20), outcome="no_answer"))  # 22:00 in New York
    loop = DialLoop(db_url, cid, now + timedelta(hours=4))
    record = verdicts._record
    monkeypatch.setattr(verdicts, "_record", lambda row: (loop.outcomes or loop.write(), record(row))[1])
    job = jobs["reconciliation-verdicts"]
    try:
        run = LeasedRunner(sessions, clock, "w1").run(replace(job, run=functools.partial(job.run, store=store)))
    finally:
        loop.close()
    assert loop.outcomes == ["written"]
    assert run.error is None and run.result["findings"] == 2
    monkeypatch.undo()
    again = LeasedRunner(sessions, clock, "w1").run(replace(job, run=functools.partial(job.run, store=store)))
    # the call placed while the job judged: judged by this run or the next, never lost nor judged twice
    assert run.result["judged"] + again.result["judged"] == 3
    with sessions() as s:
        stored = {f"call:{v.call_id}": v.codes for v in verdicts.findings(s, now - timedelta(days=1),
                                                                           now + timedelta(days=1))}
        assert stored == {r["call"]: r["codes"] for r in reconcile(s, call_records(s), store)}
        assert "outside_window" in stored.values() and len(stored) == 5  # 22:00 in NY; Florida's without consent


def test_leads_recycle_searches_with_no_write_lock_and_moves_the_stranded_lead(product_engine, db_url, clock,
                                                                               jobs):
    from campaigns.leads.models import Lead, LeadList

    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        lst = LeadList(campaign_id=cid, name="l", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        lead = Lead(campaign_id=cid, list_id=lst.id, phone="+12125550101", status="dialing", attempts=1, custom={},
                    created_at=now, updated_at=now)
        s.add(lead)
        s.flush()  # its call ended an hour ago and nobody recorded a disposition: stranded
        s.add(Call(campaign_id=cid, lead_id=lead.id, phone=lead.phone, placed_at=now - timedelta(hours=1),
                   ended_at=now - timedelta(minutes=59), outcome="no_answer", status="completed"))
        lead_id = lead.id
    loop = DialLoop(db_url, cid, now)

    def searching(_conn, _cursor, statement: str, *_args) -> None:  # the search of the leads table
        if "FROM leads" in statement and "EXISTS" in statement and not loop.outcomes:
            loop.outcomes.append("searching")
            loop.write()

    event.listen(Engine, "before_cursor_execute", searching)
    try:
        run = LeasedRunner(sessions, clock, "w1").run(jobs["leads-recycle"])
    finally:
        event.remove(Engine, "before_cursor_execute", searching)
        loop.close()
    assert loop.outcomes == ["searching", "written"]
    assert run.error is None and run.result["ended"] == 1 and run.result["leads"] == [lead_id]
    with sessions() as s:
        assert s.get(Lead, lead_id).status != "dialing"


def test_a_refresh_between_the_jobs_read_and_its_write_wins_and_the_job_writes_nothing(product_engine, clock,
                                                                                      jobs, monkeypatch):
    """The floor (or a report) refreshes the rollups while the job counts: the job's counts may be older than what
    that refresh wrote, so it must not write them; the rollups stay exact and no change row is absorbed twice."""
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(hours=2), "no_answer", 30)
        rollup.refresh(s, s.get(Campaign, cid), now)
        _calls(s, cid, now - timedelta(minutes=20), "no_answer", 12)
    from campaigns.reports import absorb

    stats, others = absorb.RefreshStats, []

    def meanwhile(*a, **kw):  # the job has counted (its last step before writing): another refresh writes now
        with sessions.begin() as s:
            _calls(s, cid, now - timedelta(minutes=15), "busy", 5)
            others.append(rollup.refresh(s, s.get(Campaign, cid), now))
        return stats(*a, **kw)

    monkeypatch.setattr(absorb, "RefreshStats", meanwhile)
    run = LeasedRunner(sessions, clock, "w1").run(jobs["reports-refresh"])
    assert others[0].buckets and run.error is None and run.result == 0  # the other refresh wrote; the job did not
    monkeypatch.undo()
    with sessions.begin() as s:
        assert s.scalar(select(func.count()).select_from(ReportChange)) == 0
        today = now.date()
        assert run_report(s, "summary", "Guarded", now, today - timedelta(days=1), today,
                          refreshed=True).rows[0]["dials"] == 47


def test_a_reconciliation_between_the_jobs_read_and_its_write_wins_and_the_job_writes_nothing(
        product_engine, clock, setenv, tmp_path, jobs, monkeypatch):
    """A report judges the same new calls while the job judges them: the job must not store its verdicts and day
    counts again on top (the reports would count those calls twice)."""
    from campaigns.compliance import verdicts
    from campaigns.compliance.feed import call_records
    from dnc.reconcile import reconcile
    from dnc.registry import Store, generate, load_full

    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    sessions = session_factory(product_engine)
    now = clock.now()
    store = Store(tmp_path / "dnc")
    with sessions.begin() as s:
        path = generate(tmp_path / "registry.txt", 500, area_codes=("212",), seed=5).path
        load_full(s, store, [path], version_date=(now - timedelta(days=3)).date(), loaded_by="test",
                  now=now - timedelta(days=3), area_codes="212")
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        verdicts.refresh(s, store, now)
        for h in (0, 12):  # 10:00 and 22:00 in New York
            s.add(Call(campaign_id=cid, phone="+12122345602", placed_at=now + timedelta(hours=h), status="completed",
                       ended_at=now + timedelta(hours=h, seconds=20), outcome="no_answer"))
    state, others = verdicts._state, []

    def meanwhile(session):  # the job is about to write: a report judges the same calls first
        if not others:
            others.append(None)  # that refresh takes the state the same way: once only
            with sessions.begin() as s:
                others[0] = verdicts.refresh(s, store, now)
        return state(session)

    monkeypatch.setattr(verdicts, "_state", meanwhile)
    job = jobs["reconciliation-verdicts"]
    run = LeasedRunner(sessions, clock, "w1").run(replace(job, run=functools.partial(job.run, store=store)))
    assert run.error is None, run.error
    assert others[0].judged == 2 and run.result["raced"] and run.result["judged"] == 0
    monkeypatch.undo()
    with sessions() as s:
        stored = {f"call:{v.call_id}": v.codes for v in verdicts.findings(s, now - timedelta(days=1),
                                                                           now + timedelta(days=1))}
        assert stored == {r["call"]: r["codes"] for r in reconcile(s, call_records(s), store)} and stored
        assert verdicts.checked(s, now.date(), now.date() + timedelta(days=1), cid) == 2  # each call once


def test_a_level_recorded_between_the_guards_read_and_its_write_is_not_alerted_twice(product_engine, clock, jobs,
                                                                                     monkeypatch):
    """The console checks the campaign (``alerts.check``) while the job counts: both see the rate pass 2.5 %, but
    the change of level is one alert and one webhook delivery, not two (the job reads the stored level under the
    guard row's lock, after the other check wrote it)."""
    sessions = session_factory(product_engine)
    now = clock.now()
    cid = _campaign(sessions, now)
    with sessions.begin() as s:
        _calls(s, cid, now - timedelta(hours=1), "completed", 975, answered=True)
        _calls(s, cid, now - timedelta(hours=1), "abandoned", 25, answered=True)
    rate, others = aa.abandon_rate, []

    def meanwhile(ab, live):
        if not others:
            others.append(None)  # that check counts with this same function: once only
            with sessions.begin() as s:
                others[0] = aa.check(s, s.get(Campaign, cid), now)
        return rate(ab, live)

    monkeypatch.setattr(aa, "abandon_rate", meanwhile)
    run = LeasedRunner(sessions, clock, "w1").run(jobs["abandon-guard"])
    assert others[0].changed and run.error is None and run.result["Guarded"]["level"] == "warn"
    with sessions() as s:
        assert [(a.previous, a.level) for a in s.scalars(select(AbandonAlert))] == [("ok", "warn")]
        assert s.get(AbandonGuard, cid).level == "warn"
