"""Where a called party may be: every candidate time zone and state of a US number.

The law reads calling hours in the called party's local time, and we cannot know where a mobile number's owner
sits. So we take every plausible answer and let the window rule require all of them: the zones phonenumbers gives
for the longest matching prefix, every zone the area code spans (an NXX missing from its data falls back to one
zone, which is wrong for split area codes), and the zone of the lead's ZIP code. States likewise: the area code's
states (``data/npa_states.csv``), the ZIP code's state and the state on the lead. Unknown means "not callable".
"""

from __future__ import annotations

import csv
from functools import cache, lru_cache
from importlib import resources

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

UNKNOWN_ZONE = "Etc/Unknown"


@cache
def _area_code_zone_index() -> dict[str, frozenset[str]]:
    spans: dict[str, set[str]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            spans.setdefault(prefix[1:4], set()).update(z for z in zones if z != UNKNOWN_ZONE)
    return {npa: frozenset(z) for npa, z in spans.items()}


@cache
def _npa_states() -> dict[str, frozenset[str]]:
    text = resources.files("dnc").joinpath("data/npa_states.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {r["npa"]: frozenset(r["states"].split()) for r in rows}


def area_code_zones(npa: str) -> frozenset[str]:
    """Every zone phonenumbers knows for any prefix of this area code."""
    return _area_code_zone_index().get(npa, frozenset())


def area_code_states(npa: str) -> frozenset[str]:
    """The states and territories the area code serves (empty when unknown)."""
    return _npa_states().get(npa, frozenset())


@lru_cache(maxsize=65_536)
def _exchange_zones(npa_nxx: str) -> frozenset[str]:
    """Zones of a NANP number by its area code and exchange (six digits); cached because imports repeat them.

    phonenumbers' exchange data is right where it exists (850-434 Central) and falls back to one zone where it
    does not (850-222 and new exchanges get Eastern only), so every zone the area code spans is added: a split
    area code is then callable only in the hours it is callable in all its zones.
    """
    num = phonenumbers.PhoneNumber(country_code=1, national_number=int(npa_nxx + "0000"))
    zones = {z for z in pn_timezone.time_zones_for_number(num) if z != UNKNOWN_ZONE}
    if len(zones) > 6:  # toll-free and other non-geographic codes come back as "every NANP zone": unknown
        return frozenset()
    return frozenset(zones) | area_code_zones(npa_nxx[:3])


@lru_cache(maxsize=200_000)
def _zip(postal: str) -> tuple[str | None, str | None]:
    import zipcodes

    try:
        found = zipcodes.matching(postal[:5])
    except (ValueError, TypeError):
        return None, None
    if not found:
        return None, None
    return found[0].get("timezone") or None, found[0].get("state") or None


def zip_zone(postal: str | None) -> str | None:
    return _zip(postal)[0] if postal and len(postal) >= 5 and postal[:5].isdigit() else None


def zip_state(postal: str | None) -> str | None:
    return _zip(postal)[1] if postal and len(postal) >= 5 and postal[:5].isdigit() else None


def _nanp_digits(e164: str) -> str | None:
    return e164[2:] if e164.startswith("+1") and len(e164) == 12 and e164[2:].isdigit() else None


def candidate_zones(e164: str, postal: str | None = None) -> tuple[str, ...]:
    """Sorted IANA zones the called party may be in; empty when none is known (then the number is not callable)."""
    digits = _nanp_digits(e164)
    zones: set[str] = set()
    if digits is not None:
        zones |= _exchange_zones(digits[:6])
    else:
        try:
            num = phonenumbers.parse(e164)
            zones |= {z for z in pn_timezone.time_zones_for_number(num) if z != UNKNOWN_ZONE}
        except phonenumbers.NumberParseException:
            pass
    zz = zip_zone(postal)
    if zz:
        zones.add(zz)
    return tuple(sorted(zones))


def candidate_states(e164: str, postal: str | None = None, state: str | None = None) -> frozenset[str]:
    """Every state whose rules may apply: the area code's, the ZIP code's and the lead's own."""
    found: set[str] = set()
    digits = _nanp_digits(e164)
    if digits is not None:
        found |= area_code_states(digits[:3])
    zs = zip_state(postal)
    if zs:
        found.add(zs)
    if state:
        found.add(state.upper())
    return frozenset(found)
