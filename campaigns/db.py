"""Engine and session plumbing shared by every package that stores data.

It sits in ``campaigns`` because that is the lowest package whose users (``dialer``, ``web``) may all import it
without a cycle. ``dnc`` imports nothing of ours, so it keeps its own declarative base and receives sessions
from its callers. The schema itself is owned by the Alembic migrations in ``dialer/migrations``; nothing here
calls ``create_all``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event, make_url
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
    DEFAULT_SQLITE_PATH.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(busy_timeout_s: int) -> Callable[[object, object], None]:
    """The connect hook of a SQLite engine. The busy timeout is how long a transaction waits for another process's
    write lock (``DIALER_SQLITE_BUSY_TIMEOUT_S``), read when the engine is made: a process reads its settings once."""

    def on_connect(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_s * 1000:d}")
        cur.close()

    return on_connect


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


def _private_file(url: str) -> None:
    """Create a new SQLite file readable by this user only (0600; SQLite gives its -wal and -shm files the same
    mode): it holds leads, numbers and call records. An existing file keeps the mode its operator gave it."""
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:") or Path(path).exists():
        return
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def make_engine(url: str | None = None, **kwargs) -> Engine:
    """Create an engine; on SQLite turn on WAL, foreign keys, the busy timeout (``DIALER_SQLITE_BUSY_TIMEOUT_S``) and
    write-locking transactions so several processes (worker, console, webhooks) can share one file."""
    url = database_url(url)
    if url.startswith("sqlite"):
        busy_s = settings.current().sqlite_busy_timeout_s
        _private_file(url)
        kwargs.setdefault("connect_args", {"timeout": busy_s})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(busy_s))
        if settings.current().sqlite_locking == "immediate":
            event.listen(engine, "connect", _sqlite_autocommit_driver)
            event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


_readers: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()


def read_engine(engine: Engine) -> Engine:
    """An engine for reads that must never hold the write lock: on a SQLite file, a second engine of the same file
    whose connections keep the driver's own transaction handling (a SELECT runs outside any transaction, which WAL
    lets read without a lock; a write opens its transaction at that statement and waits its turn). Elsewhere (and
    for an in-memory database, which a second engine would not see) the engine itself: PostgreSQL's reads take no
    lock that a writer waits for.

    The product's engine starts every transaction IMMEDIATE, so a session that only reads would still hold the one
    write lock until it ends: a floor poll or a sign-in's look-ups would stall the dial loop's writes meanwhile.
    Use it for work that reads and, at most, writes once at the end (a read-modify-write that must not lose an
    update belongs on the product's engine).
    """
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine
    with _readers_lock:
        reader = _readers.get(engine)
        if reader is None:
            busy_s = settings.current().sqlite_busy_timeout_s
            reader = create_engine(engine.url, connect_args={"timeout": busy_s})
            event.listen(reader, "connect", _sqlite_pragmas(busy_s))
            _readers[engine] = reader
    return reader


@contextmanager
def reading(session: Session) -> Iterator[Session]:
    """A session for the slow reads of a job beside ``session`` (the job's own, which writes): on a SQLite file it
    reads through ``read_engine`` and holds no lock, so the job reads and computes while the dial loop writes, then
    writes what it found in a short transaction of ``session`` (re-checking what may have changed meanwhile).
    Elsewhere it is a session of its own on the same engine (PostgreSQL's reads block no writer). It never writes:
    it is closed at the end (what it loaded stays readable, detached). It sees committed rows only."""
    reader = Session(bind=read_engine(session.get_bind()), expire_on_commit=False, autoflush=False)
    try:
        yield reader
    finally:
        reader.close()


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
