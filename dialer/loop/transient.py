"""Which database errors are worth waiting out: the state they interrupted is in the database, and the same work
tried again a moment later succeeds.

A lost connection (SQLAlchemy marks the error ``connection_invalidated``: the pool opens a new one next time),
SQLite's "database is locked" (another process held the write lock past the busy timeout: a console under heavy
load), and PostgreSQL's serialization failure, deadlock and lock-wait time-out (``lock_timeout``) are. Anything
else (a constraint, a missing column, a bug) is not: a worker retrying it would loop forever, silently.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialization failure, deadlock detected, lock not available
SQLITE_BUSY = ("database is locked", "database table is locked")


def is_transient(e: BaseException) -> bool:
    """Is ``e`` a database error that passes by itself (see the module's docstring)?"""
    if not isinstance(e, DBAPIError):
        return False
    if e.connection_invalidated:
        return True
    if getattr(e.orig, "sqlstate", None) in SQLSTATES:
        return True
    message = str(e.orig).lower()
    return any(m in message for m in SQLITE_BUSY)
