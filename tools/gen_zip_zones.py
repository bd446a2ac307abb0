"""Regenerate ``dnc/data/zip_zones.csv``: each US ZIP code's IANA time zone and state.

Taken from the ``zipcodes`` package (an active record wins over a decommissioned one). Shipped as a small data
file because loading the package's full records costs ~140 MB of memory in every process that reads one ZIP code,
and because it is data a compliance officer may correct. Rerun after upgrading ``zipcodes``.
Usage: python tools/gen_zip_zones.py > dnc/data/zip_zones.csv
"""

from __future__ import annotations

import csv
import sys

import zipcodes


def main() -> None:
    index: dict[str, tuple[str, str]] = {}
    for z in zipcodes.list_all():
        code = z.get("zip_code")
        if code and (code not in index or z.get("active")):
            index[code] = (z.get("timezone") or "", z.get("state") or "")
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["zip", "timezone", "state"])
    for code in sorted(index):
        out.writerow([code, *index[code]])


if __name__ == "__main__":
    main()
