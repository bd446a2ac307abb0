"""The calling rules as data: federal and state windows, day and holiday bans, caps, wireless and consent flags.

The numbers change with statutes and counsel's reading of them, so they live in ``data/rules.toml`` (or the file
named by ``DIALER_DNC_RULES``), validated here into small frozen values the window and the gate read.
"""

from __future__ import annotations

import contextlib
import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from dnc import settings
from dnc.errors import UserError

Interval = tuple[int, int]  # minutes after local midnight, [start, end)
DAY_KEYS = ("weekdays", "saturday", "sunday")


CAP_CLOCKS = ("local", "elapsed")
CONSENT_LIFTABLE = ("saturday", "sunday", "holidays")
CONSENT_KINDS = ("pewc", "ebr_purchase", "ebr_inquiry")  # the consent and EBR records dnc.consent keeps


@dataclass(frozen=True)
class Reassigned:
    """F15: how Reassigned Numbers Database (RND) answers bear on calls that rest on consent or an EBR.

    ``checks``: the record kinds an RND "yes" voids (each speaks for whoever held the number when it was given);
    ``required``: a call resting on them waits (``rnd_stale``) without RND data at most ``max_age_days`` old;
    ``no_data_refuses``: a record older than the RND's data (``data_start``), for a number it records no
    disconnection of, gets "no data", no safe harbor, and is refused (``rnd_no_data``) when true.
    """

    checks: frozenset[str] = frozenset(CONSENT_KINDS)
    required: bool = True
    max_age_days: int = 31
    no_data_refuses: bool = True
    data_start: date = date(2021, 1, 27)


@dataclass(frozen=True)
class Cap:
    """At most ``calls`` calls to one number per rolling ``hours``. ``clock = "local"`` reads the hours on the
    called party's wall clock in every candidate zone as well as in elapsed time (the longer period wins: across a
    DST change "24 hours" of local time last 23 or 25)."""

    calls: int
    hours: int
    clock: str = "local"


@dataclass(frozen=True)
class Reading:
    """A question of law counsel has not settled, and the reading in force (the safe one unless changed)."""

    name: str
    holds: bool
    question: str


@dataclass(frozen=True)
class StateRule:
    """One jurisdiction's rule; ``None`` for a day means "closed"."""

    name: str
    weekdays: Interval | None
    saturday: Interval | None
    sunday: Interval | None
    holidays_closed: bool = False
    standard_time: bool = False
    cap: Cap | None = None
    wireless_restricted: bool = False
    autodialer_needs_consent: bool = False
    own_list: bool = False
    consent_lifts: frozenset[str] = frozenset()  # day bans that prior express written consent lifts
    ebr_lifts_list: bool = False  # the state's own list yields to an EBR (F10 exempts from the national list only)

    def day(self, weekday: int) -> Interval | None:
        """The window for a local weekday (Monday = 0)."""
        return self.weekdays if weekday < 5 else self.saturday if weekday == 5 else self.sunday


@dataclass(frozen=True)
class Blackout:
    states: frozenset[str]  # empty: everywhere
    start: date
    end: date  # inclusive
    code: str
    reason: str


@dataclass(frozen=True)
class Rules:
    version: str
    sha256: str
    federal: StateRule
    states: dict[str, StateRule]
    blackouts: tuple[Blackout, ...] = ()
    registry_max_age_days: int = 31
    internal_honor_business_days: int = 10
    internal_retention_years: int = 5
    ebr_purchase_months: int = 18
    ebr_inquiry_months: int = 3
    next_opening_horizon_days: int = 14
    send_margin_seconds: int = 60  # the window must still be open this long after the gate allows a call
    revoke_all_from: date | None = None  # F14: from this day one revocation ends every consent of the number
    # F14: words that, texted back, revoke consent and ask not to be called (``dnc.revocation``)
    revocation_words: tuple[str, ...] = ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke",
                                         "opt out", "optout")
    # words that, texted alone, withdraw the sender's own texted STOP (``dnc.revocation.opt_in_word``)
    opt_in_words: tuple[str, ...] = ("start", "unstop")
    starts: tuple[int, ...] = field(default=())  # every window start minute, for next_opening's candidates
    readings: dict[str, Reading] = field(default_factory=dict)
    reassigned: Reassigned = field(default_factory=Reassigned)

    def reading(self, name: str) -> Reading:
        """A named reading of unsettled law; one the file does not name holds (the safe reading)."""
        return self.readings.get(name) or Reading(name, True, "")

    def applicable(self, states) -> tuple[StateRule, ...]:
        """Federal first, then each candidate state that has a rule (sorted, so reasons come out stably)."""
        return (self.federal, *(self.states[s] for s in sorted(states) if s in self.states))

    def caps_for(self, states) -> list[tuple[Cap, str]]:
        """Every call cap among the states, with the state's name: they all hold at once."""
        return [(r.cap, r.name) for r in self.applicable(states) if r.cap is not None]

    def cap_for(self, states) -> tuple[Cap, str] | None:
        """The strictest call cap among the states (fewest calls per hour of window), with the state's name; only
        says whether a cap applies at all (``caps_for`` gives every cap, which ``dnc.caps.cap_check`` enforces)."""
        caps = self.caps_for(states)
        return min(caps, key=lambda c: (c[0].calls / c[0].hours, c[0].calls)) if caps else None


