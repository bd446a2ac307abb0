"""Database leases so a periodic job runs in one process at a time, even with two schedulers running.

APScheduler's ``max_instances=1`` only guards one process; the lease row guards the database. A lease is taken with
a conditional UPDATE (free or expired), so it is atomic on SQLite and PostgreSQL alike, and it expires on its own
if its holder dies.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.leases.models import JobLease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl_s: float,
            dead: Collection[str] = ()) -> bool:
    """Take the lease ``name`` for ``ttl_s`` seconds if it is free, expired, already ours, or held by one of
    ``dead`` (holders known to be gone before their lease ran out)."""
    until = now + timedelta(seconds=ttl_s)
    if session.get(JobLease, name) is None:
        try:
            with session.begin_nested():
                session.add(JobLease(name=name, holder=holder, expires_at=until))
            return True
        except IntegrityError:
            pass  # another process created it first: fall through to the conditional update
    result = session.execute(
        update(JobLease).where(JobLease.name == name,
                               or_(JobLease.holder.is_(None), JobLease.expires_at <= now, JobLease.holder == holder,
                                   JobLease.holder.in_(list(dead))))
        .values(holder=holder, expires_at=until).execution_options(synchronize_session=False))
    return result.rowcount == 1


def release(session: Session, name: str, holder: str, now: datetime) -> None:
    session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                    .values(holder=None, expires_at=None, last_run_at=now)
                    .execution_options(synchronize_session=False))


def finish(session: Session, name: str, holder: str, now: datetime, result: object = None,
           error: str | None = None) -> None:
    """Release a periodic job's lease and keep what its run returned (``dialer jobs list`` shows it)."""
    session.execute(update(JobLease).where(JobLease.name == name, JobLease.holder == holder)
                    .values(holder=None, expires_at=None, last_run_at=now, last_result=result,
                            last_error=error[:2000] if error else None)
                    .execution_options(synchronize_session=False))


def all_leases(session: Session) -> list[JobLease]:
    return list(session.scalars(select(JobLease).order_by(JobLease.name)))
