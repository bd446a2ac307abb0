"""Where a called party may be: every candidate time zone and state of a US number.

The law reads calling hours in the called party's local time, and we cannot know where a mobile number's owner
sits. So we take every plausible answer and let the window rule require all of them: the zones phonenumbers gives
for the longest matching prefix, every zone the area code spans (an NXX missing from its data falls back to one
zone, which is wrong for split area codes), and the zone of the lead's ZIP code. States likewise: the area code's
states (``data/npa_states.csv``), the ZIP code's state and the state on the lead; and every zone of every one of
those states counts too (``with_state_zones``): a 646 number whose lead lives in California is called in Pacific
hours as well. Unknown means "not callable".

phonenumbers' zone data is checked against a second source, the zones of the ZIP codes each area code serves;
where they disagree ``data/npa_zone_fixes.csv`` corrects it (907-581 is Alaska, not Honolulu), and
``docs/compliance-zones.md`` lists every disagreement with what was done about it.
"""

from __future__ import annotations

import contextlib
import csv
from functools import cache, lru_cache
from importlib import resources

import phonenumbers
from phonenumbers import timezone as pn_timezone
from phonenumbers.tzdata import TIMEZONE_DATA

from dnc.errors import UserError

UNKNOWN_ZONE = "Etc/Unknown"
# what a lead import stores for a state or ZIP cell it could not read (the cell itself is kept among the lead's
# other fields): never skipped, so the gate refuses the lead until someone corrects the address
UNREADABLE_STATE = "??"
UNREADABLE_ZIP = "?"


def _data(name: str) -> list[dict[str, str]]:
    text = resources.files("dnc").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def zone_fixes() -> tuple[dict[str, tuple[str, ...]], dict[str, frozenset[str]]]:
    """``data/npa_zone_fixes.csv``: (NANP prefix -> the zones that replace phonenumbers' for it, area code ->
    zones added to all its numbers). A bad row is a UserError naming it: a silently skipped fix is a violation."""
    replace: dict[str, tuple[str, ...]] = {}
    add: dict[str, set[str]] = {}
    for n, row in enumerate(_data("npa_zone_fixes.csv"), 2):
        prefix, action, zones = row["prefix"].strip(), row["action"].strip(), tuple(row["zones"].split())
        if not prefix.isdigit() or not 3 <= len(prefix) <= 7 or not zones or action not in ("set", "add") \
                or (action == "add" and len(prefix) != 3):
            raise UserError(f"dnc/data/npa_zone_fixes.csv line {n}: expected a 3-7 digit prefix, set or add (add: "
                            f"an area code) and zones, got {row}")
        if action == "set":
            replace["1" + prefix] = zones
        else:
            add.setdefault(prefix, set()).update(zones)
    return replace, {npa: frozenset(z) for npa, z in add.items()}


@cache
def _tz_data() -> dict[str, tuple[str, ...]]:
    """phonenumbers' NANP prefix -> zones table with the corrections applied."""
    data = {p: z for p, z in TIMEZONE_DATA.items() if p.startswith("1") and len(p) >= 4}
    data.update(zone_fixes()[0])
    return data


@cache
def _area_code_zone_index() -> dict[str, frozenset[str]]:
    spans: dict[str, set[str]] = {}
    for prefix, zones in _tz_data().items():
        spans.setdefault(prefix[1:4], set()).update(z for z in zones if z != UNKNOWN_ZONE)
    for npa, zones in zone_fixes()[1].items():
        spans.setdefault(npa, set()).update(zones)
    return {npa: frozenset(z) for npa, z in spans.items()}


@cache
def _npa_states() -> dict[str, frozenset[str]]:
    return {r["npa"]: frozenset(r["states"].split()) for r in _data("npa_states.csv")}


def area_code_zones(npa: str) -> frozenset[str]:
    """Every zone phonenumbers knows for any prefix of this area code, as corrected (``zone_fixes``)."""
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
    for prefix, zones in _tz_data().items():
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
    return {r["zip"]: (r["timezone"] or None, r["state"] or None) for r in _data("zip_zones.csv")}


