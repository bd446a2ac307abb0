"""Where a called party may be: every candidate time zone and state of a US number.

The law reads calling hours in the called party's local time, and we cannot know where a mobile number's owner
sits. So we take every plausible answer and let the window rule require all of them: the zones phonenumbers gives
for the longest matching prefix, every zone the area code spans (an NXX missing from its data falls back to one
zone, which is wrong for split area codes), and the zone of the lead's ZIP code. States likewise: the area code's
states (``data/npa_states.csv``), the ZIP code's state and the state on the lead. Unknown means "not callable".
"""

from __future__ import annotations

import contextlib
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


@cache
def _prefix_zone_table() -> dict[str, tuple[str, ...]]:
    """For every NANP prefix in phonenumbers' zone data: the candidate zones of numbers it is the longest match of.

    phonenumbers' exchange data is right where it exists (850-434 Central) and falls back to one zone where it does
    not (850-222 and new exchanges get Eastern only), so every zone the area code spans is added: a split area code
    is then callable only in the hours it is callable in all its zones. Toll-free and other non-geographic codes
    come back as "every NANP zone" and count as unknown (empty).
    """
    table: dict[str, tuple[str, ...]] = {}
    for prefix, zones in TIMEZONE_DATA.items():
        if not prefix.startswith("1") or len(prefix) < 4:
            continue
        known = {z for z in zones if z != UNKNOWN_ZONE}
        if not known or len(known) > 6:
            table[prefix] = ()
        else:
            table[prefix] = tuple(sorted(known | area_code_zones(prefix[1:4])))
    return table


def _exchange_zones(npa_nxx: str) -> tuple[str, ...]:
    """Zones of a NANP number by area code and exchange: phonenumbers' longest-prefix rule on its own data."""
    table = _prefix_zone_table()
    for length in (6, 5, 4, 3):
        found = table.get("1" + npa_nxx[:length])
        if found is not None:
            return found
    return ()


@cache
def _zip_index() -> dict[str, tuple[str | None, str | None]]:
    """ZIP code -> (IANA zone, state), read once from ``data/zip_zones.csv`` (``tools/gen_zip_zones.py`` builds it
    from the zipcodes package, whose full records would cost every process ~140 MB)."""
    text = resources.files("dnc").joinpath("data/zip_zones.csv").read_text(encoding="utf-8")
    return {r["zip"]: (r["timezone"] or None, r["state"] or None) for r in csv.DictReader(text.splitlines())}


def _zip(postal: str | None) -> tuple[str | None, str | None]:
    if not postal or len(postal) < 5:
        return None, None
    return _zip_index().get(postal[:5], (None, None))


def zip_zone(postal: str | None) -> str | None:
    return _zip(postal)[0]


def zip_state(postal: str | None) -> str | None:
    return _zip(postal)[1]


def _nanp_digits(e164: str) -> str | None:
    return e164[2:] if e164.startswith("+1") and len(e164) == 12 and e164[2:].isdigit() else None


def candidate_zones(e164: str, postal: str | None = None) -> tuple[str, ...]:
    """Sorted IANA zones the called party may be in; empty when none is known (then the number is not callable)."""
    if len(e164) == 12 and e164[:2] == "+1" and e164[2:].isdigit():
        return _nanp_zones(e164[2:8], postal[:5] if postal else None)
    zones: set[str] = set()
    with contextlib.suppress(phonenumbers.NumberParseException):
        zones |= {z for z in pn_timezone.time_zones_for_number(phonenumbers.parse(e164)) if z != UNKNOWN_ZONE}
    zz = zip_zone(postal)
    if zz:
        zones.add(zz)
    return tuple(sorted(zones))


@lru_cache(maxsize=1 << 17)
def _nanp_zones(npa_nxx: str, zip5: str | None) -> tuple[str, ...]:
    """Cached per exchange and ZIP: an import sees the same pairs again and again."""
    zones = _exchange_zones(npa_nxx)
    zz = _zip_index().get(zip5, (None, None))[0] if zip5 else None
    if zz is None or zz in zones:
        return zones
    return tuple(sorted((*zones, zz)))


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
