"""Every periodic job the dialing worker runs, in one list (``dialer jobs list`` shows them with their last run).

- ``callbacks-due`` (every 30 s): callbacks whose time came and went without a dial are marked missed and listed
  in the missed-callback queue (``campaigns.callbacks.service.mark_missed``; the lead stays callable);
- ``wrap-limits`` (every 5 s): a person's seat in wrap-up past its campaign's wrap-up limit goes ready or paused;
- ``leads-recycle`` (every 5 min): stranded ``dialing`` leads back to the queue (``campaigns.dispatch.recycle``);
- ``registry-freshness`` (hourly): a warning for every area code whose national-registry version is within 7 days
  of the 31-day limit (and an error past it: those numbers are not dialed);
- ``rnd-freshness`` (hourly): the same for the Reassigned Numbers Database data (calls resting on consent wait once
  they are too old);
- ``registry-sync@HOST`` (every minute, one per host and registry directory): fetch the registry generation in force
  from the database when this host lacks it (``dnc.registry``);
- ``reconciliation-verdicts`` (every minute): every new call judged against what was in force when it was placed,
  so the reconciliation and window-exception pages only read (``campaigns.compliance.verdicts``);
- ``abandon-guard`` (every 30 s), ``alerts-webhook`` (every 15 s), ``callerid-health`` (every 5 min): the abandon
  warnings and progressive fallback, their webhook posts, and caller-ID retirement (``campaigns.alerts.service``,
  ``campaigns.callerid.service``);
- ``reports-daily`` / ``reports-refresh`` / ``reports-email``: the reports' own jobs (``dialer.jobs.reports``).
"""

from __future__ import annotations

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from campaigns.alerts.service import CHECK_EVERY_S
from dialer.clock import Clock
from dialer.jobs.compliance import (
    reconciliation_verdicts,
    registry_freshness,
    registry_sync,
    registry_sync_name,
    rnd_freshness,
)
from dialer.jobs.floor import (
    abandon_guard,
    alerts_webhook,
    callbacks_due,
    callerid_health,
    recycle_leads,
    seats_unattended,
    wrap_limits,
)
from dialer.jobs.scheduler import Job, LeasedRunner, build_scheduler
from dnc import settings


def worker_jobs() -> list[Job]:
    """Every periodic job the dialing worker runs (the reports' jobs included)."""
    from dialer.jobs.reports import report_jobs

    return [
        Job("callbacks-due", callbacks_due, "interval", {"seconds": 30}, lease_s=120.0,
            about="callbacks past due and not dialed: marked missed, listed in the queue"),
        Job("wrap-limits", wrap_limits, "interval", {"seconds": 5}, lease_s=60.0,
            about="seats in wrap-up past their campaign's limit go ready or paused, as the campaign says"),
        Job("seats-unattended", seats_unattended, "interval", {"seconds": 10}, lease_s=60.0,
            about="a person's seat with no console session seen for 45 s (signed out, expired, page closed) goes "
                  "offline, so no customer is connected to an empty seat"),
        Job("leads-recycle", recycle_leads, "interval", {"minutes": 5}, lease_s=300.0,
            about="leads stranded in dialing (no disposition, a dead process) back to the queue"),
        Job("registry-freshness", registry_freshness, "interval", {"hours": 1}, lease_s=300.0,
            about="warn 7 days before a national registry version passes the 31-day limit"),
        Job("rnd-freshness", rnd_freshness, "interval", {"hours": 1}, lease_s=300.0,
            about="warn 7 days before the Reassigned Numbers Database data pass their age limit"),
        Job(registry_sync_name(), registry_sync, "interval", {"minutes": 1}, lease_s=1800.0,
            about="this host fetches the national registry snapshot in force when it lacks it; prunes old ones"),
        Job("reconciliation-verdicts", reconciliation_verdicts, "interval", {"minutes": 1}, lease_s=1800.0,
            about="every new call judged against the rules in force when placed (the auditor's reconciliation)"),
        Job("abandon-guard", abandon_guard, "interval", {"seconds": CHECK_EVERY_S}, lease_s=120.0,
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
    worker stops). APScheduler's triggers run on the wall clock; each run reads ``now`` from ``clock``.

    On SQLite the jobs run one at a time. Every transaction there takes the file's one write lock (``BEGIN
    IMMEDIATE``), and the worker used to start its dozen interval jobs together on ten threads at the moment its
    dial loop took its campaigns: the loop's first writes (the lease, the first claim) queued behind them, and
    SQLite's busy wait is not first come, first served. Under a heavy load the loop then neither renewed its lease
    nor published a decision for seconds, and the floor asked "is the dialer worker running?" (issue 16). One job
    thread keeps the loop behind at most one job's transaction; PostgreSQL, with no such lock, keeps the pool. And
    no job holds that lock while it reads or computes: each reads through ``campaigns.db.reading`` and writes what
    it found in short transactions, re-checking what may have changed meanwhile (``dialer bench jobs-contention``).
    """
    jobs = jobs if jobs is not None else worker_jobs()
    if any(j.name == "reports-email" for j in jobs):
        # a wrong mail setting (DIALER_SMTP_*) stops the worker here, naming it (``dialer`` exits 2), instead of
        # failing the mail job every five minutes in a result nobody reads
        settings.current().smtp  # noqa: B018  (reading it is the check)
    one_writer = sessions.kw["bind"].dialect.name == "sqlite"
    scheduler = BackgroundScheduler(timezone="UTC", executors={"default": ThreadPoolExecutor(1)}) \
        if one_writer else None
    sched = build_scheduler(LeasedRunner(sessions, clock, holder), jobs, scheduler, first_run_now=True)
    sched.start()
    return sched
