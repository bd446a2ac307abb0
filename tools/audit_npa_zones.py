"""Print the audit of every area code's time zones against the zones of the ZIP codes that use it (markdown).

The tables of ``docs/compliance-zones.md`` come from here; rerun after upgrading phonenumbers or zipcodes, settle
each new in-state disagreement in ``dnc/data/npa_zone_fixes.csv`` and update the doc. Exit status 1 while any
in-state disagreement is unsettled.
Usage: python tools/audit_npa_zones.py
"""

from __future__ import annotations

import sys

from dnc.zone_audit import audit, markdown, unsettled


def main() -> int:
    rows = audit()
    sys.stdout.write(markdown(rows))
    problems = unsettled(rows)
    for p in problems:
        print(f"UNSETTLED {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
