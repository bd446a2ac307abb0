"""Audit of the area codes' time zones against a second source: the zones of the ZIP codes that use each area code.

phonenumbers' zone data is the first source (as corrected by ``data/npa_zone_fixes.csv``); the second is the
``zipcodes`` package, which lists for every ZIP code its IANA zone and the area codes in use there. Zones are
compared by what they do (the UTC offset every week for ten years), so America/Detroit agrees with New York.

Only ZIP codes in a state the area code serves (``data/npa_states.csv``) are evidence for its zones: a border ZIP
code across the state line that lists a neighbour's area code (Eufaula, AL listing Georgia's 229) is reported but
not applied, because such a lead's own ZIP code or state brings its zone in anyway. ``tools/audit_npa_zones.py``
prints the report that ``docs/compliance-zones.md`` keeps; the test suite fails when a disagreement appears that
the fixes file (``data/npa_zone_fixes.csv``) does not settle. Reading ``zipcodes`` costs ~140 MB, so nothing at
run time imports this module.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers

from dnc.zones import _area_code_zone_index, area_code_states, zip_zone

US_REGIONS = {"US", "PR", "GU", "VI", "MP", "AS"}
_SAMPLES = tuple(datetime(2026, 1, 1, 12, tzinfo=UTC) + timedelta(weeks=w) for w in range(52 * 10))


@cache
def behaviour(zone: str) -> tuple | None:
    """The zone's UTC offsets over ten years, weekly (None for a name that is no IANA zone)."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return tuple(t.astimezone(tz).utcoffset() for t in _SAMPLES)


@dataclass
class AreaCode:
    npa: str
    states: tuple[str, ...]
    zones: tuple[str, ...]  # phonenumbers' zones as corrected
    missing: dict[str, list[str]] = field(default_factory=dict)  # zone -> in-state ZIP codes keeping it
    unsupported: list[str] = field(default_factory=list)  # zones no in-state ZIP code keeps
    border: dict[str, list[str]] = field(default_factory=dict)  # zone -> other-state ZIP codes (not applied)
    evidence: int = 0  # in-state ZIP codes listing the area code


def _zip_evidence() -> dict[str, list[tuple[str, str, str]]]:
    """Area code -> (ZIP code, state, zone) of the ZIP codes listing it; the zone as shipped in
    ``data/zip_zones.csv`` (with its corrections), the package's own where the file lacks the ZIP code."""
    import zipcodes

    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for z in zipcodes.list_all():
        if z.get("active"):
            zone = zip_zone(z["zip_code"]) or z.get("timezone") or ""
            for npa in z.get("area_codes") or []:
                out[npa].append((z["zip_code"], z.get("state") or "", zone))
    return out


def _us(npa: str) -> bool:
    return phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{npa}2000000")) in US_REGIONS


def audit() -> list[AreaCode]:
    """Every US area code whose zones and its ZIP codes' zones disagree, or that no ZIP code lists."""
    zips = _zip_evidence()
    out = []
    for npa, zones in sorted(_area_code_zone_index().items()):
        if not zones or len(zones) > 6 or not _us(npa):
            continue  # toll-free and other non-geographic codes: every zone, i.e. none known
        states = area_code_states(npa)
        row = AreaCode(npa, tuple(sorted(states)), tuple(sorted(zones)))
        have = {behaviour(z) for z in zones}
        seen = set()
        for zip5, state, zone in zips.get(npa, ()):
            inside = state in states
            row.evidence += inside
            if inside:
                seen.add(behaviour(zone))
            if behaviour(zone) not in have or behaviour(zone) is None:
                (row.missing if inside else row.border).setdefault(zone or "(none)", []).append(zip5)
        if row.evidence:
            row.unsupported = [z for z in row.zones if behaviour(z) not in seen]
        if row.missing or row.unsupported or row.border or not row.evidence:
            out.append(row)
    return out


def unsettled(rows: list[AreaCode]) -> list[str]:
    """In-state disagreements the fixes file does not settle (expected: none)."""
    problems = []
    for r in rows:
        for zone, where in r.missing.items():
            problems.append(f"{r.npa}: ZIP codes {', '.join(where[:3])} keep {zone}, not among {', '.join(r.zones)}")
        if r.unsupported:
            problems.append(f"{r.npa}: no ZIP code of {'/'.join(r.states)} keeps {', '.join(r.unsupported)}")
    return problems


def markdown(rows: list[AreaCode]) -> str:
    """The report as the tables of ``docs/compliance-zones.md``."""
    lines = ["| area code | states | zones in use | disagreement | ZIP codes |", "|---|---|---|---|---|"]
    for r in rows:
        if not r.evidence:
            continue
        for zone, where in r.missing.items():
            lines.append(f"| {r.npa} | {' '.join(r.states)} | {', '.join(r.zones)} | ZIP codes keep {zone} | "
                         f"{len(where)}: {', '.join(where[:4])} |")
        for zone in r.unsupported:
            lines.append(f"| {r.npa} | {' '.join(r.states)} | {', '.join(r.zones)} | no ZIP code keeps {zone} | |")
    lines += ["", "| area code | states | zones in use | other-state ZIP codes listing it (not applied) |",
              "|---|---|---|---|"]
    for r in rows:
        for zone, where in r.border.items():
            lines.append(f"| {r.npa} | {' '.join(r.states)} | {', '.join(r.zones)} | {zone}: {len(where)} "
                         f"({', '.join(where[:4])}) |")
    lines += ["", "Area codes no ZIP code lists (new overlays; not auditable this way): "
              + ", ".join(f"{r.npa} ({'/'.join(r.states)})" for r in rows if not r.evidence)]
    return "\n".join(lines) + "\n"
