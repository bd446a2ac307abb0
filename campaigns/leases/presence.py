"""A dialing worker's presence on PostgreSQL: a session advisory lock it holds on a connection of its own.

The lease expiry (8 s) frees the campaigns of a worker that stalls or whose host vanishes. But a worker process
that dies (a crash, the OOM killer, SIGKILL) closes its sockets at once, and PostgreSQL drops that connection's
advisory locks as soon as its backend sees the socket close. A worker whose heartbeat row names a presence key
that no session holds any more is therefore dead now, whatever its lease still says, and the other workers take its
campaigns at their next refresh (within the 2-second renewal) instead of after the lease runs out. The seconds
matter: a customer who answers a dead worker's call is abandoned until someone owns the campaign again.

Only PostgreSQL's own bookkeeping is used (``pg_try_advisory_lock`` and the ``pg_locks`` view); a worker that never
wrote a key (SQLite, or one that could not take its lock) is judged by its lease alone, as before.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from campaigns.leases.models import DialWorker

NAMESPACE = 0x0D1A1  # the first of the two int4 advisory-lock keys: "a dialing worker's presence"


def key_of(name: str) -> int:
    """The second key, from the worker's name (host:pid); positive, so ``pg_locks.objid`` shows it as is."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def hold(connection: Connection, key: int) -> bool:
    """Take the presence lock on ``connection`` (session-level: it lasts as long as the connection). False if
    another session holds the same key (two names hashing alike): that worker then goes by its lease alone."""
    got = connection.execute(text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": NAMESPACE, "key": key}).scalar()
    connection.commit()
    return bool(got)


def still_connected(connection: Connection) -> None:
    """Raise if the connection holding the presence lock is broken (the lock went with it)."""
    connection.execute(text("SELECT 1")).scalar()
    connection.commit()


def gone(session: Session, workers: Iterable[DialWorker]) -> set[str]:
    """Names of ``workers`` that wrote a presence key nobody holds now: their process is dead."""
    keyed = {w.name: w.presence for w in workers if w.presence is not None}
    if not keyed or session.get_bind().dialect.name != "postgresql":
        return set()
    held = set(session.scalars(text(
        "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
        " AND classid::bigint = :ns"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"), {"ns": NAMESPACE}))
    return {name for name, key in keyed.items() if key not in held}
