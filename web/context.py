"""What every view needs: the database session of this request and the clock.

One SQLAlchemy session per request (opened on first use, closed at teardown, rolled back unless a view committed),
so views stay thin: parse, call a service with ``db()`` and ``now()``, commit, render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app, g
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import make_engine, read_engine, session_factory
from dialer.clock import Clock, ScaledClock, SystemClock, clock_from_env  # noqa: F401  (ScaledClock: re-exported)
from dnc.errors import UserError
from dnc.registry.snapshot import Store, default_store


@dataclass
class Console:
    sessions: sessionmaker[Session]
    clock: Clock
    dnc_store: Store  # the national-registry snapshots the scrub and the gate read (``DIALER_DNC_DIR``)
    readers: sessionmaker[Session] | None = None  # sessions that never hold SQLite's write lock while they read


def init_context(app: Flask) -> Console:
    sessions = app.config.get("SESSIONS")
    if sessions is None:
        sessions = session_factory(make_engine(app.config.get("DATABASE_URL")))
    store = Store(app.config["DNC_DIR"]) if app.config.get("DNC_DIR") else default_store()
    console = Console(sessions=sessions, clock=app.config.get("CLOCK") or _clock(app), dnc_store=store,
                      readers=session_factory(read_engine(sessions.kw["bind"])))
    app.extensions["console"] = console
    # how many clock seconds pass per real second (the demo's speed; 1 otherwise): the pages' own timers use it
    app.jinja_env.globals["clock_speed"] = float(getattr(console.clock, "speed", 1.0) or 1.0)

    @app.teardown_appcontext
    def _close(_exc) -> None:
        for name in ("db", "reads"):
            session = g.pop(name, None)
            if session is not None:
                session.rollback()
                session.close()

    return console


def _clock(app: Flask) -> Clock:
    speed, anchor, start = app.config.get("CLOCK_SPEED"), app.config.get("CLOCK_ANCHOR"), app.config.get("CLOCK_START")
    if speed and anchor:  # given by the app's config (tests); otherwise the settings' demo clock, if any
        return ScaledClock(datetime.fromisoformat(anchor), float(speed),
                           datetime.fromisoformat(start) if start else None)
    try:
        return clock_from_env()
    except ValueError as e:
        raise UserError(str(e)) from None


def console() -> Console:
    return current_app.extensions["console"]


def db() -> Session:
    """This request's session (commit it in the view that changes something)."""
    if "db" not in g:
        g.db = console().sessions()
    return g.db


def reads() -> Session:
    """This request's session for reading only (the floor's poll, a sign-in's look-ups): on SQLite it holds no lock,
    so slow reads never stall the dial loop's writes; write through ``db()``."""
    if "reads" not in g:
        g.reads = console().readers()
    return g.reads


def release_db() -> None:
    """Commit and close this request's session early, before work that opens its own (an inline import): on
    SQLite every transaction holds the one write lock, so a second session in the same request would wait on us."""
    session = g.pop("db", None)
    if session is not None:
        session.commit()
        session.close()


def now() -> datetime:
    return console().clock.now()
