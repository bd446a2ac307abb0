"""A dialing worker's share of the campaigns: heartbeat, leases renewed every ``renew_s``, takeovers noticed.

``CampaignOwnership.refresh(now)`` runs the shared-out rule of ``campaigns.leases.ownership`` at most every
``renew_s`` (2 s): with the 8-second lease a worker that dies has lost its campaigns within 10 s, on PostgreSQL
within one renewal once its presence lock is gone (``Heartbeat`` holds it), and a worker that stalls past its lease
stops dialing the campaigns it lost. Campaigns taken from another worker (or found
ownerless) are queued in ``taken`` so the carrier runtime can reconcile their calls in flight; the loop re-seeds
their pacers from the database as for any campaign it meets for the first time.

SQLite has one writer at a time and no way to wake another process: ``claim_sqlite`` refuses a second dialing
worker on one SQLite file with a one-line reason, after waiting out the heartbeat of one that died without retiring.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.leases import ownership as shares
from campaigns.leases import presence
from dialer.clock import Clock
from dnc.errors import UserError

log = logging.getLogger("dialer.workers")
LEASE_S = 8.0  # a dead worker's campaigns are free after this (the bound: 10 s)
RENEW_S = 2.0


class CampaignOwnership:
    def __init__(self, sessions: sessionmaker[Session], name: str, carrier: str = "sim", *,
                 only: set[int] | None = None, lease_s: float = LEASE_S, renew_s: float = RENEW_S,
                 adopts: bool = False) -> None:
        self.sessions = sessions
        # ``adopts``: a runtime settles each taken campaign's leftover calls (``take_news``) before the loop may dial
        # it; the loop would otherwise seed the campaign's pacer with calls that are about to be settled under it
        self.adopts = adopts
        self.frozen = False  # ``freeze``: no more renewals or takeovers
        self.draining = False  # ``drain``: renew what is owned, nothing more
        self.name = name
        self.carrier = carrier
        self.only = only
        self.lease_s = lease_s
        self.renew = timedelta(seconds=renew_s)
        self.owned: set[int] = set()
        self.taken: dict[int, str | None] = {}  # taken since the runtime last looked: campaign -> previous owner
        self.released: set[int] = set()  # given back since the runtime last looked
        self.tenure: dict[int, int] = {}  # campaign -> how many times this worker has taken it (a new pacer each)
        self.last: shares.Shares | None = None
        self._next: datetime | None = None
        self._lock = threading.Lock()  # the heartbeat thread and the dialing turn both refresh
        # the process's clock, when the caller's ``now`` may run behind it (the simulator's event loop catching up):
        # every worker judges a lease by its own clock, so one stamped in the past would lapse early and flap
        self.clock: Clock | None = None
        self.presence: int | None = None  # the key of the presence lock the heartbeat thread holds (PostgreSQL)

    def claim_sqlite(self, clock: Clock, sleep: Callable[[float], None] = time.sleep) -> None:
        """On SQLite, refuse to start beside another live dialing worker. A heartbeat still fresh is not proof of
        life: a worker killed a moment ago (and restarted by its supervisor) left one that runs out within a lease.
        So a newcomer watches it until it expires: a live worker renews it within ``renew_s`` and is refused then,
        a dead one is waited out (at most one lease, 8 s) and its campaigns reconciled by the newcomer."""
        with session_scope(self.sessions) as s:
            if s.get_bind().dialect.name != "sqlite":
                return
            seen = self._other_beats(s, clock.now())
        if seen:
            until = max(expires for _, expires in seen.values())
            log.info("waiting up to %.1f s for the heartbeat of %s to run out (a worker stopped without retiring)",
                     (until - clock.now()).total_seconds(), ", ".join(sorted(seen)))
        while seen:
            now = clock.now()
            with session_scope(self.sessions) as s:
                beats = self._other_beats(s, now)
            alive = [name for name, (beat, _) in beats.items() if name not in seen or beat > seen[name][0]]
            if alive:
                w = alive[0]
                raise UserError(f"another dialing worker ({w}, heartbeat {beats[w][0]:%H:%M:%S}) runs on this "
                                "SQLite database, which allows one; stop it, or use PostgreSQL for several workers")
            if not beats:
                break
            sleep(max(0.05, min(0.5, (max(e for _, e in beats.values()) - now).total_seconds())))
        with session_scope(self.sessions) as s:
            shares.heartbeat(s, self.name, self.carrier, clock.now(), self.lease_s)

    def _other_beats(self, s: Session, now: datetime) -> dict[str, tuple[datetime, datetime]]:
        """Other workers whose heartbeat has not run out: name -> (last beat, expiry)."""
        return {w.name: (w.heartbeat_at, w.expires_at) for w in shares.live_workers(s, now) if w.name != self.name}

    def refresh(self, now: datetime, force: bool = False) -> set[int]:
        """Heartbeat and rebalance when due; returns the campaigns this worker owns."""
        with self._lock:
            return self._refresh(now, force)

    def dialable(self) -> set[int]:
        """The campaigns the loop may dial: owned, and (with ``adopts``) their takeover settled."""
        with self._lock:
            return self.owned - self.taken.keys() if self.adopts else set(self.owned)

    def freeze(self) -> None:
        """Renew and rebalance no more until ``stop``: the simulator drains its last calls in virtual time, far
        ahead of every other process's clock, and leases stamped then would look expired or hours long."""
        with self._lock:
            self.frozen = True

    def drain(self) -> None:
        """Keep renewing what is owned, give nothing back and take nothing more: the worker is stopping and lets
        its agents' calls finish (``campaigns.leases.ownership.rebalance``)."""
        with self._lock:
            self.draining = True

    def _refresh(self, now: datetime, force: bool) -> set[int]:
        if self.frozen:
            return self.owned
        if self.clock is not None:
            now = max(now, self.clock.now())
        if not force and self._next is not None and now < self._next:
            return self.owned
        self._next = now + self.renew
        with session_scope(self.sessions) as s:
            shares.heartbeat(s, self.name, self.carrier, now, self.lease_s, len(self.owned), self.presence,
                             self.draining)
            got = shares.rebalance(s, self.name, now, self.lease_s, mine=self.owned, only=self.only,
                                   draining=self.draining)
            names = _names(s, set(got.taken) | got.released | got.lost)
        self._log(got, names)
        self.owned = got.owned
        self.taken.update(got.taken)
        for cid in got.taken:
            self.tenure[cid] = self.tenure.get(cid, 0) + 1
        self.released |= got.released | got.lost
        self.last = got
        return self.owned

    def take_news(self) -> tuple[dict[int, str | None], set[int]]:
        """Campaigns taken and let go since the last call (the runtime reconciles the taken ones)."""
        with self._lock:
            taken, released = self.taken, self.released
            self.taken, self.released = {}, set()
            return taken, released

    def stop(self, now: datetime) -> None:
        """A clean stop: leases and the heartbeat row go, so another worker takes the campaigns at once."""
        with session_scope(self.sessions) as s:
            shares.retire(s, self.name, now)
        if self.owned:
            log.info("worker %s stopped; gave back %d campaigns", self.name, len(self.owned))
        self.owned = set()
        self.draining = False  # the drain ends with the stop: a worker object used after it takes campaigns again

    def _log(self, got: shares.Shares, names: dict[int, str]) -> None:
        fmt = "%s (campaign %d)"
        for cid, before in got.taken.items():
            why = (("its owner %s is gone (its database connection closed)" if before in got.dead else
                    "its owner %s stopped renewing its lease") % before) if before else "it had no owner"
            log.info("took " + fmt + ": %s; %d workers, share %d", names.get(cid, "?"), cid, why, got.workers,
                     got.share)
        for cid in got.released - set(got.lost):
            log.info("gave back " + fmt + " (%d campaigns need an owner, %d workers, share %d)",
                     names.get(cid, "?"), cid, got.needing, got.workers, got.share)
        for cid in got.lost:
            log.warning("lost " + fmt + ": its lease passed to %s", names.get(cid, "?"), cid,
                        got.others.get(cid, "another worker"))