def _minutes(text, where: str) -> int:
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (text[:2] + text[3:]).isdigit():
        raise UserError(f"{where}: expected a time like \"08:00\", got {text!r}")
    h, m = int(text[:2]), int(text[3:])
    if h > 24 or m > 59 or (h == 24 and m):
        raise UserError(f"{where}: {text!r} is not a time of day")
    return h * 60 + m


def _window(value, where: str, fallback: Interval | None) -> Interval | None:
    if value is None:
        return fallback
    if value == "closed":
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise UserError(f"{where}: expected [\"HH:MM\", \"HH:MM\"] or \"closed\", got {value!r}")
    start, end = _minutes(value[0], where), _minutes(value[1], where)
    if start >= end:
        raise UserError(f"{where}: window starts at or after it ends ({value[0]}-{value[1]})")
    return start, end


_STATE_KEYS = {"weekdays", "saturday", "sunday", "holidays", "standard_time", "cap", "wireless_restricted",
               "autodialer_needs_consent", "own_list", "consent_lifts", "ebr_lifts_list"}


def _rule(name: str, raw: dict, base: StateRule | None, where: str) -> StateRule:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a table")
    unknown = set(raw) - _STATE_KEYS
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    days = [_window(raw.get(k), f"{where}.{k}", base.day((0, 5, 6)[i]) if base else None)
            for i, k in enumerate(DAY_KEYS)]
    if base is None and None in days:
        raise UserError(f"{where}: the federal rule needs weekdays, saturday and sunday windows")
    hol = raw.get("holidays")
    if hol not in (None, "closed", "open"):
        raise UserError(f"{where}.holidays: expected \"closed\" or \"open\", got {hol!r}")
    cap = None
    if "cap" in raw:
        c = raw["cap"]
        if not (isinstance(c, dict) and isinstance(c.get("calls"), int) and isinstance(c.get("hours"), int)
                and c["calls"] >= 1 and c["hours"] >= 1 and set(c) <= {"calls", "hours", "clock"}
                and c.get("clock", "local") in CAP_CLOCKS):
            raise UserError(f"{where}.cap: expected {{ calls = N, hours = H[, clock = \"local\"|\"elapsed\"] }} "
                            "with positive integers")
        cap = Cap(c["calls"], c["hours"], c.get("clock", "local"))
    lifts = raw.get("consent_lifts", [])
    if not isinstance(lifts, list) or not set(lifts) <= set(CONSENT_LIFTABLE):
        raise UserError(f"{where}.consent_lifts: expected a list of {', '.join(CONSENT_LIFTABLE)}")
    flags = {}
    for k in ("standard_time", "wireless_restricted", "autodialer_needs_consent", "own_list", "ebr_lifts_list"):
        v = raw.get(k, False)
        if not isinstance(v, bool):
            raise UserError(f"{where}.{k}: expected true or false")
        flags[k] = v
    return StateRule(name, *days, holidays_closed=hol == "closed", cap=cap, consent_lifts=frozenset(lifts), **flags)


def _readings(raw, origin: str) -> dict[str, Reading]:
    out = {}
    for name, body in (raw or {}).items():
        where = f"{origin}: [readings.{name}]"
        if not isinstance(body, dict) or set(body) - {"holds", "question"} or not isinstance(body.get("holds"), bool):
            raise UserError(f"{where}: expected holds = true|false and a question")
        out[name] = Reading(name, body["holds"], str(body.get("question", "")))
    return out


