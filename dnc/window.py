"""The calling window: may a number be called at instant ``at``, and when may it be called next?

The law reads hours in the called party's local time, and we only know candidates (``dnc.zones``): the call is
allowed only if it is allowed in EVERY candidate zone under EVERY applicable rule (federal plus each candidate
state: windows per weekday, Sunday/Saturday bans, holidays, declared blackouts). The candidate zones are the ones
given plus every zone of every candidate state (``dnc.zones.with_state_zones``), so a Texas lead on a New York
number is held to Texas's Sunday noon in Central and Mountain time. No known zone, for the number or for any
candidate state, means no call. ``consent`` (prior express written consent in force) lifts the day bans a state
lists under ``consent_lifts`` (Utah's Sunday and holiday ban), never a window's hours.
All numbers come from ``dnc.rules`` (the data file); the arithmetic is ``zoneinfo``, so DST, Arizona, Hawaii,
Alaska and Puerto Rico need no special cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dnc.reasons import Reason
from dnc.rules import Rules, StateRule, current_rules, holidays_of
from dnc.zones import with_state_zones

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAY_KEY = ("weekdays",) * 5 + ("saturday", "sunday")


@lru_cache(maxsize=512)
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_zone(zone: str, states: frozenset[str], applicable: tuple[StateRule, ...], at: datetime,
                rules: Rules, consent: bool = False) -> tuple[str, list[Reason]]:
    """The window applied in one zone that day (``"09:00-20:00"`` or ``"closed"``) and why the call is refused."""
    tz = _zone(zone)
    if tz is None:
        return "unknown", [Reason("unknown_zone", f"unknown time zone {zone!r}")]
    local = at.astimezone(tz)
    d, wd = local.date(), local.weekday()
    reasons: list[Reason] = []
    for b in rules.blackouts:
        if b.start <= d <= b.end and (not b.states or b.states & states):
            where = "/".join(sorted(b.states & states)) if b.states else "everywhere"
            reasons.append(Reason(b.code, f"{d} is a declared no-call day in {where}: {b.reason}"))
    dst = int(local.dst().total_seconds() // 60) if local.dst() else 0
    lo, hi, lo_by, hi_by = 0, 24 * 60, "", ""
    for rule in applicable:
        lifted = rule.consent_lifts if consent else frozenset()
        if rule.holidays_closed and "holidays" not in lifted:
            name = holidays_of(rule.name, d.year).get(d)
            if name:
                reasons.append(Reason("holiday", f"{d} is {name} in {rule.name}: no calls on holidays there"))
        iv = rule.day(wd)
        if iv is None and _DAY_KEY[wd] in lifted:
            continue  # banned that day only without consent: the other rules' hours still hold
        if iv is None:
            code = {5: "saturday_ban", 6: "sunday_ban"}.get(wd, "outside_window")
            reasons.append(Reason(code, f"no calls on {_DAY_NAMES[wd]}s in {rule.name}"))
            lo, hi = 0, 0
            continue
        start, end = iv
        if rule.standard_time and dst:
            start += dst  # stated in standard time: in summer the window must hold under both readings
        if start > lo:
            lo, lo_by = start, rule.name
        if end < hi:
            hi, hi_by = end, rule.name
    applied = f"{_hm(lo)}-{_hm(hi)}" if lo < hi else "closed"
    if lo < hi and reasons == []:
        secs = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
        if not lo * 60 <= secs < hi * 60:
            by = lo_by if secs < lo * 60 else hi_by
            reasons.append(Reason("outside_window", f"{local:%H:%M} {_DAY_NAMES[wd][:3]} in {zone} is outside the "
                                                    f"calling window {applied} ({by or 'federal'})"))
    elif lo >= hi and not reasons:
        reasons.append(Reason("outside_window", f"the rules of {', '.join(r.name for r in applicable)} leave no "
                                                f"common window on {_DAY_NAMES[wd]} in {zone}"))
    return applied, reasons


def all_zones(zones: Iterable[str], states: Iterable[str]) -> tuple[tuple[str, ...], tuple[Reason, ...]]:
    """The zones the window is read in (the given ones plus every candidate state's) and the ``unknown_zone``
    reasons: no zone given, or a candidate state whose zones are unknown."""
    given = frozenset(z for z in zones if z)
    if not given:
        return (), (Reason("unknown_zone", "no time zone is known for this number: it may not be called"),)
    found, unknown = with_state_zones(given, frozenset(states))
    return found, tuple(Reason("unknown_zone", f"no time zone is known for {s}, a state the called party may be "
                                               "in: it may not be called") for s in unknown)


def _evaluate(zones: Iterable[str], states: Iterable[str], at: datetime, rules: Rules | None,
              consent: bool = False) -> tuple[dict[str, str], tuple[Reason, ...]]:
    if at.tzinfo is None:
        raise ValueError("pass an aware datetime")
    rules = rules or current_rules()
    states = frozenset(states)
    zones, unknown = all_zones(zones, states)
    if not zones:
        return {}, unknown
    applicable = rules.applicable(states)
    applied: dict[str, str] = {}
    reasons: list[Reason] = list(unknown)
    for z in zones:
        applied[z], found = _check_zone(z, states, applicable, at, rules, consent)
        reasons.extend(r for r in found if r not in reasons)
    return applied, tuple(reasons)


def is_open(zones: Iterable[str], states: Iterable[str], at: datetime, rules: Rules | None = None,
            consent: bool = False) -> tuple[bool, tuple[Reason, ...]]:
    """True when every candidate zone allows a call at ``at`` under every applicable rule; else every reason."""
    _, reasons = _evaluate(zones, states, at, rules, consent)
    return not reasons, reasons


def window_applied(zones: Iterable[str], states: Iterable[str], at: datetime, rules: Rules | None = None,
                   consent: bool = False) -> dict[str, str]:
    """Per zone, the intersected local window of that local day (logged with every decision)."""
    return _evaluate(zones, states, at, rules, consent)[0]


def next_opening(zones: Iterable[str], states: Iterable[str], at: datetime, rules: Rules | None = None,
                 consent: bool = False) -> datetime | None:
    """The first instant at or after ``at`` when the window is open; None if none within the horizon or no zone.

    A window can only open at some zone's local midnight or at a rule's start time (or one DST hour later, for
    rules stated in standard time), so those instants are the only candidates; each is checked with ``is_open``.
    """
    rules = rules or current_rules()
    states = frozenset(states)
    zones, unknown = all_zones(zones, states)
    if not zones or unknown or any(_zone(z) is None for z in zones):
        return None
    at_utc = at.astimezone(UTC)
    if is_open(zones, states, at_utc, rules, consent)[0]:
        return at
    limit = at_utc + timedelta(days=rules.next_opening_horizon_days)
    minutes = sorted({0, *rules.starts, *(s + 60 for s in rules.starts if s + 60 < 24 * 60)})
    candidates: set[datetime] = set()
    for z in zones:
        tz = _zone(z)
        first = at_utc.astimezone(tz).date()
        for k in range(rules.next_opening_horizon_days + 2):
            d = first + timedelta(days=k)
            for m in minutes:
                c = datetime.combine(d, time(m // 60, m % 60), tz).astimezone(UTC)
                if at_utc < c <= limit:
                    candidates.add(c)
    for c in sorted(candidates):
        if is_open(zones, states, c, rules, consent)[0]:
            return c
    return None
