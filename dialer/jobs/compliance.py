"""The compliance jobs: warn before a national-registry version or the Reassigned Numbers Database data pass their
age limits (and say when they have), keep this host's snapshot directory serving the generation in force, and keep
the reconciliation's verdicts current."""

from __future__ import annotations

import hashlib
import logging
import socket
from datetime import datetime

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)


FRESHNESS_WARN_DAYS = 7  # warn a week before a registry version stops being usable


def registry_freshness(session: Session, now: datetime, store=None) -> dict:
    """Area codes whose national-registry version is near (``warn``) or past (``expired``) the age limit."""
    from dnc.registry import default_store
    from dnc.rules import current_rules

    limit = current_rules().registry_max_age_days
    snap = (store or default_store()).current()
    if snap is None:
        log.error("no national DNC registry is loaded: nothing can be dialed")
        return {"loaded": False, "limit_days": limit, "warn": {}, "expired": {}}
    today = now.date()
    warn: dict[str, list[str]] = {}
    expired: dict[str, list[str]] = {}
    for npa, cov in sorted(snap.coverage.items()):
        age = (today - cov.version_date).days
        if age > limit:
            expired.setdefault(cov.version_date.isoformat(), []).append(npa)
        elif age >= limit - FRESHNESS_WARN_DAYS:
            warn.setdefault(cov.version_date.isoformat(), []).append(npa)
    for version, npas in warn.items():
        log.warning("national DNC registry version %s (%d area codes) reaches the %d-day limit in %d days: "
                    "load a newer one", version, len(npas), limit,
                    limit - (today - datetime.fromisoformat(version).date()).days)
    for version, npas in expired.items():
        log.error("national DNC registry version %s is past the %d-day limit: %d area codes are not dialed",
                  version, limit, len(npas))
    return {"loaded": True, "limit_days": limit, "warn": warn, "expired": expired}


def rnd_freshness(session: Session, now: datetime) -> dict:
    """Whether the Reassigned Numbers Database data in force are near (``warn``) or past (``expired``) the rules'
    age limit; past it, or with none loaded, calls that rest on consent wait (``rnd_stale``). Said only when some
    consent is on record: an operator who never calls on consent needs no RND data."""
    from sqlalchemy import select

    from dnc.reassigned import in_force
    from dnc.rules import current_rules
    from dnc.tables import Consent

    rules = current_rules().reassigned
    out: dict = {"limit_days": rules.max_age_days, "required": rules.required}
    data = in_force(session)
    if data is None:
        out["loaded"] = False
        if rules.required and session.scalar(select(Consent.id).limit(1)) is not None:
            log.error("no Reassigned Numbers Database data are loaded: calls that rest on consent are not placed "
                      "(dialer dnc load-rnd)")
        return out
    age = data.age_days(now)
    out.update(loaded=True, version_date=data.version_date.isoformat(), age_days=age,
               expired=age > rules.max_age_days, warn=rules.max_age_days - FRESHNESS_WARN_DAYS <= age
               <= rules.max_age_days)
    if not rules.required or session.scalar(select(Consent.id).limit(1)) is None:
        return out
    if out["expired"]:
        log.error("the Reassigned Numbers Database data (version %s) are %d days old, past the %d-day limit: calls "
                  "that rest on consent are not placed", data.version_date, age, rules.max_age_days)
    elif out["warn"]:
        log.warning("the Reassigned Numbers Database data (version %s) reach the %d-day limit in %d days: ask the "
                    "RND again and load the answers", data.version_date, rules.max_age_days, rules.max_age_days - age)
    return out


def registry_sync_name(store=None) -> str:
    """The job's lease is per host and snapshot directory: every host fetches for itself, none waits for another."""
    from dnc.registry import default_store

    where = str((store or default_store()).root.resolve())
    return f"registry-sync@{socket.gethostname()[:36]}:{hashlib.sha256(where.encode()).hexdigest()[:8]}"


def registry_sync(session: Session, now: datetime, store=None) -> dict:
    """Fetch the generation in force when this host lacks it (a load on another host), prune the generations the
    reports no longer need. Its own short transactions only: a long fetch never holds the job's session open."""
    from dnc.registry import default_store
    from dnc.registry.upkeep import sync_host

    report = sync_host(session.get_bind(), store or default_store(), now)
    if report.action in ("failed", "unstored"):
        log.error("national DNC registry: %s", report.text())
    elif report.action != "none" or report.pruned_database or report.pruned_disk:
        log.info("national DNC registry: %s", report.text())
    return {k: v for k, v in report.to_dict().items() if v not in (None, "", 0, 0.0, False, [])}


RECONCILE_STEP = 200_000  # calls judged per run at most: a backlog (after an upgrade) is worked off in steps


def reconciliation_verdicts(session: Session, now: datetime, store=None) -> dict:
    """Judge the calls placed since the last run for the reconciliation report (``campaigns.compliance.verdicts``),
    so the auditor's pages only read; a DNC request or consent recorded since re-judges its number's calls. The
    calls are read and judged with no write lock held; the verdicts are written in one short transaction."""
    from campaigns.compliance import verdicts

    r = verdicts.refresh_unlocked(session, store, now, limit=RECONCILE_STEP)
    if r is None:  # another refresh (a report's) judged meanwhile: nothing written, the next run goes on
        return {"judged": 0, "rejudged": 0, "findings": 0, "rebuilt": False, "raced": True}
    if r.findings:
        log.error("reconciliation: %d call(s) broke a rule in force when they were placed: see the console's "
                  "Reconciliation page", r.findings)
    return {"judged": r.judged, "rejudged": r.rejudged, "findings": r.findings, "rebuilt": r.rebuilt}
