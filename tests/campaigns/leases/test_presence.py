"""A dead worker's campaigns are taken as soon as its presence lock is gone (PostgreSQL), not when its lease ends;
a worker without a presence key, or on SQLite, is judged by its lease alone."""

from __future__ import annotations

import pytest

from campaigns.leases import ownership as shares
from campaigns.leases import presence
from campaigns.leases.models import DialWorker
from tests.campaigns.leases.test_ownership import TTL, campaigns


def beat(session, name, now, mine=frozenset(), key=None):
    shares.heartbeat(session, name, "sim", now, TTL, presence=key)
    got = shares.rebalance(session, name, now, TTL, mine=set(mine))
    session.commit()
    return got


def present(engine, name):
    """What the worker's heartbeat thread does: the lock on a connection of its own."""
    connection = engine.connect()
    key = presence.key_of(name)
    assert presence.hold(connection, key)
    return connection, key


def test_a_killed_workers_campaigns_are_taken_before_its_lease_runs_out(engine, session, clock):
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    ids = campaigns(session, clock.now(), 4)
    connection, key = present(engine, "a")
    a = beat(session, "a", clock.now(), key=key)
    assert a.owned == set(ids)
    b = beat(session, "b", clock.now())
    assert b.owned == set() and b.dead == set()  # a is alive: its campaigns stay with it

    connection.invalidate()  # the process died: its connection is gone, and the lock with it
    clock.advance(1)  # far inside a's 8-second lease
    b = beat(session, "b", clock.now())
    assert b.dead == {"a"} and b.owned == set(ids) and set(b.taken.values()) == {"a"}
    assert session.get(DialWorker, "a").expires_at <= clock.now()  # shown dead on the console and /readyz
    clock.advance(1)
    c = beat(session, "c", clock.now())
    assert c.dead == set()  # told once; the row is expired now, like any dead worker's


def test_a_live_worker_holding_its_lock_keeps_its_campaigns_and_two_survivors_take_each_campaign_once(
        engine, sessions, session, clock):
    if engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    ids = campaigns(session, clock.now(), 4)
    connection, key = present(engine, "a")
    assert beat(session, "a", clock.now(), key=key).owned == set(ids)
    kept, _ = present(engine, "b")
    try:
        for _ in range(3):
            clock.advance(1)
            assert beat(session, "b", clock.now()).owned == set()  # a's lock is held: nothing is taken from it
        connection.invalidate()  # died
        clock.advance(1)
        with sessions() as s1, sessions() as s2:  # two survivors on the same pass
            shares.heartbeat(s1, "b", "sim", clock.now(), TTL)
            shares.heartbeat(s2, "c", "sim", clock.now(), TTL)
            s1.commit()
            s2.commit()
            got_b = shares.rebalance(s1, "b", clock.now(), TTL, mine=set())
            s1.commit()
            got_c = shares.rebalance(s2, "c", clock.now(), TTL, mine=set())
            s2.commit()
        assert got_b.owned | got_c.owned == set(ids) and not got_b.owned & got_c.owned
    finally:
        kept.invalidate()


def test_without_a_presence_key_or_on_sqlite_only_the_lease_counts(engine, session, clock):
    ids = campaigns(session, clock.now(), 2)
    # on PostgreSQL: a worker that wrote no key; on SQLite: one that wrote a key nobody can check
    key = None if engine.dialect.name == "postgresql" else presence.key_of("a")
    assert beat(session, "a", clock.now(), key=key).owned == set(ids)
    clock.advance(TTL - 1)
    b = beat(session, "b", clock.now())
    assert b.owned == set() and b.dead == set()
    clock.advance(2)  # now its lease has run out
    assert beat(session, "b", clock.now()).owned == set(ids)
