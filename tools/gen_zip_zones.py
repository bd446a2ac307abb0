"""Regenerate ``dnc/data/zip_zones.csv``: each US ZIP code's IANA time zone and state.

Taken from the ``zipcodes`` package (an active record wins over a decommissioned one). Shipped as a small data
file because loading the package's full records costs ~140 MB of memory in every process that reads one ZIP code,
and because it is data a compliance officer may correct. Rerun after upgrading ``zipcodes``; ``FIXES`` keeps the
corrections of ``docs/compliance-zones.md`` (a zone the package gets wrong) and the run fails on any zone name that
is not an IANA zone, since an unknown zone makes every number with that ZIP code uncallable.
Usage: python tools/gen_zip_zones.py > dnc/data/zip_zones.csv
"""

from __future__ import annotations

import csv
import sys
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes

# ZIP code -> the zone it really keeps, where the zipcodes package says otherwise (see docs/compliance-zones.md)
FIXES = {
    "99634": "America/Anchorage",  # Napakiak, AK: the package has the city's name in the time-zone field
    "89883": "America/Denver",  # West Wendover, NV: on Mountain Time by federal order, not Pacific
}


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def main() -> None:
    index: dict[str, tuple[str, str]] = {}
    for z in zipcodes.list_all():
        code = z.get("zip_code")
        if code and (code not in index or z.get("active")):
            index[code] = (FIXES.get(code, z.get("timezone") or ""), z.get("state") or "")
    bad = sorted({zone for zone, _ in index.values() if zone and not _is_zone(zone)})
    if bad:
        sys.exit(f"not IANA time zones (add a FIXES entry): {', '.join(bad)}")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["zip", "timezone", "state"])
    for code in sorted(index):
        out.writerow([code, *index[code]])


if __name__ == "__main__":
    main()
