"""A campaign's dialing settings as a manager speaks of them: power ratio, retry delays, line cap, what to do on an
answering machine, attempts, the campaign's own calling hours and days, the abandon target and the wrap-up limit.

One table of fields (``FIELDS``) serves the console's form and ``dialer campaigns set NAME key=value``: each field
parses the text a person types (``2:30`` for two and a half hours, ``2.5`` or ``2.5 %`` for an abandon target),
refuses bad input with the field's label in the message, and formats the stored value back with its unit, so the
page, the command line and the change history say the same thing. Every change is recorded (``history``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.campaign import dial_settings
from campaigns.campaign.history import record
from campaigns.campaign.models import Campaign
from dnc.errors import UserError

FEDERAL_START, FEDERAL_END = 8 * 60, 21 * 60  # 08:00-21:00 at the called party: campaign hours stay inside it
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MACHINE_ACTIONS = {"hangup": "Hang up", "voicemail": "Leave the voicemail message"}
WRAP_THEN = {"ready": "Ready for the next call", "paused": "Paused"}
LEGAL = "strictest"  # calling_hours value: the legal window only (federal and state rules at the called party)


def hm(seconds: int | None) -> str:
    """``5400`` -> ``1:30`` (hours and minutes: how people say a retry delay)."""
    if seconds is None:
        return ""
    m = int(seconds) // 60
    return f"{m // 60}:{m % 60:02d}"


def parse_hm(label: str, text: str, lo_s: int, hi_s: int) -> int:
    """``"1:30"`` -> 5400 seconds (``"2"`` or ``"2h"``: two hours), between ``lo_s`` and ``hi_s``; a refusal names
    ``label``."""
    m = re.fullmatch(r"\s*(\d{1,3})(?::(\d{2}))?\s*(h)?\s*", text)
    if not m or (m.group(2) is not None and int(m.group(2)) > 59):
        raise UserError(f"{label}: give hours and minutes as h:mm, e.g. 4:00 or 0:30, not {text!r}")
    seconds = int(m.group(1)) * 3600 + int(m.group(2) or 0) * 60
    if not lo_s <= seconds <= hi_s:
        raise UserError(f"{label}: must be between {hm(lo_s)} and {hm(hi_s)} (h:mm), not {hm(seconds)}")
    return seconds


def _clock(label: str, text: str) -> int:
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not m or int(m.group(1)) > 24 or int(m.group(2)) > 59:
        raise UserError(f"{label}: give a time as hh:mm, e.g. 09:00, not {text!r}")
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_hours(text: str) -> str:
    """``09:00-20:00`` (read at the called party), or ``legal`` for the legal window alone."""
    label = "Calling hours"
    raw = text.strip().lower()
    if raw in ("", "legal", LEGAL, "any"):
        return LEGAL
    parts = re.split(r"\s*(?:-|–|to)\s*", raw)
    if len(parts) != 2:
        raise UserError(f"{label}: give a start and an end as hh:mm-hh:mm, e.g. 09:00-20:00, not {text!r}")
    start, end = _clock(label, parts[0]), _clock(label, parts[1])
    if start >= end:
        raise UserError(f"{label}: the start {parts[0]} must be before the end {parts[1]}")
    if start < FEDERAL_START or end > FEDERAL_END:
        raise UserError(f"{label}: must stay inside the legal window 08:00-21:00 at the called party, not {text!r}")
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def hours_window(value: str) -> tuple[int, int] | None:
    """Stored calling hours as minutes after midnight (start, end); None for the legal window alone."""
    if not value or value == LEGAL:
        return None
    start, end = value.split("-")
    return _clock("Calling hours", start), _clock("Calling hours", end)


def parse_days(text: str) -> str:
    """``mon-fri``, ``mon,wed,sat``, ``all`` or ``weekdays`` -> ISO weekday digits (``12345``)."""
    label = "Calling days"
    raw = text.strip().lower().replace(" ", "")
    if raw in ("all", "every", "everyday", "mon-sun", ""):
        return "1234567"
    if raw == "weekdays":
        return "12345"
    days: set[int] = set()
    for part in raw.split(","):
        ends = part.split("-")
        try:
            idx = [DAY_NAMES.index(e[:3]) for e in ends if e]
        except ValueError:
            raise UserError(f"{label}: use day names such as mon-fri or mon,wed,sat, not {text!r}") from None
        if len(idx) == 1 and len(ends) == 1:
            days.add(idx[0] + 1)
        elif len(idx) == 2 and idx[0] <= idx[1]:
            days.update(range(idx[0] + 1, idx[1] + 2))
        else:
            raise UserError(f"{label}: a range runs forward in the week, e.g. mon-fri, not {part!r}")
    return "".join(str(d) for d in sorted(days))


def days_text(value: str) -> str:
    if value == "1234567":
        return "every day"
    digits = [int(d) for d in value]
    if digits and digits == list(range(digits[0], digits[-1] + 1)) and len(digits) > 2:
        return f"{DAY_NAMES[digits[0] - 1]}-{DAY_NAMES[digits[-1] - 1]}"
    return ",".join(DAY_NAMES[d - 1] for d in digits)


def _number(label: str, text: str, lo: float, hi: float, unit: str = "", whole: bool = False) -> float:
    raw = text.strip().rstrip("%").strip() if unit == "%" else text.strip()
    try:
        v = int(raw) if whole else float(raw)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise UserError(f"{label}: must be {kind}, not {text!r}") from None
    if not lo <= v <= hi:
        u = f" {unit}" if unit else ""
        # a whole number past a float's range (400 digits) cannot be written with :g, nor is it worth quoting
        shown = f"a number of {len(str(abs(v)))} digits" if isinstance(v, int) and abs(v) >= 10 ** 15 else f"{v:g}{u}"
        raise UserError(f"{label}: must be between {lo:g}{u} and {hi:g}{u}, not {shown}")
    return v


@dataclass(frozen=True)
class Field:
    key: str  # what ``dialer campaigns set`` takes
    column: str  # the Campaign column
    label: str  # what the page and every message call it
    unit: str  # shown beside the value
    help: str
    parse: Callable[[str], object]
    show: Callable[[object], str]
    choices: dict[str, str] | None = None


def _optional_int(label: str, lo: int, hi: int, unit: str) -> Callable[[str], int | None]:
    def parse(text: str) -> int | None:
        if text.strip().lower() in ("", "none", "no", "off", "0"):
            return None
        return int(_number(label, text, lo, hi, unit, whole=True))
    return parse


def _choice(label: str, options: dict[str, str]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        raw = text.strip().lower()
        for key, words in options.items():
            if raw in (key, words.lower()):
                return key
        raise UserError(f"{label}: choose {' or '.join(options)}, not {text!r}")
    return parse


FIELDS: tuple[Field, ...] = (
    Field("power_ratio", "power_ratio", "Power ratio", "calls per ready agent",
          "Power mode only: how many calls are placed for each ready agent (1.0-5.0).",
          lambda t: round(_number("Power ratio", t, 1.0, 5.0), 2), lambda v: f"{v:g}"),
    Field("max_attempts", "max_attempts", "Attempts per lead at most", "attempts",
          "A lead is closed as exhausted after this many attempts.",
          lambda t: int(_number("Attempts per lead at most", t, 1, 100, whole=True)), str),
    Field("retry_no_answer", "retry_no_answer_s", "Retry after no answer", "h:mm",
          "How long a lead waits after a call nobody answered.",
          lambda t: parse_hm("Retry after no answer", t, 300, 7 * 86400), hm),
    Field("retry_busy", "retry_busy_s", "Retry after busy", "h:mm",
          "How long a lead waits after a busy signal or a failed call.",
          lambda t: parse_hm("Retry after busy", t, 300, 7 * 86400), hm),
    Field("retry_machine", "retry_machine_s", "Retry after an answering machine", "h:mm",
          "How long a lead waits after its answering machine picked up.",
          lambda t: parse_hm("Retry after an answering machine", t, 300, 7 * 86400), hm),
    Field("line_cap", "max_lines", "Line cap", "calls at once",
          "At most this many calls of the campaign at once (ringing or talking). Blank: no cap.",
          _optional_int("Line cap", 1, 10_000, "calls"), lambda v: "no cap" if v is None else str(v)),
    Field("machine_action", "machine_action", "Answering machine", "",
          "What the dialer does when a machine answers.",
          _choice("Answering machine", MACHINE_ACTIONS), lambda v: MACHINE_ACTIONS.get(v, v), MACHINE_ACTIONS),
    Field("voicemail_message", "voicemail_message", "Voicemail message", "",
          "Read after the beep when the answering machine action is to leave the message (at most 1,000 characters).",
          lambda t: t.strip(), lambda v: v or "(none)"),
    Field("calling_hours", "calling_hours", "Calling hours", "hh:mm-hh:mm at the called party",
          "The campaign's own hours, read in each lead's local time, inside the legal window 08:00-21:00 (state "
          "rules still apply). Blank: the legal window.",
          parse_hours, lambda v: "the legal window" if v == LEGAL else v),
    Field("calling_days", "calling_days", "Calling days", "at the called party",
          "Days the campaign calls, e.g. mon-fri or mon,wed,sat (state day bans still apply).",
          parse_days, days_text),
    Field("abandon_target", "abandon_target", "Abandon target", "% of live answers",
          "The rate predictive pacing holds abandons under, over 30 days (legal cap 3 %).",
          lambda t: round(_number("Abandon target", t, 0.01, 3.0, "%") / 100, 6), lambda v: f"{v * 100:g} %"),
    Field("wrap_limit", "wrap_limit_s", "Wrap-up limit", "seconds",
          "After this many seconds in wrap-up the seat moves on by itself (below). Blank: no limit.",
          _optional_int("Wrap-up limit", 5, 3600, "seconds"), lambda v: "no limit" if v is None else f"{v} s"),
    Field("wrap_then", "wrap_limit_then", "After the wrap-up limit", "",
          "Where the seat goes when the limit is reached.",
          _choice("After the wrap-up limit", WRAP_THEN), lambda v: WRAP_THEN.get(v, v), WRAP_THEN),
)
BY_KEY = {f.key: f for f in FIELDS}


def current(campaign: Campaign) -> dict[str, object]:
    return {f.key: getattr(campaign, f.column) for f in FIELDS}


def shown(campaign: Campaign) -> dict[str, str]:
    """Each setting as the page shows it, with its unit."""
    return {f.key: f.show(getattr(campaign, f.column)) for f in FIELDS}


def editable(campaign: Campaign) -> dict[str, str]:
    """Each setting as text a person would type back in (what the form is filled with)."""
    out = {}
    for f in FIELDS:
        v = getattr(campaign, f.column)
        if f.key.startswith("retry_"):
            out[f.key] = hm(v)
        elif f.key == "abandon_target":
            out[f.key] = f"{v * 100:g}"
        elif f.key == "calling_hours":
            out[f.key] = "" if v == LEGAL else v
        elif f.key == "calling_days":
            out[f.key] = days_text(v).replace("every day", "mon-sun")
        elif v is None:
            out[f.key] = ""
        else:
            out[f.key] = str(v) if not isinstance(v, float) else f"{v:g}"
    return out


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    """``key=value`` words of the command line; an unknown key is refused with the known ones."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep:
            raise UserError(f"{pair!r}: write key=value, e.g. retry_busy=0:30")
        if key not in BY_KEY:
            raise UserError(f"{key!r} is not a setting (settings: {', '.join(BY_KEY)})")
        out[key] = value
    return out


