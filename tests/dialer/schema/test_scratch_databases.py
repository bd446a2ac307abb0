"""The migration tests' scratch PostgreSQL databases belong to their test session: two sessions on one server (two
helpers, CI and a developer) must not drop each other's database in the middle of a migration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL

ROOT = Path(__file__).resolve().parents[3]
OTHER = "dialer_migration_0th3r5e55i0n"  # what another session's tag makes of the name (never this session's)


def test_each_session_draws_its_own_tag():
    """The scratch names carry a tag drawn once per test session: another session (another process) draws another."""
    from tests.dialer.schema.conftest import SESSION

    other = subprocess.run([sys.executable, "-c", "from tests.dialer.schema.conftest import SESSION; print(SESSION)"],
                           capture_output=True, text=True, check=True, cwd=ROOT).stdout.strip()
    assert len(other) == len(SESSION) == 12 and other != SESSION


@pytest.fixture
def another_sessions_database():
    """A scratch database another session is migrating at this moment (a connection open on it). Named as another
    session names its own: the fixed name every session once used would cut an older checkout's run short here."""
    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (DIALER_TEST_DATABASE_URL)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {OTHER} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {OTHER}"))
    other = create_engine(PG_URL.rsplit("/", 1)[0] + f"/{OTHER}")
    held = other.connect()
    yield held
    held.close()
    other.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {OTHER} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.parametrize("old_engine", ["postgresql"], indirect=True)
def test_a_scratch_database_leaves_another_sessions_alone(another_sessions_database, old_engine):
    from tests.dialer.schema.conftest import SESSION

    assert another_sessions_database.execute(text("SELECT 1")).scalar() == 1  # its connection was not cut
    assert old_engine.url.database == f"dialer_migration_{SESSION}"
    with old_engine.connect() as conn:
        assert conn.execute(text("SELECT current_database()")).scalar() == old_engine.url.database


def test_a_scratch_database_is_dropped_after_its_test():
    from tests.dialer.schema.conftest import scratch_database

    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (DIALER_TEST_DATABASE_URL)")
    with scratch_database("dropped") as url:
        name = url.rsplit("/", 1)[1]
        assert name.startswith("dialer_dropped_")
        create_engine(url).dispose()
    admin = create_engine(PG_URL)
    with admin.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": name}).scalar() == 0
    admin.dispose()
