"""The snapshot the gate may read on this host: the generation in force, or a refusal that says why.

The database names the generation in force (the newest national load) and holds its files; each host serves it
from its own ``DIALER_DNC_DIR`` (or a shared one). ``serving`` is asked once per decision (one small query): when
this host has that generation the gate reads it as before; when it does not (not fetched yet, being fetched, the
fetch failed its checksum, or its files are not in the database) the gate gets an ``Unavailable`` that covers what
the generation covers and lists nothing, and refuses those numbers with ``registry_unavailable`` instead of dialing
with an older snapshot or none. A process that finds itself without the generation fetches it in the background
(one fetch per directory at a time, retried a minute after a failure); the worker's ``registry-sync`` job and
``dialer dnc sync`` do the same on a schedule and by hand.
"""

from __future__ import annotations

import json
import threading
from contextlib import nullcontext
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from dnc.errors import UserError
from dnc.reasons import Reason
from dnc.registry import blobs
from dnc.registry.local import InForce, Outcome, fetch_locked, fetching_now, in_force, read_status, record_host
from dnc.registry.snapshot import MANIFEST, SLOT_BITS, Coverage, Snapshot, Store
from dnc.zones import _npa_states

RETRY = timedelta(minutes=1)  # after a failed background fetch


class Unavailable:
    """Stands in for the snapshot in force on a host that lacks it: it covers what that snapshot covers, lists
    nothing, and says why, so every number it covers is refused (``reason``) rather than judged without it."""

    available = False

    def __init__(self, force: InForce, coverage: dict[str, Coverage], why: str, count: int = 0) -> None:
        self.generation, self.load_id, self.why = force.generation, force.load_id, why
        self.coverage = coverage
        self.count = count  # numbers on it, per its manifest
        self._version: list[date | None] = [None] * 1000
        for npa, c in coverage.items():
            self._version[int(npa)] = c.version_date
        self._covered = np.array([v is not None for v in self._version])

    def lookup(self, n10: int) -> tuple[bool, date | None]:
        return False, self._version[n10 // SLOT_BITS]

    def lookup_many(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        covered = self._covered[numbers.astype(np.int64, copy=False) // SLOT_BITS]
        return covered, np.zeros(len(numbers), dtype=bool)

    def version_of(self, npa: str) -> date | None:
        c = self.coverage.get(npa)
        return c.version_date if c else None

    def reason(self, npa: str) -> Reason:
        return Reason("registry_unavailable", f"this host does not have the national DNC registry snapshot in force "
                                              f"({self.generation}, which covers area code {npa}): {self.why}; "
                                              "nothing there is dialed from this host until it has it",
                      f"national {self.generation}")

    def close(self) -> None:
        pass


class Serving:
    """A store as the gate reads it: ``current()`` is the snapshot in force, an ``Unavailable``, or None."""

    __slots__ = ("_snap",)

    def __init__(self, snap: Snapshot | Unavailable | None) -> None:
        self._snap = snap

    def current(self) -> Snapshot | Unavailable | None:
        return self._snap


def serving(session: Session, store: Store | Serving, at: datetime) -> Serving:
    """What this host may read for decisions at ``at``, per the generation the database has in force. Anything
    else with a ``current()`` (a caller's stand-in registry) is taken at its word."""
    if isinstance(store, Serving) or not isinstance(store, Store):
        return store
    return Serving(resolve(session, store, at))


def resolve(session: Session, store: Store, at: datetime | None) -> Snapshot | Unavailable | None:
    if store.fetcher is None:
        attach(store, session.get_bind())
    force = in_force(session)
    if force is None:
        return None
    snap = store.current()
    if snap is not None and snap.generation == force.generation:
        return snap
    if store.has(force.generation):  # a shared directory, or fetched and not linked yet
        return store.generation(force.generation)
    return _unavailable(session, store, force, at)


_manifests: dict[tuple[str, str], tuple[dict[str, Coverage], int]] = {}


def _coverage(session: Session, force: InForce) -> tuple[dict[str, Coverage], int] | None:
    """(coverage, numbers) of a stored generation, from its manifest in the database (cached: it never changes)."""
    key = (session.get_bind().url.render_as_string(hide_password=True), force.generation)
    if key not in _manifests:
        data = blobs.read_small(session, force.generation, MANIFEST)
        if data is None:
            return None
        manifest = json.loads(data)
        _manifests[key] = ({n: Coverage(n, date.fromisoformat(v["version_date"]), v["load_id"])
                            for n, v in manifest["npas"].items()}, manifest.get("count", 0))
    return _manifests[key]


def _unavailable(session: Session, store: Store, force: InForce, at: datetime | None) -> Unavailable:
    found = _coverage(session, force)
    if found is None:  # not stored: its coverage is unknown, so every area code is refused
        why = ("its files are not in the database (it was loaded before snapshots were stored there): publish them "
               "from a host that has it (`dialer dnc sync`, publishing)")
        return Unavailable(force, {n: Coverage(n, force.version_date, force.load_id) for n in _npa_states()}, why)
    if store.auto_fetch:
        kick(store, session.get_bind(), force.generation, at)
    if _fetching_here(store) or fetching_now(store):
        why = "it is being fetched from the database now"
    else:
        status = read_status(store)
        if status.get("generation") == force.generation and status.get("state") == "failed":
            why = f"the last fetch failed ({status.get('detail')}) and is retried"
        else:
            why = "it has not been fetched yet"
    return Unavailable(force, found[0], why, found[1])


def attach(store: Store, bind) -> None:
    """Let ``store.generation`` fetch an older generation a report asks for from this database."""
    open_ = blobs.opener(bind)
    store.fetcher = lambda name: fetch_locked(open_, store, name, wait=True)


# --- background fetches (one per directory per process; the lock keeps it to one per directory) ------------------
_jobs: dict[str, dict] = {}
_jobs_lock = threading.Lock()


def kick(store: Store, bind, generation: str, at: datetime | None) -> bool:
    """Start fetching ``generation`` in a background thread unless one runs or a failure is less than ``RETRY``
    old; returns whether one was started."""
    key = str(store.root)
    with _jobs_lock:
        job = _jobs.get(key)
        if job is not None and job["thread"].is_alive():
            return False
        if (job is not None and job["generation"] == generation and job["retry_at"] is not None and at is not None
                and at < job["retry_at"]):
            return False
        t = threading.Thread(target=_background, args=(key, store, bind, generation, at),
                             name=f"registry-fetch-{generation}", daemon=True)
        _jobs[key] = {"thread": t, "generation": generation, "retry_at": None}
        t.start()
    return True


def _fetching_here(store: Store) -> bool:
    """This process's own fetch runs for the directory (known without probing its lock)."""
    with _jobs_lock:
        job = _jobs.get(str(store.root))
    return job is not None and job["thread"].is_alive()


def _background(key: str, store: Store, bind, generation: str, at: datetime | None) -> None:
    open_ = blobs.opener(bind)
    out = fetch_locked(open_, store, generation, wait=False, at=at)
    if out.state in ("fetched", "present"):
        link_if_in_force(open_, store, generation)
    with _jobs_lock:
        _jobs[key]["retry_at"] = at + RETRY if at is not None and out.state in ("failed", "busy") else None
    if at is not None and out.state != "busy":
        record_host(bind, store, at, generation=store.current_name(), in_force_name=generation,
                    state="ok" if out.state != "failed" else "failed", detail=out.detail)


def wait_for_background(store: Store, timeout: float | None = None) -> None:
    """Tests and shutdown: wait for this directory's background fetch, if any."""
    with _jobs_lock:
        job = _jobs.get(str(store.root))
    if job is not None:
        job["thread"].join(timeout)


def link_if_in_force(open_session: blobs.Opener, store: Store, generation: str) -> bool:
    """Point ``current`` at ``generation`` if the database still has it in force."""
    with open_session() as s:
        force = in_force(s)
    if force is not None and force.generation == generation and store.current_name() != generation:
        store.activate(generation)
        return True
    return False


def base_for_load(session: Session, store: Store) -> Snapshot | None:
    """The snapshot in force for a partial load or a change list to start from, fetched first (through the load's
    own transaction) when this host lacks it; None when no national registry was ever loaded."""
    force = in_force(session)
    if force is None:
        return None
    if not store.has(force.generation):
        if not blobs.is_stored(session, force.generation):
            raise UserError(f"this host does not have the registry snapshot in force ({force.generation}) and the "
                            "database does not hold its files: load on a host that has it, or publish them from "
                            "there first (`dialer dnc sync`, publishing)")
        out: Outcome = fetch_locked(lambda: nullcontext(session), store, force.generation, wait=True)
        if out.state == "failed":
            raise UserError(f"the registry snapshot in force ({force.generation}) could not be fetched: {out.detail}")
    return store.generation(force.generation)
