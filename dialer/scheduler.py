"""Periodic work on APScheduler: callbacks coming due, lead recycling, registry freshness warnings, nightly reports.

A job never runs twice at once: APScheduler's ``max_instances=1`` and ``coalesce`` guard one process, and a lease
row in the database (``campaigns.leases``) guards against a second worker or a second scheduler process. Every job
receives ``now`` from the injected clock, so the same jobs run in tests on a ``ManualClock``. What each run
returned (or why it failed) stays on its lease row: ``dialer jobs list`` shows it.

The jobs of the worker (``worker_jobs``):

- ``callbacks-due`` (every 30 s): callbacks whose time came and went without a dial are marked missed and listed
  in the missed-callback queue (``campaigns.callbacks.mark_missed``; the lead stays callable);
- ``leads-recycle`` (every 5 min): stranded ``dialing`` leads back to the queue (``campaigns.recycle``);
- ``registry-freshness`` (hourly): a warning for every area code whose national-registry version is within 7 days
  of the 31-day limit (and an error past it: those numbers are not dialed);
- ``abandon-guard`` (every 30 s), ``alerts-webhook`` (every 15 s), ``callerid-health`` (every 5 min): the abandon
  warnings and progressive fallback, their webhook posts, and caller-ID retirement (``campaigns.abandon_alerts``,
  ``campaigns.callerid``);
- ``reports-daily`` / ``reports-refresh``: the reports' own jobs (``dialer.report_jobs``), not duplicated here.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from campaigns import leases
from campaigns.db import session_scope
from dialer.clock import Clock

log = logging.getLogger(__name__)
FRESHNESS_WARN_DAYS = 7  # warn a week before a registry version stops being usable


@dataclass(frozen=True)
class Job:
    """``run(session, now)`` on an APScheduler trigger; ``lease_s`` must exceed the job's longest run."""

    name: str
    run: Callable[[Session, datetime], object]
    trigger: str  # "interval" | "cron"
    trigger_args: dict = field(default_factory=dict)
    lease_s: float = 600.0
    about: str = ""


@dataclass
class JobRun:
    name: str
    at: datetime
    ran: bool
    result: object = None
    error: str | None = None


