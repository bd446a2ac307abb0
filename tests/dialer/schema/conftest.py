"""An empty database of its own for a migration test: SQLite, and PostgreSQL when the suite has one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from campaigns.db import make_engine

MIGRATION_DB = "dialer_migration_test"


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
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {MIGRATION_DB}"))
    engine = make_engine(PG_URL.rsplit("/", 1)[0] + f"/{MIGRATION_DB}")
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {MIGRATION_DB} WITH (FORCE)"))
    admin.dispose()
