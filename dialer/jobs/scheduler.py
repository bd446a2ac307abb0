"""Periodic work on APScheduler, run under database leases so each job runs in one process at a time.

A job never runs twice at once: APScheduler's ``max_instances=1`` and ``coalesce`` guard one process, and a lease
row in the database (``campaigns.leases.service``) guards against a second worker or a second scheduler process.
Every job receives ``now`` from the injected clock, so the same jobs run in tests on a ``ManualClock``. What each run
returned (or why it failed) stays on its lease row: ``dialer jobs list`` shows it.

Which jobs the worker runs is ``dialer.jobs.catalog``'s business.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from campaigns.leases import service as leases
from dialer.clock import Clock
from dialer.observe import metrics

log = logging.getLogger(__name__)


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
            metrics.job_ran(job.name, "skipped")
            return self._remember(JobRun(job.name, now, ran=False))
        record = JobRun(job.name, now, ran=True)
        started = time.perf_counter()
        try:
            with session_scope(self.sessions) as s:
                record.result = job.run(s, now)
        except Exception as e:  # one failing run must not stop the schedule; the next run tries again
            record.error = f"{type(e).__name__}: {e}"
            log.exception("job %s failed", job.name)
        finally:
            with session_scope(self.sessions) as s:
                leases.finish(s, job.name, self.holder, self.clock.now(), _jsonable(record.result), record.error)
            metrics.job_ran(job.name, "error" if record.error else "ok", time.perf_counter() - started)
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
