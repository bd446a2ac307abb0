"""Shared fixtures: a migrated database per test on SQLite and (when configured) PostgreSQL, a manual clock,
and an in-process ``dialer`` runner.

Migrations run once per session per backend (the same Alembic migrations the product uses, never
``create_all``); each test then gets a fresh copy (SQLite) or freshly truncated tables (PostgreSQL).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from campaigns.accounts import passwords
from campaigns.db import make_engine, session_factory
from dialer.clock import ManualClock
from dialer.schema.migrate import upgrade
from dnc import settings

# SQLite runs with the product's own locking (campaigns/db.py: every transaction BEGIN IMMEDIATE), whatever the
# environment says: a test that holds a session open while it drives the CLI or the app must commit (or close) it
# first, as the product's processes do. ``DIALER_SQLITE_LOCKING=deferred`` stays for an operator's own scripts.
os.environ["DIALER_SQLITE_LOCKING"] = "immediate"
PG_URL = os.environ.get("DIALER_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def pytest_configure(config) -> None:
    """In CI (``CI=true``, as CI services set it) the PostgreSQL tests must run: without a PostgreSQL to run them
    on, the suite fails at once instead of skipping them and passing green."""
    if os.environ.get("CI", "").lower() in ("true", "1") and not PG_URL:
        raise pytest.UsageError("CI is set but DIALER_TEST_DATABASE_URL is not: the PostgreSQL tests would be "
                                "skipped (start PostgreSQL and set it, as .ci/run does)")
START = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York


# Password hashes in tests cost N=2^12 (4 MB, a few milliseconds) instead of the product's N=2^17 (128 MB, ~0.5 s):
# the suite signs in thousands of times and would spend a quarter of its run in scrypt. Hashing is still the real
# scrypt; the tests of the product's cost itself ask for it with ``product_password_cost``. Processes a test starts
# (gunicorn, workers) keep the product's cost: a fixture hash signs in there and is stored again at it.
TEST_SCRYPT_N = 2 ** 12
PRODUCT_SCRYPT_N = passwords.N


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes():
    passwords.N = TEST_SCRYPT_N
    yield
    passwords.N = PRODUCT_SCRYPT_N


@pytest.fixture
def product_password_cost(monkeypatch):
    """The product's scrypt cost, for the tests that check new hashes have it and older ones are stored again."""
    monkeypatch.setattr(passwords, "N", PRODUCT_SCRYPT_N)


@pytest.fixture(autouse=True)
def _settings():
    """Each test starts from the environment's settings (as a new process would) and leaves no override behind."""
    before = settings.load()
    yield
    settings.use(before)


@pytest.fixture
def setenv(monkeypatch):
    """Set environment variables for this test and re-read the settings, as a process starting now would."""

    def set_(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings.load()

    return set_


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _pg_engine():
    engine = make_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate(engine) -> None:
    with engine.begin() as conn:
        names = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if names:
            conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """URL of a migrated, empty database (one per test)."""
    if request.param == "sqlite":
        path = tmp_path / "dialer.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    _truncate(request.getfixturevalue("_pg_engine"))
    return PG_URL


@pytest.fixture
def engine(db_url):
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine):
    return session_factory(engine)


@pytest.fixture
def session(sessions):
    s = sessions()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def clock():
    return ManualClock(START)


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def dialer(db_url, capsys, monkeypatch, tmp_path):
    """Run ``dialer ARGS`` in-process against the test database; returns code, stdout, stderr."""
    from dialer.cli import main

    monkeypatch.setenv("DIALER_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def product_engine(db_url, setenv):
    """An engine on the test database with the product's own SQLite locking (IMMEDIATE transactions): for tests
    whose writers run at the same moment, as the product's processes do."""
    setenv(DIALER_SQLITE_LOCKING="immediate")
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