class Heartbeat(threading.Thread):
    """Renews the worker's heartbeat and leases on its own, every ``renew_s``: a dialing turn that waits long on
    the carrier (many placements under a low CPS share) must not let the leases run out and the campaigns flap.

    On PostgreSQL it also holds the worker's presence lock on a connection of its own for the worker's life, so
    that the others see at once when this process dies (``campaigns.leases.presence``)."""

    def __init__(self, ownership: CampaignOwnership, clock: Clock, every_s: float = RENEW_S) -> None:
        super().__init__(name="lease-heartbeat", daemon=True)
        self.ownership, self.clock, self.every_s = ownership, clock, every_s
        self.stopping = threading.Event()
        self._connection: Connection | None = None

    def run(self) -> None:
        try:
            while True:
                try:
                    self._keep_presence()
                except Exception:  # no presence for now: the others judge this worker by its lease meanwhile
                    log.exception("holding the presence lock failed")
                try:
                    self.ownership.refresh(self.clock.now())
                except Exception:  # the database is briefly away: the next beat tries again (the lease has 8 s)
                    log.exception("renewing the campaign leases failed")
                if self.stopping.wait(self.every_s):
                    return
        finally:
            self._drop_presence()

    def _keep_presence(self) -> None:
        """Hold the presence lock; after a lost connection, take it again on a new one."""
        engine = self.ownership.sessions.kw.get("bind")
        if engine is None or engine.dialect.name != "postgresql":
            return
        if self._connection is not None:
            try:
                presence.still_connected(self._connection)
                return
            except DBAPIError:
                log.warning("the presence connection was lost; the other workers may take this worker's campaigns")
                self._drop_presence()
        connection = engine.connect()
        key = presence.key_of(self.ownership.name)
        try:
            held = presence.hold(connection, key)
        except DBAPIError:
            connection.invalidate()
            connection.close()
            raise
        if held:
            self._connection, self.ownership.presence = connection, key
        else:
            connection.close()  # another live session holds the same key: go by the lease alone

    def _drop_presence(self) -> None:
        self.ownership.presence = None
        if self._connection is not None:
            with contextlib.suppress(DBAPIError):  # closed for real, not back to the pool with the lock on it
                self._connection.invalidate()
                self._connection.close()
            self._connection = None

    def stop(self) -> None:
        self.stopping.set()


def _names(s: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(s.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids))).all())