def apply(session: Session, campaign: Campaign, texts: dict[str, str], by: str, now: datetime) -> list[str]:
    """Parse, validate and store the settings given as text; record each change. Returns the changed keys.

    Nothing is stored when any value is refused: the first refusal is raised with its field's label."""
    if campaign.status == "finished":
        raise UserError(f"campaign {campaign.name!r} is finished; its settings cannot be changed")
    values = current(campaign)
    for key, text in texts.items():
        values[key] = BY_KEY[key].parse(text)
    if values["machine_action"] == "voicemail" and not values["voicemail_message"]:
        raise UserError("Voicemail message: write the message to leave, or choose to hang up on machines")
    if len(values["voicemail_message"]) > 1000:
        raise UserError("Voicemail message: at most 1,000 characters")
    if values["abandon_target"] != campaign.abandon_target:
        s = dial_settings.settings_of(session, campaign.id)
        if s.abandon_warn_2 >= values["abandon_target"]:
            raise UserError(f"Abandon target: must be above the second abandon warning {s.abandon_warn_2 * 100:g} % "
                            "(lower the abandon warnings under strategy and alerts first)")
    changed = []
    for f in FIELDS:
        old, new = getattr(campaign, f.column), values[f.key]
        if old != new:
            record(session, campaign.id, now, by, f.label, f.show(old), f.show(new))
            setattr(campaign, f.column, new)
            changed.append(f.key)
    if changed:
        campaign.updated_at = now
        session.flush()
    return changed
