"""A new operator's first mistake: ``dialer db upgrade`` against a PostgreSQL database nobody created yet. The
command creates tables, not the database, so its answer must say to create the database, not to run itself."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import PG_URL


@pytest.mark.skipif(not PG_URL, reason="a missing database is a PostgreSQL matter (SQLite makes its file)")
def test_db_upgrade_on_a_database_not_created_says_to_create_it(dialer, monkeypatch):
    missing = make_url(PG_URL).set(database="opendialer_never_created")
    monkeypatch.setenv("DIALER_DATABASE_URL", missing.render_as_string(hide_password=False))
    r = dialer("db", "upgrade")
    assert r.code == 2
    assert 'database "opendialer_never_created" does not exist' in r.err
    assert "run `dialer db upgrade` first" not in r.err  # what the operator just did
    assert "createdb" in r.err, r.err
