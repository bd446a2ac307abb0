"""Every periodic job the dialing worker runs, in one list (``dialer jobs list`` shows them with their last run).

- ``callbacks-due`` (every 30 s): callbacks whose time came and went without a dial are marked missed and listed
  in the missed-callback queue (``campaigns.callbacks.service.mark_missed``; the lead stays callable);
- ``leads-recycle`` (every 5 min): stranded ``dialing`` leads back to the queue (``campaigns.dispatch.recycle``);
- ``registry-freshness`` (hourly): a warning for every area code whose national-registry version is within 7 days
  of the 31-day limit (and an error past it: those numbers are not dialed);
- ``registry-sync@HOST`` (every minute, one per host and registry directory): fetch the registry generation in force
  from the database when this host lacks it (``dnc.registry``);
- ``abandon-guard`` (every 30 s), ``alerts-webhook`` (every 15 s), ``callerid-health`` (every 5 min): the abandon
  warnings and progressive fallback, their webhook posts, and caller-ID retirement (``campaigns.alerts.service``,
  ``campaigns.callerid.service``);
- ``reports-daily`` / ``reports-refresh``: the reports' own jobs (``dialer.jobs.reports``).
"""

from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.jobs.compliance import registry_freshness, registry_sync, registry_sync_name
from dialer.jobs.floor import abandon_guard, alerts_webhook, callbacks_due, callerid_health, recycle_leads
from dialer.jobs.scheduler import Job, LeasedRunner, build_scheduler


def worker_jobs() -> list[Job]:
    """Every periodic job the dialing worker runs (the reports' jobs included)."""
    from dialer.jobs.reports import report_jobs

    return [
        Job("callbacks-due", callbacks_due, "interval", {"seconds": 30}, lease_s=120.0,
            about="callbacks past due and not dialed: marked missed, listed in the queue"),
        Job("leads-recycle", recycle_leads, "interval", {"minutes": 5}, lease_s=300.0,
            about="leads stranded in dialing (no disposition, a dead process) back to the queue"),
        Job("registry-freshness", registry_freshness, "interval", {"hours": 1}, lease_s=300.0,
            about="warn 7 days before a national registry version passes the 31-day limit"),
        Job(registry_sync_name(), registry_sync, "interval", {"minutes": 1}, lease_s=1800.0,
            about="this host fetches the national registry snapshot in force when it lacks it; prunes old ones"),
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
