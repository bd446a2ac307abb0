"""What every view needs: the database session of this request and the clock.

One SQLAlchemy session per request (opened on first use, closed at teardown, rolled back unless a view committed),
so views stay thin: parse, call a service with ``db()`` and ``now()``, commit, render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import make_engine, session_factory
from dialer.clock import Clock, SystemClock
from dnc.registry.snapshot import Store, default_store


class ScaledClock:
    """Wall-clock time running ``speed`` times faster from ``anchor`` on: the console of a demo whose simulated
    worker (``dialer run --speed N``) writes accelerated times must read the same clock, or every "for how long"
    and every "today" would be off. Configured by ``DIALER_CLOCK_ANCHOR`` (ISO instant) and ``DIALER_CLOCK_SPEED``."""

    def __init__(self, anchor: datetime, speed: float) -> None:
        if anchor.tzinfo is None:
            raise ValueError("the clock anchor needs a UTC offset")
        self.anchor, self.speed = anchor, speed

    def now(self) -> datetime:
        return self.anchor + (datetime.now(UTC) - self.anchor) * self.speed


@dataclass
class Console:
    sessions: sessionmaker[Session]
    clock: Clock
    dnc_store: Store  # the national-registry snapshots the scrub and the gate read (``DIALER_DNC_DIR``)


def init_context(app: Flask) -> Console:
    sessions = app.config.get("SESSIONS")
    if sessions is None:
        sessions = session_factory(make_engine(app.config.get("DATABASE_URL")))
    store = Store(app.config["DNC_DIR"]) if app.config.get("DNC_DIR") else default_store()
    console = Console(sessions=sessions, clock=app.config.get("CLOCK") or _clock(app), dnc_store=store)
    app.extensions["console"] = console

    @app.teardown_appcontext
    def _close(_exc) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.rollback()
            session.close()

    return console


def _clock(app: Flask) -> Clock:
    speed, anchor = app.config.get("CLOCK_SPEED"), app.config.get("CLOCK_ANCHOR")
    if speed and anchor:
        return ScaledClock(datetime.fromisoformat(anchor), float(speed))
    return SystemClock()


def console() -> Console:
    return current_app.extensions["console"]


def db() -> Session:
    """This request's session (commit it in the view that changes something)."""
    if "db" not in g:
        g.db = console().sessions()
    return g.db


def release_db() -> None:
    """Commit and close this request's session early, before work that opens its own (an inline import): on
    SQLite every transaction holds the one write lock, so a second session in the same request would wait on us."""
    session = g.pop("db", None)
    if session is not None:
        session.commit()
        session.close()


def now() -> datetime:
    return console().clock.now()