class LeasedRunner:
    """Runs a job only while holding its database lease; remembers what happened (here and on the lease row)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, holder: str | None = None,
                 keep: int = 200) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.history: list[JobRun] = []
        self.keep = keep

    def run(self, job: Job) -> JobRun:
        now = self.clock.now()
        with session_scope(self.sessions) as s:
            got = leases.acquire(s, job.name, self.holder, now, job.lease_s)
        if not got:
            return self._remember(JobRun(job.name, now, ran=False))
        record = JobRun(job.name, now, ran=True)
        try:
            with session_scope(self.sessions) as s:
                record.result = job.run(s, now)
        except Exception as e:  # one failing run must not stop the schedule; the next run tries again
            record.error = f"{type(e).__name__}: {e}"
            log.exception("job %s failed", job.name)
        finally:
            with session_scope(self.sessions) as s:
                leases.finish(s, job.name, self.holder, self.clock.now(), _jsonable(record.result), record.error)
        return self._remember(record)

    def _remember(self, record: JobRun) -> JobRun:
        self.history.append(record)
        del self.history[:-self.keep]
        return record


def _jsonable(value: object) -> object:
    """What a run returned, as stored JSON (dataclass reports through ``to_dict``; anything else as text)."""
    if hasattr(value, "to_dict"):
        value = value.to_dict()
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:2000]


def build_scheduler(runner: LeasedRunner, jobs: list[Job], scheduler: BaseScheduler | None = None, *,
                    first_run_now: bool = False) -> BaseScheduler:
    """Add every job with ``max_instances=1`` and ``coalesce`` (a backlog of missed runs collapses to one).

    ``first_run_now``: interval jobs also run once at start, so a worker starting after a pause marks the missed
    callbacks and knows its campaigns' abandon levels at once instead of one interval later (cron jobs keep their hour).
    """
    sched = scheduler or BackgroundScheduler(timezone="UTC")
    for job in jobs:
        extra = {"next_run_time": datetime.now(UTC)} if first_run_now and job.trigger == "interval" else {}
        sched.add_job(runner.run, job.trigger, args=[job], id=job.name, name=job.name, max_instances=1,
                      coalesce=True, misfire_grace_time=60, replace_existing=True, **job.trigger_args, **extra)
    return sched


# --- the worker's jobs ----------------------------------------------------------------------------------------
def callbacks_due(session: Session, now: datetime) -> dict:
    """Callbacks whose time came and went without a dial become "missed" and land in the visible queue."""
    from campaigns.callbacks import mark_missed

    return {"missed": mark_missed(session, now)}


def recycle_leads(session: Session, now: datetime) -> dict:
    from campaigns.recycle import recycle

    return recycle(session, now).to_dict()


def registry_freshness(session: Session, now: datetime, store=None) -> dict:
    """Area codes whose national-registry version is near (``warn``) or past (``expired``) the age limit."""
    from dnc.registry import default_store
    from dnc.rules import current_rules

    limit = current_rules().registry_max_age_days
    snap = (store or default_store()).current()
    if snap is None:
        log.error("no national DNC registry is loaded: nothing can be dialed")
        return {"loaded": False, "limit_days": limit, "warn": {}, "expired": {}}
    today = now.date()
    warn: dict[str, list[str]] = {}
    expired: dict[str, list[str]] = {}
    for npa, cov in sorted(snap.coverage.items()):
        age = (today - cov.version_date).days
        if age > limit:
            expired.setdefault(cov.version_date.isoformat(), []).append(npa)
        elif age >= limit - FRESHNESS_WARN_DAYS:
            warn.setdefault(cov.version_date.isoformat(), []).append(npa)
    for version, npas in warn.items():
        log.warning("national DNC registry version %s (%d area codes) reaches the %d-day limit in %d days: "
                    "load a newer one", version, len(npas), limit,
                    limit - (today - datetime.fromisoformat(version).date()).days)
    for version, npas in expired.items():
        log.error("national DNC registry version %s is past the %d-day limit: %d area codes are not dialed",
                  version, limit, len(npas))
    return {"loaded": True, "limit_days": limit, "warn": warn, "expired": expired}


def abandon_guard(session: Session, now: datetime) -> dict:
    from campaigns.abandon_alerts import check_all

    return check_all(session, now)


def alerts_webhook(session: Session, now: datetime) -> dict:
    from campaigns.abandon_alerts import deliver

    return deliver(session, now)


def callerid_health(session: Session, now: datetime) -> dict:
    from campaigns.callerid import review_all

    return review_all(session, now)


def worker_jobs() -> list[Job]:
    """Every periodic job the dialing worker runs (the reports' jobs included)."""
    from dialer.report_jobs import report_jobs

    return [
        Job("callbacks-due", callbacks_due, "interval", {"seconds": 30}, lease_s=120.0,
            about="callbacks past due and not dialed: marked missed, listed in the queue"),
        Job("leads-recycle", recycle_leads, "interval", {"minutes": 5}, lease_s=300.0,
            about="leads stranded in dialing (no disposition, a dead process) back to the queue"),
        Job("registry-freshness", registry_freshness, "interval", {"hours": 1}, lease_s=300.0,
            about="warn 7 days before a national registry version passes the 31-day limit"),
        Job("abandon-guard", abandon_guard, "interval", {"seconds": 30}, lease_s=120.0,
            about="30-day abandon rate against the 2.5/2.8 % warnings; progressive by itself at the target"),
        Job("alerts-webhook", alerts_webhook, "interval", {"seconds": 15}, lease_s=120.0,
            about="abandon alerts POSTed to each campaign's webhook, failures retried with backoff"),
        Job("callerid-health", callerid_health, "interval", {"minutes": 5}, lease_s=300.0,
            about="caller-ID numbers whose 7-day answer rate fell under the campaign's floor are retired"),
        *report_jobs(),
    ]


def start_worker_scheduler(sessions: sessionmaker[Session], clock: Clock, holder: str | None = None,
                           jobs: list[Job] | None = None) -> BaseScheduler:
    """The worker's background scheduler, started, its interval jobs due at once (call ``shutdown()`` when the
    worker stops). APScheduler's triggers run on the wall clock; each run reads ``now`` from ``clock``."""
    sched = build_scheduler(LeasedRunner(sessions, clock, holder), jobs if jobs is not None else worker_jobs(),
                            first_run_now=True)
    sched.start()
    return sched
