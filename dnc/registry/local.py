"""This host's side of the snapshot in force: which generation the database names, one fetch at a time per
directory, and what the last fetch left behind for the gate and the console to say.

A lock file in the directory (``flock``) lets one process per host (or per shared directory) fetch while the others
keep refusing with "being fetched"; a small status file keeps the last failure so every process on the host can say
why; a row per host and directory (``dnc_registry_hosts``) lets the console show every host at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import socket
import time
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dnc.registry import blobs
from dnc.registry.snapshot import Store
from dnc.tables import ListLoad, RegistryHost

log = logging.getLogger(__name__)

LOCK, STATUS = ".fetch.lock", ".fetch-status.json"


@dataclass(frozen=True)
class InForce:
    """The national-registry generation in force: the one the newest national load built."""

    load_id: int
    generation: str
    version_date: date


_IN_FORCE = (select(ListLoad.id, ListLoad.generation, ListLoad.version_date)
             .where(ListLoad.source == "national", ListLoad.generation.is_not(None))
             .order_by(ListLoad.id.desc()).limit(1))


def in_force(session: Session) -> InForce | None:
    """Asked before every decision: a Core query on the session's connection (a third of the ORM's cost)."""
    row = session.connection().execute(_IN_FORCE).first()
    return InForce(*row) if row is not None else None


PROBE_PATIENCE_S = 10.0  # how long a fetcher that would not wait keeps retrying past processes' brief probes


def _lock_fd(store: Store, wait: bool, shared: bool = False) -> int | None:
    """The directory's lock (exclusive: fetching; shared: probing whether someone fetches). A fetcher that would
    not wait answers None only when another *fetcher* holds it: every process deciding numbers probes the lock
    (``fetching_now``) for an instant, and a fetch that gave up on such a probe was put off by a minute while the
    host kept refusing every number the snapshot covers (seen under CPU load: the probe's holder descheduled)."""
    store.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(store.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    deadline = time.monotonic() + PROBE_PATIENCE_S
    while True:
        try:
            fcntl.flock(fd, mode | (0 if wait else fcntl.LOCK_NB))
            return fd
        except BlockingIOError:
            pass
        if shared or not _only_probed(fd) or time.monotonic() > deadline:
            os.close(fd)
            return None
        time.sleep(0.01)


def _only_probed(fd: int) -> bool:
    """Whether the lock we could not take is held shared (probes) and by no fetcher: a shared lock is granted."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


def _unlock(fd: int) -> None:
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


def fetching_now(store: Store) -> bool:
    """Whether a process holds this directory's fetch lock (probed with a shared lock, released at once)."""
    fd = _lock_fd(store, wait=False, shared=True)
    if fd is None:
        return True
    _unlock(fd)
    return False


def read_status(store: Store) -> dict:
    try:
        return json.loads((store.root / STATUS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_status(store: Store, generation: str, state: str, detail: str, at: datetime | None) -> None:
    tmp = store.root / f"{STATUS}.{os.getpid()}"
    tmp.write_text(json.dumps({"generation": generation, "state": state, "detail": detail,
                               "at": at.isoformat() if at else None}), encoding="utf-8")
    os.replace(tmp, store.root / STATUS)


@dataclass(frozen=True)
class Outcome:
    state: str  # fetched | present | busy | failed
    detail: str = ""
    bytes: int = 0
    transferred: int = 0
    seconds: float = 0.0


def fetch_locked(open_session: blobs.Opener, store: Store, generation: str, *, wait: bool,
                 at: datetime | None = None) -> Outcome:
    """Fetch ``generation`` into ``store`` unless it is there, holding the directory's lock (``wait``: queue behind
    another fetcher; otherwise answer ``busy``). A failure is kept in the status file and returned, not raised."""
    fd = _lock_fd(store, wait)
    if fd is None:
        return Outcome("busy", "another process on this host is fetching it")
    try:
        for stale in (store.root / "generations").glob(f"{blobs.FETCH_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)  # a fetch killed midway: only a lock holder creates these
        if store.has(generation):
            return Outcome("present")
        started = time.perf_counter()
        try:
            got = blobs.fetch(open_session, store, generation)
        except (blobs.FetchError, OSError, SQLAlchemyError) as e:
            detail = str(e).splitlines()[0][:300]
            _write_status(store, generation, "failed", detail, at)
            log.error("registry generation %s could not be fetched into %s: %s", generation, store.root, detail)
            return Outcome("failed", detail)
        seconds = time.perf_counter() - started
        _write_status(store, generation, "ok", "", at)
        log.info("fetched registry generation %s into %s: %.0f MB (%.0f MB read) in %.1f s", generation, store.root,
                 got.bytes / 2**20, got.transferred / 2**20, seconds)
        return Outcome("fetched", "", got.bytes, got.transferred, seconds)
    finally:
        _unlock(fd)


def host_key(store: Store) -> tuple[str, str, str]:
    """(key, host, directory) of this host's row."""
    host = socket.gethostname()[:120]
    where = str(store.root.resolve())[:400]
    key = f"{host}:{where}"
    if len(key) > 200:
        key = f"{host}:{hashlib.sha256(where.encode()).hexdigest()[:32]}"
    return key, host, where


def record_host(bind, store: Store, at: datetime, *, generation: str | None, in_force_name: str | None, state: str,
                detail: str = "") -> None:
    """Upsert this host's row (best effort: a database that cannot take it must not stop the sync)."""
    key, host, where = host_key(store)
    values = {"host": host, "dnc_dir": where, "generation": generation, "in_force": in_force_name, "state": state,
              "detail": detail[:400], "checked_at": at}
    with contextlib.suppress(SQLAlchemyError), blobs.opener(bind, write=True)() as s:
        row = s.get(RegistryHost, key)
        if row is None:
            s.add(RegistryHost(key=key, **values))
        else:
            for k, v in values.items():
                setattr(row, k, v)
        s.commit()


def hosts(session: Session) -> list[RegistryHost]:
    return list(session.scalars(select(RegistryHost).order_by(RegistryHost.host, RegistryHost.dnc_dir)))
