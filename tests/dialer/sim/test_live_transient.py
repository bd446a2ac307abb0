"""``dialer run --carrier sim`` outlives a database that refuses writes for a while (SQLite's busy timeout run out
under a loaded console, a PostgreSQL lock wait given up): it carries on dialing once the database is back."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

from sqlalchemy import event, func, make_url, select

from campaigns.agents.models import Agent
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from dialer.sim import load_scenario
from dialer.sim.live import LiveSimulation
from tests.dialer.sim.test_live import BASE, FakeTime, campaign_with_leads, make_agents

WAIT_MS = 20  # how long the worker waits for a lock before its database says no (the product waits 30 s)
SPEED = 20.0
LOCKED = (5.0, 7.0)  # fake wall seconds: virtual seconds 100 to 140


class Blocker:
    """Another process holding the database's write lock (SQLite) or the agents' and calls' tables (PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url, self.held = url, None

    def take(self) -> None:
        if self.url.startswith("sqlite"):
            self.held = sqlite3.connect(make_url(self.url).database, isolation_level=None)
            self.held.execute("BEGIN IMMEDIATE")
        else:
            self.engine = make_engine(self.url)
            self.held = self.engine.connect()
            self.held.exec_driver_sql("LOCK TABLE agents, calls IN ACCESS EXCLUSIVE MODE")

    def release(self) -> None:
        self.held.rollback()
        self.held.close()
        if not self.url.startswith("sqlite"):
            self.engine.dispose()
        self.held = None


def impatient_sessions(url: str):
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _impatient(dbapi_conn, _record) -> None:  # after the product's own settings
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={WAIT_MS}" if url.startswith("sqlite") else f"SET lock_timeout = {WAIT_MS}")
        cur.close()
        if not url.startswith("sqlite"):
            dbapi_conn.commit()

    return engine, session_factory(engine)


def test_a_database_refusing_writes_for_a_while_does_not_end_the_worker(db_url, clock, caplog):
    now = clock.now()
    engine, sessions = impatient_sessions(db_url)
    cid = campaign_with_leads(sessions, now)
    make_agents(sessions, cid, now)
    fake, blocker = FakeTime(), Blocker(db_url)

    def sleep(s: float) -> None:
        fake.sleep(s)
        if blocker.held is None and LOCKED[0] <= fake.now < LOCKED[1]:
            blocker.take()
        elif blocker.held is not None and fake.now >= LOCKED[1]:
            blocker.release()

    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now)
    try:
        with caplog.at_level(logging.WARNING, logger="dialer.workers"):
            sim.serve(SPEED, lambda: False, until=600, sleep=sleep, monotonic=fake.monotonic)
    finally:
        if blocker.held is not None:
            blocker.release()
    assert sim.transient_errors > 0  # the database did refuse it
    released = now + timedelta(seconds=LOCKED[1] * SPEED)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.placed_at > released)) > 10
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        assert set(s.scalars(select(Agent.state))) == {"offline"}
        # nothing lost nor applied twice: every call an agent talked on was dispositioned once it ended
        assert s.scalar(select(func.count()).select_from(Call).where(
            Call.connected_at.is_not(None), Call.disposition_code.is_(None))) == 0
    said = [r for r in caplog.records if "database" in r.getMessage()]
    assert 1 <= len(said) <= 3, [r.getMessage() for r in said]  # a few lines, not one an event
    engine.dispose()
