"""Periodic work on APScheduler: callbacks coming due, lead recycling, registry freshness warnings, nightly reports,
stale-call reconciliation.

A job never runs twice at once: APScheduler's ``max_instances=1`` and ``coalesce`` guard one process, and a lease
row in the database (``campaigns.leases``) guards against a second worker or a second scheduler process. Every job
receives ``now`` from the injected clock, so the same jobs run in tests on a ``ManualClock``.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from campaigns import leases
from campaigns.db import session_scope
from dialer.clock import Clock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """``run(session, now)`` on an APScheduler trigger; ``lease_s`` must exceed the job's longest run."""

    name: str
    run: Callable[[Session, datetime], object]
    trigger: str  # "interval" | "cron"
    trigger_args: dict = field(default_factory=dict)
    lease_s: float = 600.0


@dataclass
class JobRun:
    name: str
    at: datetime
    ran: bool
    result: object = None
    error: str | None = None


class LeasedRunner:
    """Runs a job only while holding its database lease; remembers what happened for ``dialer`` status output."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, holder: str | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}"
        self.history: list[JobRun] = []

    def run(self, job: Job) -> JobRun:
        now = self.clock.now()
        with session_scope(self.sessions) as s:
            got = leases.acquire(s, job.name, self.holder, now, job.lease_s)
        if not got:
            record = JobRun(job.name, now, ran=False)
            self.history.append(record)
            return record
        record = JobRun(job.name, now, ran=True)
        try:
            with session_scope(self.sessions) as s:
                record.result = job.run(s, now)
        except Exception as e:  # one failing run must not stop the schedule; the next run tries again
            record.error = f"{type(e).__name__}: {e}"
            log.exception("job %s failed", job.name)
        finally:
            with session_scope(self.sessions) as s:
                leases.release(s, job.name, self.holder, self.clock.now())
        self.history.append(record)
        return record


def build_scheduler(runner: LeasedRunner, jobs: list[Job], scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """Add every job with ``max_instances=1`` and ``coalesce`` (a backlog of missed runs collapses to one)."""
    sched = scheduler or BackgroundScheduler(timezone="UTC")
    for job in jobs:
        sched.add_job(runner.run, job.trigger, args=[job], id=job.name, name=job.name, max_instances=1,
                      coalesce=True, misfire_grace_time=60, replace_existing=True, **job.trigger_args)
    return sched
