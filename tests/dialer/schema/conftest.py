"""An empty database of its own for a migration test: SQLite, and PostgreSQL when the suite has one.

A PostgreSQL scratch database is named for this test session (``SESSION``, drawn once per process) and dropped after
its test: two sessions on one server (two people, CI) each drop only their own, never one another's mid-migration."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from campaigns.db import make_engine

SESSION = secrets.token_hex(6)  # a module is imported once per session: one tag for all its scratch databases


@contextmanager
def scratch_database(kind: str) -> Iterator[str]:
    """The URL of a new empty PostgreSQL database ``dialer_KIND_SESSION`` beside the test database, dropped after."""
    from tests.conftest import PG_URL

    assert PG_URL
    name = f"dialer_{kind}_{SESSION}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))  # this session's, left by a failure
            conn.execute(text(f"CREATE DATABASE {name}"))
        yield PG_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def old_engine(request, tmp_path):
    """An engine on an empty database (dropped after, on PostgreSQL): the test upgrades it to the revision it needs,
    writes rows as an older release wrote them, then upgrades it to the head."""
    from tests.conftest import PG_URL

    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (DIALER_TEST_DATABASE_URL)")
    with scratch_database("migration") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()