def _zip(postal: str | None) -> tuple[str | None, str | None]:
    if not postal or len(postal) < 5:
        return None, None
    return _zip_index().get(postal[:5], (None, None))


def known_zip_codes() -> tuple[str, ...]:
    """Every ZIP code the ZIP data hold, sorted (a ZIP code outside them refuses the call: ``location_problems``)."""
    return tuple(sorted(_zip_index()))


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


def location_problems(e164: str, postal: str | None = None, state: str | None = None) -> tuple[str, ...]:
    """Why where the called party may be cannot be read, one sentence each (empty: it can); the gate refuses on any.

    A source left empty leaves the others to decide, but one that is there and cannot be read must not be skipped:
    a ZIP code nobody knows may be in the strictest state there is. A number needs a place of its own: a toll-free
    or other non-geographic number rings wherever its owner routes it, so a lead's ZIP code does not tell the hour
    there; and an area code outside the US states and territories (Canada, the Caribbean) is under rules this
    engine does not hold. (A state that is not one is caught by ``with_state_zones``: it has no known zone.)
    """
    problems: list[str] = []
    digits = _nanp_digits(e164)
    if digits is not None:
        if not _exchange_zones(digits[:6]):
            problems.append(f"{e164} has no place of its own (toll-free or non-geographic): nobody can tell the "
                            "hour where it rings, whatever the lead's address says")
        elif not area_code_states(digits[:3]):
            problems.append(f"area code {digits[:3]} serves no US state or territory: the calling rules there are "
                            "not in the rules file")
    if postal == UNREADABLE_ZIP:
        problems.append("the lead's ZIP code could not be read at import (kept as written among its fields): the "
                        "state and time zone of the address are unknown")
    elif postal and postal.strip() and _zip(postal) == (None, None):  # read as candidate_zones reads it
        problems.append(f"ZIP code {postal!r} is not one we know: the state and time zone of the address cannot "
                        "be read")
    if state == UNREADABLE_STATE:
        problems.append("the lead's state could not be read at import (kept as written among its fields): the "
                        "state rules that apply are unknown")
    return tuple(problems)


@cache
def _state_zone_index() -> dict[str, frozenset[str]]:
    """State -> every zone its ZIP codes keep and every zone of the area codes that serve it alone."""
    spans: dict[str, set[str]] = {}
    for zone, state in _zip_index().values():
        if state:
            spans.setdefault(state, set())
            if zone:
                spans[state].add(zone)
    for npa, states in _npa_states().items():
        if len(states) == 1:
            spans.setdefault(next(iter(states)), set()).update(area_code_zones(npa))
    return {s: frozenset(z) for s, z in spans.items()}


def state_zones(state: str) -> frozenset[str]:
    """Every zone a resident of the state (or territory) may be in; empty when none is known (AA, AE, AP ...)."""
    return _state_zone_index().get(state.upper(), frozenset())


def load() -> None:
    """Read every zone table now (the ZIP index, the area codes' states and zones, the exchange table).

    They load on first use, which is the pre-dial gate's first call: inside the dial loop's first claim, whose
    transaction holds SQLite's one write lock. That is ~0.35 s of CPU with nothing else running and several seconds
    on a loaded machine, during which the worker neither renews its lease nor publishes a decision (the floor then
    cried "is the dialer worker running?" right after a worker started). Workers call this before they dial.
    """
    _state_zone_index()
    _prefix_zone_table()
    candidate_zones("+12125550100", "10001")


@lru_cache(maxsize=4096)
def with_state_zones(zones: frozenset[str], states: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``zones`` plus every zone of every candidate state, and the candidate states with no known zone.

    The caller refuses the call when the second part is not empty: the law reads the hours where the called party
    is, and for such a state we cannot tell what time it is there.
    """
    out, unknown = set(zones), []
    for s in sorted(states):
        found = state_zones(s)
        if found:
            out |= found
        else:
            unknown.append(s)
    return tuple(sorted(out)), tuple(unknown)
