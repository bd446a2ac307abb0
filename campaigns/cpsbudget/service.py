"""The account's calls-per-second limit as one send clock in the database, shared by every worker.

Twilio counts calls per account, not per process, so the limit cannot live in a worker's memory once several
workers dial for one account. Each account has a row holding ``next_at``, the earliest moment its next call may be
sent. ``reserve`` books up to ``n`` send slots spaced ``1 / rate`` seconds apart from ``max(next_at, now)`` on (none
later than ``now + horizon_s``) and moves ``next_at`` past them, in one short transaction:

- the row is updated with a compare-and-set (``WHERE next_at = <what we read>``): on PostgreSQL a concurrent booking
  makes ours match no row and we read again, on SQLite the single writer serializes bookings;
- slots are evenly spaced, so whoever books them, the account's calls are at least ``1 / rate`` apart: any second
  holds at most ``rate`` of them, and a single busy worker can take every slot when nobody else wants one;
- a slot nobody books is gone (the clock starts from ``now`` again): saving up for a burst is what Twilio would
  queue.

``give_back`` returns the tail of a booking that went unused (fewer leads than slots), when nobody booked after it.
Callers pass the same ``rate`` for one account (the dialer takes it from ``TWILIO_CPS``); times come from the
injected clock, so workers on several hosts need synchronized clocks (NTP), as their leases already do.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.cpsbudget.models import CpsBudget

CAS_TRIES = 50


def book(next_at: datetime | None, now: datetime, n: int, rate: float,
         horizon_s: float) -> tuple[list[datetime], datetime | None]:
    """The pure rule: up to ``n`` slots ``1 / rate`` apart from ``max(next_at, now)``, none after ``now +
    horizon_s``; returns them and the clock's new ``next_at`` (unchanged when none fits)."""
    if rate <= 0:
        raise ValueError("rate must be positive")
    gap = timedelta(seconds=1.0 / rate)
    start = now if next_at is None or next_at < now else next_at
    room = (now + timedelta(seconds=horizon_s) - start) / gap
    k = min(n, math.floor(room + 1e-9) + 1) if room >= -1e-9 else 0
    if k <= 0:
        return [], next_at
    return [start + i * gap for i in range(k)], start + k * gap


def reserve(session: Session, account: str, n: int, now: datetime, rate: float,
            horizon_s: float = 1.0) -> list[datetime]:
    """Book up to ``n`` send slots for ``account`` (fewer, or none, when the clock is booked beyond the horizon).
    Commit soon: on SQLite the booking holds the write lock until then."""
    if n <= 0:
        return []
    for _ in range(CAS_TRIES):
        seen = session.scalar(select(CpsBudget.next_at).where(CpsBudget.account == account))
        if seen is None and not _create(session, account, now):
            continue  # another worker created the row first: read it
        if seen is None:
            seen = now
        slots, after = book(seen, now, n, rate, horizon_s)
        if not slots:
            return []
        done = session.execute(update(CpsBudget).where(CpsBudget.account == account, CpsBudget.next_at == seen)
                               .values(next_at=after).execution_options(synchronize_session=False))
        if done.rowcount == 1:
            return slots
    raise RuntimeError(f"could not book a send slot for {account} after {CAS_TRIES} tries")


def give_back(session: Session, account: str, unused: list[datetime], rate: float) -> bool:
    """Return the unused tail of a booking (``unused``: its last slots, in order) if nothing was booked after it."""
    if not unused:
        return False
    end = unused[-1] + timedelta(seconds=1.0 / rate)
    done = session.execute(update(CpsBudget).where(CpsBudget.account == account, CpsBudget.next_at == end)
                           .values(next_at=unused[0]).execution_options(synchronize_session=False))
    return done.rowcount == 1


def next_free(session: Session, account: str) -> datetime | None:
    """When the account's next slot is (None: never booked); what the console and the metrics can show."""
    return session.scalar(select(CpsBudget.next_at).where(CpsBudget.account == account))


def _create(session: Session, account: str, now: datetime) -> bool:
    try:
        with session.begin_nested():
            session.add(CpsBudget(account=account, next_at=now))
        return True
    except IntegrityError:
        return False
