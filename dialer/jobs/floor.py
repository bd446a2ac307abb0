"""The floor's periodic jobs: missed callbacks, stranded leads, abandon warnings and their webhook, caller-ID health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session


# --- the worker's jobs ----------------------------------------------------------------------------------------
def callbacks_due(session: Session, now: datetime) -> dict:
    """Callbacks whose time came and went without a dial become "missed" and land in the visible queue."""
    from campaigns.callbacks.service import mark_missed

    return {"missed": mark_missed(session, now)}


def wrap_limits(session: Session, now: datetime) -> dict:
    """Seats in wrap-up past their campaign's limit go ready or paused, as the campaign says."""
    from campaigns.agents.wrap import end_overdue_wraps

    return {"moved": end_overdue_wraps(session, now)}


def recycle_leads(session: Session, now: datetime) -> dict:
    """The leads table is searched with no write lock held (``campaigns.db.reading``); only the leads found are
    checked again and moved in the job's transaction."""
    from campaigns.db import reading
    from campaigns.dispatch.recycle import RecycleReport, recycle, stranded

    with reading(session) as reader:
        found = stranded(reader)
    return (recycle(session, now, among=found) if found else RecycleReport()).to_dict()


def abandon_guard(session: Session, now: datetime) -> dict:
    from campaigns.alerts.service import check_all

    return check_all(session, now)


def alerts_webhook(session: Session, now: datetime) -> dict:
    from campaigns.alerts.service import deliver

    return deliver(session, now)


def callerid_health(session: Session, now: datetime) -> dict:
    from campaigns.callerid.service import review_all

    return review_all(session, now)


def seats_unattended(session: Session, now: datetime) -> dict:
    from campaigns.accounts.sessions import unattended_seats

    return {"offline": len(unattended_seats(session, now))}
