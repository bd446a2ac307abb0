"""Which dialing worker owns which campaign: the campaigns shared out among the live workers, one owner each.

Every worker heartbeats its row in ``dial_workers`` and holds each campaign it dials through the lease
``dial:<campaign id>`` (``campaigns.leases.service``), both with a short expiry renewed every couple of seconds. A
worker that dies stops renewing; within the lease time its campaigns are free and the others take them. On
PostgreSQL a dead process is seen sooner: its presence lock is gone (``campaigns.leases.presence``) and its
campaigns are taken at the others' next pass. A
campaign needs an owner while it is active *or* has calls still live (a paused campaign's calls in flight still
need their callbacks delivered and their answers routed).

Shares follow load: with ``n`` live workers and ``k`` campaigns needing an owner, nobody takes more than
``ceil(k / n)``, and a worker holding more than that gives the surplus back so a newcomer gets its share. A worker
draining (stopping after SIGTERM: it keeps what it holds and takes nothing, its row says so) is not one of the
``n``, and the campaigns it holds are not among the ``k``: counted, it left campaigns started during its drain
without an owner, and a worker gave its surplus back for it to a worker that would never take it. The
campaign counted as load is the campaign; a campaign's agents are not weighed (a simple, predictable rule; a
very large campaign is one worker's work either way, since one owner paces it).

All of it is conditional UPDATEs and INSERTs, atomic on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leases import presence
from campaigns.leases import service as leases
from campaigns.leases.models import DialWorker, JobLease

LEASE_PREFIX = "dial:"


def lease_name(campaign_id: int) -> str:
    return f"{LEASE_PREFIX}{campaign_id}"


@dataclass
class Shares:
    """One pass of ``rebalance``: what this worker owns now and what changed."""

    owned: set[int] = field(default_factory=set)
    taken: dict[int, str | None] = field(default_factory=dict)  # newly owned -> who held it before (None: nobody)
    released: set[int] = field(default_factory=set)  # given back (surplus, or no longer needing an owner)
    lost: set[int] = field(default_factory=set)  # ours until now, but the lease was gone (we stalled past it)
    workers: int = 1  # live workers sharing the campaigns, this one included unless it drains
    share: int = 0  # the most campaigns one worker takes
    needing: int = 0  # campaigns that need an owner
    others: dict[int, str] = field(default_factory=dict)  # campaigns another live worker owns -> its name
    dead: set[str] = field(default_factory=set)  # workers found dead by their presence lock on this pass
    draining: set[str] = field(default_factory=set)  # live workers that keep what they hold and take nothing


def heartbeat(session: Session, name: str, carrier: str, now: datetime, ttl_s: float, campaigns: int = 0,
              presence: int | None = None, draining: bool = False) -> None:
    """Say this worker is alive until ``now + ttl_s`` (and, with ``presence``, while it holds that lock), and
    whether it drains (the others then leave it out of their shares)."""
    until = now + timedelta(seconds=ttl_s)
    done = session.execute(update(DialWorker).where(DialWorker.name == name)
                           .values(heartbeat_at=now, expires_at=until, campaigns=campaigns, presence=presence,
                                   draining=draining)
                           .execution_options(synchronize_session=False))
    if done.rowcount == 1:
        return
    try:
        with session.begin_nested():
            session.add(DialWorker(name=name, carrier=carrier, started_at=now, heartbeat_at=now, expires_at=until,
                                   campaigns=campaigns, presence=presence, draining=draining))
    except IntegrityError:
        pass  # two heartbeats of one name at once cannot happen; a leftover row was just updated by another path


def live_workers(session: Session, now: datetime) -> list[DialWorker]:
    return list(session.scalars(select(DialWorker).where(DialWorker.expires_at > now).order_by(DialWorker.name)))


def retire(session: Session, name: str, now: datetime) -> None:
    """A clean stop: the worker's row goes, and so do its campaign leases (the others take them at once)."""
    session.execute(delete(DialWorker).where(DialWorker.name == name))
    session.execute(update(JobLease).where(JobLease.holder == name, JobLease.name.like(f"{LEASE_PREFIX}%"))
                    .values(holder=None, expires_at=None, last_run_at=now)
                    .execution_options(synchronize_session=False))
    session.execute(delete(DialWorker).where(DialWorker.expires_at < now - timedelta(days=1)))  # long dead


def needing_owner(session: Session, only: set[int] | None = None) -> list[int]:
    """Active campaigns, and campaigns of any status with calls still live."""
    active = select(Campaign.id).where(Campaign.status == "active")
    live = select(Call.campaign_id).where(Call.ended_at.is_(None)).distinct()
    ids = set(session.scalars(active)) | set(session.scalars(live))
    if only is not None:
        ids &= only
    return sorted(ids)


