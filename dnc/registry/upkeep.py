"""Keeping a host's snapshot directory in step with the database, and old generations pruned from both.

``sync_host`` is what the worker's ``registry-sync`` job runs every minute and ``dialer dnc sync`` runs by hand:
cheap when nothing changed (one query and a ``readlink``), otherwise a fetch, a link switch, or a note of why not.

Retention (``retained``): the reconciliation report judges each call against the generation in force when it was
placed, so a generation is kept, in the database and on disk, while it is in force, and afterwards for as long as
a call placed under it may still be asked about: ``KEEP_DAYS`` (5 years, as long as the internal DNC requests are
kept and the Telemarketing Sales Rule keeps call records). A generation under which no call was allowed (the
gate's ledger shows none while it was in force) is never asked about, so it goes as soon as it is superseded: a day
of change lists loaded while nothing dialed costs nothing.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from dnc.registry import blobs
from dnc.registry.local import fetch_locked, in_force, record_host
from dnc.registry.snapshot import Store
from dnc.registry.sync import link_if_in_force
from dnc.tables import LedgerRecord, ListLoad, RegistryFile

log = logging.getLogger(__name__)

KEEP_DAYS = 5 * 365 + 1


@dataclass
class SyncReport:
    """What one sync did on this host (``action``) and what it found."""

    in_force: str | None
    serving: str | None
    action: str  # none | linked | fetched | busy | failed | unstored | no_registry
    detail: str = ""
    bytes: int = 0
    transferred: int = 0
    seconds: float = 0.0
    published: bool = False
    pruned_database: list[str] = field(default_factory=list)
    pruned_disk: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        words = {
            "none": f"this host already serves {self.in_force}: nothing to fetch",
            "linked": f"{self.in_force} was already in the directory: now served",
            "fetched": f"fetched {self.in_force} from the database: {self.bytes / 2**20:,.0f} MB on disk, "
                       f"{self.transferred / 2**20:,.0f} MB read, checksums verified, in {self.seconds:.1f} s",
            "busy": f"{self.in_force} is being fetched by another process on this host",
            "failed": f"fetching {self.in_force} failed: {self.detail}; this host refuses what it covers until a "
                      "fetch succeeds",
            "unstored": f"this host does not have {self.in_force} and the database does not hold its files: publish "
                        "them from a host that has it (`dialer dnc sync`, publishing)",
            "no_registry": "no national registry has been loaded: nothing may be dialed until one is",
        }
        out = [words[self.action]]
        if self.published:
            out.append(f"stored {self.in_force} in the database for the other hosts")
        if self.pruned_database or self.pruned_disk:
            out.append(f"pruned {', '.join(sorted(set(self.pruned_database) | set(self.pruned_disk)))} "
                       f"({len(self.pruned_database)} from the database, {len(self.pruned_disk)} from this directory)")
        return "; ".join(out)


def sync_host(bind, store: Store, now: datetime, *, wait: bool = True, publish: bool = False, prune: bool = True,
              keep_days: int = KEEP_DAYS) -> SyncReport:
    """Make ``store`` serve the generation in force (fetching it if need be), optionally store a generation this
    host has and the database lacks (``publish``), prune what the reports no longer need; record this host's row."""
    open_ = blobs.opener(bind)
    with open_() as s:
        force = in_force(s)
        stored = force is not None and blobs.is_stored(s, force.generation)
    if force is None:
        report = SyncReport(None, store.current_name(), "no_registry")
    else:
        gen = force.generation
        report = SyncReport(gen, None, "none")
        if not store.has(gen):
            if not stored:
                report.action = "unstored"
            else:
                out = fetch_locked(open_, store, gen, wait=wait, at=now)
                report.action = {"present": "linked"}.get(out.state, out.state)
                report.detail, report.bytes, report.transferred, report.seconds = (out.detail, out.bytes,
                                                                                    out.transferred, out.seconds)
        if store.has(gen):
            if link_if_in_force(open_, store, gen) and report.action == "none":
                report.action = "linked"
            if publish and not stored:
                with blobs.opener(bind, write=True)() as s:
                    blobs.publish(s, store.root / "generations" / gen, force.load_id, now)
                    s.commit()
                report.published = True
        report.serving = store.current_name()
    if prune:
        report.pruned_database, report.pruned_disk = prune_generations(bind, store, now, keep_days)
    state = {"none": "ok", "linked": "ok", "fetched": "ok", "busy": "fetching", "failed": "failed",
             "unstored": "missing", "no_registry": "ok"}[report.action]
    record_host(bind, store, now, generation=report.serving, in_force_name=report.in_force, state=state,
                detail=report.detail if report.action == "failed" else report.text())
    return report


def retained(session: Session, now: datetime, keep_days: int = KEEP_DAYS) -> tuple[list[str], list[str]]:
    """(kept, prunable) national generations, in load order (see the module's retention rule)."""
    loads = session.execute(select(ListLoad.id, ListLoad.generation, ListLoad.loaded_at)
                            .where(ListLoad.source == "national", ListLoad.generation.is_not(None))
                            .order_by(ListLoad.loaded_at, ListLoad.id)).all()
    if not loads:
        return [], []
    current = max(loads, key=lambda r: r[0])[1]
    since = now - timedelta(days=keep_days)
    kept, prunable = [], []
    for i, (_, gen, start) in enumerate(loads):
        end = loads[i + 1][2] if i + 1 < len(loads) else None
        if gen == current or end is None:
            kept.append(gen)
            continue
        dialed = end > since and session.scalar(select(exists().where(
            LedgerRecord.kind == "gate", LedgerRecord.allowed.is_(True), LedgerRecord.at >= max(start, since),
            LedgerRecord.at < end)))
        (kept if dialed else prunable).append(gen)
    return kept, [g for g in prunable if g not in set(kept)]


def prune_generations(bind, store: Store, now: datetime, keep_days: int = KEEP_DAYS) -> tuple[list[str], list[str]]:
    """Drop the prunable generations' files from the database and this directory; returns (database, disk)."""
    with blobs.opener(bind, write=True)() as s:
        _, prunable = retained(s, now, keep_days)
        in_db = set(s.scalars(select(RegistryFile.generation).where(RegistryFile.generation.in_(prunable))))
        for gen in sorted(in_db):
            blobs.drop(s, gen)
        s.commit()
    serving = store.current_name()
    on_disk = [g for g in prunable if g != serving and store.has(g)]
    for gen in on_disk:
        shutil.rmtree(store.root / "generations" / gen, ignore_errors=True)
    if in_db or on_disk:
        log.info("pruned registry generations %s (database) and %s (%s)", sorted(in_db), on_disk, store.root)
    return sorted(in_db), on_disk
