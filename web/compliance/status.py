"""Ages of the suppression sources in force: the national registry must be at most 31 days old at call time, and
every host must have the generation in force (a host without it refuses the numbers it covers); the Reassigned
Numbers Database data at most as old as the rules allow (else calls resting on consent wait)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dnc.lists import current_loads
from dnc.reassigned import in_force
from dnc.registry.local import hosts
from dnc.registry.snapshot import Store
from dnc.registry.sync import Unavailable, resolve
from dnc.rules import current_rules
from dnc.tables import ListLoad

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
    available: bool = True  # this server has the generation in force
    why: str = ""  # ... and if not, why not
    hosts: list[dict] = field(default_factory=list)


HOST_FRESH = timedelta(hours=1)  # a host that has not synced for longer is shown as not seen


def host_rows(session: Session, in_force: str | None, now: datetime) -> list[dict]:
    """Every host's snapshot directory as its last sync left it, in plain words."""
    out = []
    for h in hosts(session):
        ok = h.generation is not None and h.generation == in_force
        if now - h.checked_at > HOST_FRESH:
            words, tone_ = f"not seen since {h.checked_at:%Y-%m-%d %H:%M} UTC", "warn"
        elif ok:
            words, tone_ = "has the snapshot in force", "ok"
        elif h.state == "failed":
            words, tone_ = f"refusing: the fetch of {in_force} failed ({h.detail})", "bad"
        elif h.state == "fetching":
            words, tone_ = f"refusing while it fetches {in_force}", "warn"
        else:
            words, tone_ = f"refusing: it does not have {in_force} yet", "bad"
        out.append({"host": h.host, "dnc_dir": h.dnc_dir, "serves": h.generation, "checked_at": h.checked_at,
                    "words": words, "tone": tone_})
    return out


def registry_status(store: Store, today: date, session: Session | None = None,
                    now: datetime | None = None) -> RegistryStatus:
    """The snapshot in force (as the database names it, when given one), its area codes grouped by version date
    with the age of each version, whether this server has it, and every host's last sync."""
    limit = current_rules().registry_max_age_days
    snap = resolve(session, store, now) if session is not None else store.current()
    if snap is None:
        return RegistryStatus(False, None, 0, 0, None, limit, "bad", [])
    by_version: dict[date, list[str]] = defaultdict(list)
    for npa, cov in snap.coverage.items():
        by_version[cov.version_date].append(npa)
    groups = [VersionGroup(v, (today - v).days, sorted(npas), tone((today - v).days, limit), (today - v).days > limit)
              for v, npas in sorted(by_version.items())]
    oldest = groups[0].age_days if groups else None
    missing = isinstance(snap, Unavailable)
    return RegistryStatus(True, snap.generation, snap.count, len(snap.coverage), oldest, limit,
                          "bad" if missing or not groups else tone(oldest, limit), groups, not missing,
                          snap.why if missing else "",
                          host_rows(session, snap.generation, now) if session is not None and now else [])


def list_loads(session: Session, today: date) -> list[dict]:
    """Each state, litigator, wireless or prefix list in force, with its version age."""
    limit = current_rules().registry_max_age_days
    return [{"source": ld.source, "key": ld.list_key, "version": ld.version_date,
             "age_days": (today - ld.version_date).days, "tone": tone((today - ld.version_date).days, limit),
             "count": ld.count, "malformed": ld.malformed, "loaded_at": ld.loaded_at, "by": ld.loaded_by}
            for ld in current_loads(session)]


def rnd_status(session: Session, today: date) -> dict:
    """The Reassigned Numbers Database data in force: version, age against the rules' limit, the newest load."""
    rules = current_rules().reassigned
    data = in_force(session)
    out = {"loaded": data is not None, "limit_days": rules.max_age_days, "required": rules.required, "tone": "bad"}
    if data is None:
        return out
    load = session.scalar(select(ListLoad).where(ListLoad.id == data.load_id))
    age = (today - data.version_date).days
    return {**out, "version": data.version_date, "age_days": age, "tone": tone(age, rules.max_age_days),
            "expired": age > rules.max_age_days, "count": load.count, "mode": load.mode, "malformed": load.malformed,
            "loaded_at": load.loaded_at, "by": load.loaded_by, "vendor": load.vendor}
