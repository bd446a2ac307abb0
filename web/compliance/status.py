"""Ages of the suppression sources in force: the national registry must be at most 31 days old at call time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from dnc.lists import current_loads
from dnc.registry.snapshot import Store
from dnc.rules import current_rules

WARN_BEFORE_DAYS = 7  # amber a week before the limit, red from 3 days before it ("near 31 days")
RED_BEFORE_DAYS = 3


def tone(age_days: int | None, limit: int) -> str:
    if age_days is None:
        return "bad"
    if age_days > limit or age_days >= limit - RED_BEFORE_DAYS:
        return "bad"
    if age_days >= limit - WARN_BEFORE_DAYS:
        return "warn"
    return "ok"


@dataclass(frozen=True)
class VersionGroup:
    version: date
    age_days: int
    area_codes: list[str]
    tone: str
    expired: bool


@dataclass(frozen=True)
class RegistryStatus:
    loaded: bool
    generation: str | None
    numbers: int
    area_codes: int
    oldest_age_days: int | None
    limit_days: int
    tone: str
    groups: list[VersionGroup]


def registry_status(store: Store, today: date) -> RegistryStatus:
    """The snapshot in force, its area codes grouped by version date with the age of each version."""
    limit = current_rules().registry_max_age_days
    snap = store.current()
    if snap is None:
        return RegistryStatus(False, None, 0, 0, None, limit, "bad", [])
    by_version: dict[date, list[str]] = defaultdict(list)
    for npa, cov in snap.coverage.items():
        by_version[cov.version_date].append(npa)
    groups = [VersionGroup(v, (today - v).days, sorted(npas), tone((today - v).days, limit), (today - v).days > limit)
              for v, npas in sorted(by_version.items())]
    oldest = groups[0].age_days if groups else None
    return RegistryStatus(True, snap.generation, snap.count, len(snap.coverage), oldest, limit,
                          tone(oldest, limit) if groups else "bad", groups)


def list_loads(session: Session, today: date) -> list[dict]:
    """Each state, litigator, wireless or prefix list in force, with its version age."""
    limit = current_rules().registry_max_age_days
    return [{"source": ld.source, "key": ld.list_key, "version": ld.version_date,
             "age_days": (today - ld.version_date).days, "tone": tone((today - ld.version_date).days, limit),
             "count": ld.count, "malformed": ld.malformed, "loaded_at": ld.loaded_at, "by": ld.loaded_by}
            for ld in current_loads(session)]
