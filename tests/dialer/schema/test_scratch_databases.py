"""The migration tests' scratch PostgreSQL databases belong to their test session: two sessions on one server (two
helpers, CI and a developer) must not drop each other's database in the middle of a migration."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL

FIXED = "dialer_migration_test"  # the name every session used


@pytest.fixture
def another_sessions_database():
    """A scratch database another session is migrating at this moment (a connection open on it)."""
    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (DIALER_TEST_DATABASE_URL)")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {FIXED} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {FIXED}"))
    other = create_engine(PG_URL.rsplit("/", 1)[0] + f"/{FIXED}")
    held = other.connect()
    yield held
    held.close()
    other.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {FIXED} WITH (FORCE)"))
    admin.dispose()


@pytest.mark.parametrize("old_engine", ["postgresql"], indirect=True)
def test_a_scratch_database_leaves_another_sessions_alone(another_sessions_database, old_engine):
    assert another_sessions_database.execute(text("SELECT 1")).scalar() == 1  # its connection was not cut
    assert old_engine.url.database != FIXED
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
