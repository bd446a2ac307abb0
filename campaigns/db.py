"""Engine and session plumbing shared by every package that stores data.

It sits in ``campaigns`` because that is the lowest package whose users (``dialer``, ``web``) may all import it
without a cycle. ``dnc`` imports nothing of ours, so it keeps its own declarative base and receives sessions
from its callers. The schema itself is owned by the Alembic migrations in ``dialer/migrations``; nothing here
calls ``create_all``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from dnc import settings
from dnc.db import NAMING


class Base(DeclarativeBase):
    """Declarative base of the campaign, lead, call and agent tables."""

    metadata = MetaData(naming_convention=NAMING)


DEFAULT_SQLITE_PATH = Path("var") / "dialer.sqlite3"


def database_url(explicit: str | None = None) -> str:
    """The configured database: an explicit URL, else ``DIALER_DATABASE_URL``, else SQLite under ``./var/``."""
    url = explicit or settings.current().database_url
    if url:
        return url
    DEFAULT_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_autocommit_driver(dbapi_conn, _record) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event below instead of pysqlite's implicit BEGIN.
    dbapi_conn.isolation_level = None


def _sqlite_begin_immediate(conn) -> None:
    """Take SQLite's write lock when a transaction starts, not at its first write.

    A deferred transaction that read first and then writes cannot wait for a lock held by another process:
    SQLite fails it at once with "database is locked" whatever the busy timeout. The worker, the console and the
    webhooks all write the same file, so every transaction starts IMMEDIATE and waits its turn (WAL keeps plain
    readers unblocked).
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys, a busy timeout and write-locking transactions so
    several processes (worker, console, webhooks) can share one file."""
    url = database_url(url)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        if settings.current().sqlite_locking == "immediate":
            event.listen(engine, "connect", _sqlite_autocommit_driver)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
