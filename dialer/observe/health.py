"""Readiness: may this process be sent work? Each check is named, answers ok or not with a short reason, and reads
only the shared database (and this host's registry directory); nothing secret goes into a reason.

- ``database``: a round trip to the database;
- ``registry``: where a national registry is in force, this host has that generation and it is fresh enough to
  dial under (the gate's own limit, 31 days); skipped by processes that never read it (the webhooks);
- ``leases``: every campaign that needs a worker (active, or with calls still live) is held by a live one: its lease
  unexpired and its holder's heartbeat current (``campaigns.leases.ownership``); a worker's probe checks its own
  leases and heartbeat instead;
- ``callbacks``: the carrier-callback inbox is being delivered: few callbacks have waited long, none for minutes.

``/healthz`` is liveness only (the process answers, no database); ``/readyz`` runs these (both web apps, the
worker's ``--metrics-port`` listener).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from campaigns.campaign.models import Campaign
from campaigns.inbox.models import CarrierCallback
from campaigns.leases import ownership
from campaigns.leases.models import JobLease
from dialer.clock import Clock
from dnc.registry.local import in_force
from dnc.registry.snapshot import Store
from dnc.rules import current_rules

CHECKS = ("database", "registry", "leases", "callbacks")
CALLBACK_WAIT_S = 10.0  # a callback stored this long ago and not delivered counts as backlog
CALLBACK_BACKLOG_MAX = 100  # more backlog than this: the workers are not keeping up
CALLBACK_OLDEST_MAX_S = 90.0  # the pump sets a callback aside after 30-60 s: older than this, nobody delivers


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Readiness:
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict:
        return {"status": "ready" if self.ok else "not ready",
                "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in self.checks}}


class ReadinessProbe:
    """The checks one process runs. ``registry``: this host's snapshot directory, or None for a process that never
    reads the registry; ``holder``: a worker's lease-holder name (its own leases are checked, not the cluster's)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, *, registry: Store | None = None,
                 holder: str | None = None, checks: Iterable[str] = CHECKS) -> None:
        self.sessions, self.clock, self.registry, self.holder = sessions, clock, registry, holder
        self.checks = tuple(c for c in checks if c != "registry" or registry is not None)

    def run(self, only: Iterable[str] | None = None) -> Readiness:
        """Run the checks (``only``: a subset, e.g. a load balancer that asks about the database alone)."""
        wanted = [c for c in self.checks if only is None or c in set(only)]
        out = Readiness()
        now = self.clock.now()
        try:
            session = self.sessions()
        except Exception as e:  # a bad URL or driver: the database check says so
            return Readiness([Check(c, False, _failed("the database", e)) for c in wanted])
        try:
            try:
                session.execute(text("SELECT 1"))
                reachable = True
                if "database" in wanted:
                    out.checks.append(Check("database", True, "reachable"))
            except Exception as e:
                session.rollback()
                reachable = False
                if "database" in wanted:
                    out.checks.append(Check("database", False, _failed("the database", e)))
            for name in wanted:
                if name == "database":
                    continue
                if not reachable:
                    out.checks.append(Check(name, False, "not checked: the database is unreachable"))
                    continue
                try:
                    out.checks.append(self._run(name, session, now))
                except Exception as e:
                    session.rollback()
                    out.checks.append(Check(name, False, _failed(f"the {name} check", e)))
        finally:
            session.close()
        return out

    def _run(self, name: str, session: Session, now: datetime) -> Check:
        check: Callable[[Session, datetime], Check] = getattr(self, f"_{name}")
        return check(session, now)

    def _registry(self, session: Session, now: datetime) -> Check:
        force = in_force(session)
        if force is None:
            return Check("registry", True, "no national registry loaded (nothing it covers is dialed)")
        age = (now.date() - force.version_date).days
        limit = current_rules().registry_max_age_days
        here = self.registry.current_name() == force.generation or self.registry.has(force.generation)
        if not here:
            return Check("registry", False, f"this host lacks the generation in force ({force.generation}); "
                                            "it is fetched every minute (`dialer dnc sync` fetches it now)")
        if age > limit:
            return Check("registry", False, f"the registry in force is {age} days old (version "
                                            f"{force.version_date}; at most {limit})")
        return Check("registry", True, f"generation {force.generation} on this host, {age} days old")

    def _leases(self, session: Session, now: datetime) -> Check:
        alive = {w.name for w in ownership.live_workers(session, now)}
        if self.holder is not None:
            mine = list(session.scalars(select(JobLease).where(JobLease.holder == self.holder,
                                                               JobLease.name.like(f"{ownership.LEASE_PREFIX}%"))))
            stale = [x.name for x in mine if x.expires_at is None or x.expires_at <= now]
            if stale:
                return Check("leases", False, f"not renewed in time: {', '.join(sorted(stale))}")
            if mine and self.holder not in alive:
                return Check("leases", False, "this worker's heartbeat has expired")
            return Check("leases", True, f"{len(mine)} campaign leases held and renewed")
        need = ownership.needing_owner(session)
        owners = ownership.owners(session, now)
        orphans = [cid for cid in need if owners.get(cid) not in alive]
        if orphans:
            names = dict(session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(orphans[:5]))).all())
            return Check("leases", False, f"{len(orphans)} of {len(need)} campaigns needing a worker have no live "
                                          f"one: {', '.join(names.get(c, str(c)) for c in orphans[:5])}")
        holders = len({owners[c] for c in need})
        return Check("leases", True, f"{len(need)} campaigns held by {holders} live workers "
                                     f"({len(alive)} workers alive)")

    def _callbacks(self, session: Session, now: datetime) -> Check:
        cutoff = now - timedelta(seconds=CALLBACK_WAIT_S)
        count, oldest = session.execute(
            select(func.count(), func.min(CarrierCallback.received_at))
            .where(CarrierCallback.processed_at.is_(None), CarrierCallback.received_at < cutoff)).one()
        oldest_s = (now - oldest).total_seconds() if oldest is not None else 0.0
        detail = f"{count} callbacks waiting over {CALLBACK_WAIT_S:g} s (oldest {oldest_s:.0f} s)"
        ok = count <= CALLBACK_BACKLOG_MAX and oldest_s <= CALLBACK_OLDEST_MAX_S
        return Check("callbacks", ok, detail)


def _live(lease: JobLease | None, now: datetime) -> bool:
    return lease is not None and lease.holder is not None and lease.expires_at is not None and lease.expires_at > now


def _failed(what: str, e: Exception) -> str:
    """The exception's class only: its text may carry a host, a user or a query."""
    return f"{what} failed ({type(e).__name__})"
