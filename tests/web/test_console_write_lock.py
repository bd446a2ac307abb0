"""Finding 1 of issue 15: on SQLite the console never holds the one write lock across slow work.

The product starts every transaction IMMEDIATE (the write lock at BEGIN), so a request that read through it held
the lock for as long as it ran: a sign-in for its whole password check, a floor poll for all its reads. These tests
run the console on a SQLite file with the product's locking and watch the lock from another connection, as the dial
loop in another process would meet it.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

import pytest

from campaigns.accounts.models import User
from campaigns.agents import service as agents
from campaigns.campaign.service import create_campaign, set_status
from campaigns.db import make_engine, session_factory
from tests.web.conftest import PASSWORD, AuthActions

# A deliberately slow password hash (the format keeps its cost in the hash): its check lasts about a second on this
# machine, so a lock held across it is plain to see next to the milliseconds a write transaction needs. The cost is
# measured, not assumed: a fixed iteration count took 0.46 s on a faster machine and the test then judged nothing.
SLOW_CHECK_SECONDS = 1.0


def _iterations_for(seconds: float) -> int:
    import hashlib

    sample = 100_000
    t0 = time.perf_counter()
    hashlib.pbkdf2_hmac("sha256", b"calibrate", b"salt", sample)
    per_iteration = (time.perf_counter() - t0) / sample
    return max(sample, int(seconds / per_iteration))


@pytest.fixture
def immediate_app(request, tmp_path, setenv, clock, app_config):
    """The console on its own SQLite file with the product's IMMEDIATE transactions; returns (app, file)."""
    setenv(DIALER_SQLITE_LOCKING="immediate")
    path = tmp_path / "immediate.sqlite3"
    shutil.copy(request.getfixturevalue("_sqlite_template"), path)
    engine = make_engine(f"sqlite:///{path}")
    sessions = session_factory(engine)
    with sessions() as s:
        from tests.web.conftest import _restore_migration_seed

        _restore_migration_seed(s)
        s.commit()
    from web import create_app

    yield create_app({**app_config, "SESSIONS": sessions}), path, sessions
    engine.dispose()


def _slow_user(sessions, clock) -> None:
    import hashlib

    from campaigns.accounts.users import create_user

    salt = "slowsaltslowsalt"
    iterations = _iterations_for(SLOW_CHECK_SECONDS)
    digest = hashlib.pbkdf2_hmac("sha256", PASSWORD.encode(), salt.encode(), iterations).hex()
    with sessions() as s:
        create_user(s, "slow-manager", "manager", "", clock.now(),
                    password_hash=f"pbkdf2:sha256:{iterations}${salt}${digest}")
        s.commit()


def _probe(path, stop: threading.Event, out: list[tuple[float, bool]]) -> None:
    """Try to take the write lock over and over without waiting; record when it was free and when held."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        while not stop.is_set():
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("ROLLBACK")
                out.append((time.perf_counter(), True))
            except sqlite3.OperationalError:
                out.append((time.perf_counter(), False))
            time.sleep(0.002)
    finally:
        conn.close()


def _longest_held(samples: list[tuple[float, bool]]) -> float:
    longest, since = 0.0, None
    for t, free in samples:
        if not free and since is None:
            since = t
        elif free and since is not None:
            longest, since = max(longest, t - since), None
    return longest


def test_a_sign_in_does_not_hold_the_write_lock_while_it_checks_the_password(immediate_app, clock):
    app, path, sessions = immediate_app
    _slow_user(sessions, clock)
    client = app.test_client()
    token = AuthActions(client).token()
    stop, samples = threading.Event(), []
    probe = threading.Thread(target=_probe, args=(path, stop, samples))
    probe.start()
    try:
        t0 = time.perf_counter()
        r = client.post("/login", data={"username": "slow-manager", "password": PASSWORD, "csrf_token": token})
        took = time.perf_counter() - t0
    finally:
        stop.set()
        probe.join()
    assert r.status_code == 302, r.get_data(as_text=True)
    with sessions() as s:
        assert s.query(User).filter_by(username="slow-manager").one()  # signed in for real
    assert took > SLOW_CHECK_SECONDS / 2, "the password check was meant to be slow"
    checked = [free for t, free in samples if t0 < t < t0 + took]
    assert len(checked) > 50  # the probe really ran during the sign-in
    held = _longest_held(samples)
    assert held < took / 3, f"the write lock was held {held:.2f} s of a {took:.2f} s sign-in"


def test_a_floor_poll_reads_while_another_process_holds_the_write_lock(immediate_app, clock):
    app, path, sessions = immediate_app
    t = clock.now()
    with sessions() as s:
        from campaigns.accounts.users import create_user

        create_user(s, "floor-manager", "manager", "", t, password_hash=_fast_hash())
        c = create_campaign(s, "Spring", "+12125550100", t)
        set_status(s, c, "active", t)
        a = agents.create_agent(s, "ann", t, campaign=c)
        agents.go_ready(s, a.id, t)
        s.commit()
        cid = c.id
    client = app.test_client()
    AuthActions(client).login("floor-manager")
    assert client.get(f"/floor/{cid}/data").status_code == 200  # the rollups are up to date from here on
    writer = sqlite3.connect(path, timeout=0, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # the dial loop, mid-transaction
    done: list[int] = []
    poll = threading.Thread(target=lambda: done.append(client.get(f"/floor/{cid}/data").status_code), daemon=True)
    try:
        poll.start()
        poll.join(timeout=10)
        assert done == [200], "the floor poll waited for the write lock (or failed) instead of only reading"
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        poll.join(timeout=40)


def _fast_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)