def _reassigned(raw, origin: str) -> Reassigned:
    where = f"{origin}: [reassigned]"
    if raw is None:
        return Reassigned()
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a table")
    unknown = set(raw) - {"checks", "required", "max_age_days", "no_data_refuses", "data_start"}
    if unknown:
        raise UserError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    checks = raw.get("checks", list(CONSENT_KINDS))
    if not isinstance(checks, list) or not set(checks) <= set(CONSENT_KINDS):
        raise UserError(f"{where}.checks: expected a list of {', '.join(CONSENT_KINDS)}")
    for k in ("required", "no_data_refuses"):
        if not isinstance(raw.get(k, True), bool):
            raise UserError(f"{where}.{k}: expected true or false")
    age = raw.get("max_age_days", 31)
    if not isinstance(age, int) or isinstance(age, bool) or age < 0:
        raise UserError(f"{where}.max_age_days: must be an integer of at least 0")
    start = raw.get("data_start", date(2021, 1, 27))
    if isinstance(start, str):
        try:
            start = date.fromisoformat(start)
        except ValueError:
            raise UserError(f"{where}.data_start: expected a date like 2021-01-27") from None
    if not isinstance(start, date) or isinstance(start, datetime):
        raise UserError(f"{where}.data_start: expected a date like 2021-01-27")
    return Reassigned(frozenset(checks), raw.get("required", True), age, raw.get("no_data_refuses", True), start)


def _day(value, where: str) -> date:
    """A TOML date (``2027-01-31``) or the same as a string."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value)
    if not isinstance(value, date) or isinstance(value, datetime):
        raise UserError(f"{where}: expected a date like 2027-01-31")
    return value


def parse_rules(text: str, origin: str) -> Rules:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{origin}: {e}") from None
    federal = _rule("federal", raw.get("federal", {}), None, f"{origin}: [federal]")
    states = {}
    for code, body in (raw.get("states") or {}).items():
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            raise UserError(f"{origin}: [states.{code}]: state codes are two capital letters")
        states[code] = _rule(code, body, federal, f"{origin}: [states.{code}]")
    blackouts = []
    for i, b in enumerate(raw.get("blackouts") or [], 1):
        where = f"{origin}: [[blackouts]] #{i}"
        try:
            start, end = date.fromisoformat(b["start"]), date.fromisoformat(b["end"])
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{where}: start and end must be dates like \"2030-08-28\"") from None
        if b.get("code", "holiday") not in ("holiday", "emergency_ban") or end < start:
            raise UserError(f"{where}: code must be holiday or emergency_ban and end must not precede start")
        blackouts.append(Blackout(frozenset(b.get("states") or ()), start, end, b.get("code", "holiday"),
                                  str(b.get("reason", ""))))
    numbers = {}
    for k in ("registry_max_age_days", "internal_honor_business_days", "internal_retention_years",
              "ebr_purchase_months", "ebr_inquiry_months", "next_opening_horizon_days", "send_margin_seconds"):
        if k in raw:
            least = 0 if k == "send_margin_seconds" else 1
            if not isinstance(raw[k], int) or isinstance(raw[k], bool) or raw[k] < least:
                raise UserError(f"{origin}: {k} must be an integer of at least {least}")
            numbers[k] = raw[k]
    if "revoke_all_from" in raw:
        numbers["revoke_all_from"] = _day(raw["revoke_all_from"], f"{origin}: revoke_all_from")
    for k, example in (("revocation_words", '["stop", "quit"]'), ("opt_in_words", '["start", "unstop"]')):
        if k in raw:
            words = raw[k]
            if not isinstance(words, list) or not words or not all(isinstance(w, str) and w.strip() for w in words):
                raise UserError(f"{origin}: {k} must be a list of words, e.g. {example}")
            numbers[k] = tuple(w.strip() for w in words)
    starts = sorted({iv[0] for r in (federal, *states.values()) for iv in (r.weekdays, r.saturday, r.sunday) if iv})
    return Rules(version=str(raw.get("version", "")), sha256=hashlib.sha256(text.encode()).hexdigest(),
                 federal=federal, states=states, blackouts=tuple(blackouts), starts=tuple(starts),
                 readings=_readings(raw.get("readings"), origin), reassigned=_reassigned(raw.get("reassigned"), origin),
                 **numbers)


@cache
def _load(path: str | None) -> Rules:
    if path is None:
        text = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
        return parse_rules(text, "dnc/data/rules.toml")
    try:
        return parse_rules(Path(path).read_text(encoding="utf-8"), path)
    except OSError as e:
        raise UserError(f"{path}: cannot read the rules file ({e.strerror})") from None


def current_rules() -> Rules:
    """The rules in force: ``DIALER_DNC_RULES`` when set (counsel's copy), else the packaged file."""
    return _load(settings.current().dnc_rules)


@lru_cache(maxsize=512)
def holidays_of(state: str, year: int) -> dict[date, str]:
    """The state's holidays (federal and state) in a year, from the ``holidays`` package."""
    import holidays

    try:
        return dict(holidays.US(subdiv=state, years=year))
    except NotImplementedError:
        return dict(holidays.US(years=year))
