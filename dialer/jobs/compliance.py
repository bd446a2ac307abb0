"""The compliance job: warn before a national-registry version passes its age limit, and say when it has."""

from __future__ import annotations

import logging
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
