"""Wake the dialing workers when something they act on within the 2 seconds is written by another process.

A stored Twilio callback (the webhooks process) or an agent going ready (the console) must reach the worker that
owns the campaign at once, not at its next poll. On PostgreSQL the writer's transaction sends a NOTIFY on
``dialer_wake``; it is delivered when (and only if) that transaction commits, so a woken worker always finds the
row. The worker LISTENs (``dialer.loop.wake``) and keeps polling as the fallback; SQLite has no such channel and
the worker polls it (one worker per SQLite file, on the same host).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

CHANNEL = "dialer_wake"


def notify(session: Session, what: str) -> None:
    """Queue a wake-up for commit (PostgreSQL only; a no-op elsewhere). ``what``: ``callback`` or ``agent``."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_notify(:channel, :what)"), {"channel": CHANNEL, "what": what})