def rebalance(session: Session, name: str, now: datetime, ttl_s: float, *, mine: set[int],
              only: set[int] | None = None, draining: bool = False) -> Shares:
    """Renew this worker's leases, give back its surplus, take free campaigns up to its fair share.

    ``mine``: what the worker believes it owns (a lease found taken by someone else is reported ``lost``);
    ``only``: the campaigns this worker may dial at all (``dialer run --campaign``); ``draining``: the worker is
    stopping and lets its agents' calls finish, so it only renews what it holds (a campaign given back now would
    hand those calls over mid-conversation, and one taken now would not be dialed). The shares are counted without
    the draining workers (their rows say so; ``heartbeat``) and the campaigns they hold."""
    until = now + timedelta(seconds=ttl_s)
    out = Shares()
    need = needing_owner(session, only)
    out.needing = len(need)
    beating = live_workers(session, now)
    dead = presence.gone(session, (w for w in beating if w.name != name))
    if dead:  # their process ended without retiring: their campaigns are free now, not when the lease runs out
        session.execute(update(DialWorker).where(DialWorker.name.in_(dead)).values(expires_at=now)
                        .execution_options(synchronize_session=False))
    out.dead = dead
    alive = {w.name for w in beating if w.name not in dead} | {name}
    out.draining = {w.name for w in beating if w.name in alive and w.draining and w.name != name}
    if draining:
        out.draining.add(name)
    rows = {r.name: r for r in session.scalars(select(JobLease).where(
        JobLease.name.in_([lease_name(c) for c in need])))} if need else {}
    held: list[int] = []
    free: list[tuple[int, str | None]] = []
    for cid in need:
        row = rows.get(lease_name(cid))
        live = row is not None and row.holder is not None and row.expires_at is not None and row.expires_at > now
        if live and row.holder == name:
            held.append(cid)
        elif live and row.holder in alive:
            out.others[cid] = row.holder
        else:
            free.append((cid, row.holder if row is not None else None))
    out.lost = {c for c in mine if c not in held and c in out.others}
    sharing = alive - out.draining
    kept = sum(1 for holder in out.others.values() if holder in out.draining) + (len(held) if draining else 0)
    out.workers = len(sharing)
    out.share = math.ceil((len(need) - kept) / max(1, out.workers)) if len(need) > kept else 0
    # holders another worker found dead this way before us: their leases are free to us too
    gone_before = {h for h in session.scalars(select(DialWorker.name).where(
        DialWorker.name.in_({h for _, h in free if h is not None and h != name}), DialWorker.presence.is_not(None),
        DialWorker.expires_at <= now))} if free else set()
    out.dead |= gone_before
    surplus = held[out.share:] if len(held) > out.share and _someone_under(out, alive, name) and not draining else []
    for cid in surplus:
        leases.release(session, lease_name(cid), name, now)
        out.released.add(cid)
    keep = [c for c in held if c not in out.released]
    renewed = _renew(session, name, keep, until)
    out.lost |= set(keep) - renewed
    out.owned = set(renewed)
    for cid, before in free:
        if len(out.owned) >= out.share or draining:
            break
        if leases.acquire(session, lease_name(cid), name, now, ttl_s, dead | gone_before):
            out.owned.add(cid)
            # a lease of ours that had lapsed counts as taken too: another worker may have held the campaign and
            # settled its calls meanwhile, so the worker reconciles them and seeds a new pacer
            out.taken[cid] = before if before != name else None
    out.released |= {c for c in mine if c not in need and c not in out.owned}
    for cid in out.released - set(need):
        leases.release(session, lease_name(cid), name, now)
    return out


def _someone_under(out: Shares, alive: set[str], name: str) -> bool:
    """Another live worker holds fewer than its share (so giving a campaign back helps someone)."""
    counts = {w: 0 for w in alive if w != name and w not in out.draining}
    for holder in out.others.values():
        if holder in counts:
            counts[holder] += 1
    return any(n < out.share for n in counts.values())


def _renew(session: Session, name: str, ids: list[int], until: datetime) -> set[int]:
    if not ids:
        return set()
    names = [lease_name(c) for c in ids]
    session.execute(update(JobLease).where(JobLease.name.in_(names), JobLease.holder == name)
                    .values(expires_at=until).execution_options(synchronize_session=False))
    got = session.scalars(select(JobLease.name).where(JobLease.name.in_(names), JobLease.holder == name,
                                                      or_(JobLease.expires_at >= until)))
    return {int(n[len(LEASE_PREFIX):]) for n in got}


def owners(session: Session, now: datetime) -> dict[int, str]:
    """Every campaign with a live owner -> the owner (the console and ``/readyz`` read it)."""
    rows = session.scalars(select(JobLease).where(JobLease.name.like(f"{LEASE_PREFIX}%"),
                                                  JobLease.holder.is_not(None), JobLease.expires_at > now))
    return {int(r.name[len(LEASE_PREFIX):]): r.holder for r in rows}
