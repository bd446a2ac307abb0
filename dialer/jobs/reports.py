"""The reports' scheduler jobs, for the worker's APScheduler (``dialer.jobs.scheduler.build_scheduler``).

- ``reports-daily`` (hourly at :05): store each campaign's day once it has ended in the campaign's time zone.
- ``reports-refresh`` (every minute): absorb new calls into the rollups, so a report never has a backlog to
  catch up on and the change log stays small.
- ``reports-email`` (every 5 minutes): mail the scheduled reports that are due (``campaigns.reports.mailing``)
  through the ``DIALER_SMTP_*`` mail server.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.db import reading
from campaigns.reports.absorb import refresh_unlocked
from campaigns.reports.daily import run_due
from dialer.jobs.scheduler import Job


def refresh_all(session: Session, now: datetime) -> int:
    """Refresh every campaign's rollups; returns how many had changes. Campaign by campaign, each read and
    recomputed with no write lock held and written in a short transaction (``campaigns.reports.absorb``)."""
    with reading(session) as reader:
        ids = reader.scalars(select(Campaign.id).order_by(Campaign.id)).all()
    changed = 0
    for cid in ids:
        stats = refresh_unlocked(session, cid, now)
        changed += bool(stats is not None and stats.wrote)
    return changed


def daily_reports_job() -> Job:
    return Job("reports-daily", run_due, "cron", {"minute": 5}, lease_s=1800.0)


def refresh_job() -> Job:
    return Job("reports-refresh", refresh_all, "interval", {"seconds": 60}, lease_s=600.0)


def mail_due(session: Session, now: datetime) -> dict[str, list[str]]:
    from campaigns.reports.mailing import send_due
    from dnc import settings

    return send_due(session, now, settings.current().smtp)


def mail_job() -> Job:
    return Job("reports-email", mail_due, "interval", {"minutes": 5}, lease_s=1800.0,
               about="scheduled reports (the daily report included) mailed when due")


def report_jobs() -> list[Job]:
    return [daily_reports_job(), refresh_job(), mail_job()]
