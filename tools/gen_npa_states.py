"""Regenerate ``dnc/data/npa_states.csv``: the US states and territories each NANP area code serves.

Derived from phonenumbers' geocoding data (city-level ``City, ST`` and area-code-level state names); area codes
it lacks (new overlays) take the states of the ZIP codes that list them in the ``zipcodes`` package. It is a
data file, not code, so a compliance officer can correct a row; rerun this after upgrading phonenumbers.
Usage: python tools/gen_npa_states.py > dnc/data/npa_states.csv
"""

from __future__ import annotations

import sys
from collections import defaultdict

from phonenumbers.geodata import GEOCODE_DATA

NAMES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA", "Colorado": "CO",
    "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID",
    "Illinois": "IL", "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX",
    "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA", "West Virginia": "WV",
    "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC", "Washington DC": "DC",
    "District of Columbia": "DC", "Puerto Rico": "PR", "Guam": "GU", "US Virgin Islands": "VI",
    "Northern Mariana Islands": "MP", "American Samoa": "AS",
}
CODES = set(NAMES.values())


def state_of(description: str) -> str | None:
    if description in NAMES:
        return NAMES[description]
    tail = description.rsplit(",", 1)[-1].strip()
    return tail if tail in CODES else NAMES.get(tail)


US_REGIONS = {"US", "PR", "GU", "VI", "MP", "AS"}


def _us_area_code(npa: str) -> bool:
    """False for Canadian and Caribbean area codes that US ZIP codes near a border happen to list."""
    import phonenumbers

    region = phonenumbers.region_code_for_number(phonenumbers.parse(f"+1{npa}2000000"))
    return region in US_REGIONS or region is None


def main() -> None:
    states: dict[str, set[str]] = defaultdict(set)
    for prefix, names in GEOCODE_DATA.items():
        if not prefix.startswith("1") or len(prefix) < 4:
            continue
        st = state_of(names.get("en", ""))
        if st:
            states[prefix[1:4]].add(st)
    import zipcodes

    from_zips: dict[str, set[str]] = defaultdict(set)
    for z in zipcodes.list_all():
        for npa in z.get("area_codes") or []:
            if z.get("state") in CODES:
                from_zips[npa].add(z["state"])
    for npa, sts in from_zips.items():
        if npa not in states and _us_area_code(npa):
            states[npa] = sts
    out = sys.stdout
    out.write("npa,states\n")
    for npa in sorted(states):
        out.write(f"{npa},{' '.join(sorted(states[npa]))}\n")


if __name__ == "__main__":
    main()
