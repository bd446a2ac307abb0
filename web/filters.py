"""Jinja filters that format figures and times the same way on every page (issue 16's consistency rules).

- a measured rate is a percentage with one decimal (``percent``), a rate someone set as it was typed (``target``);
- a duration is h:mm:ss (``duration``); seconds only where they are the unit people use (a ring timeout, a wrap-up
  limit in seconds);
- one time zone per page: the campaign's on a page about one campaign, else the console's
  (``DIALER_CONSOLE_TIMEZONE``, UTC by default). ``zone_of`` decides it (``page_zone()`` in templates), the layout
  states it, and ``|when`` shows every time in it with the zone's abbreviation; a customer's own clock appears only
  beside it, labelled (``|lead_time``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from jinja2 import pass_context
from markupsafe import Markup

from campaigns.agents.states import reason_words
from campaigns.reports.metrics import GLOSSARY, percent_text, target_text, whole_seconds
from dnc.reasons import words as reason_text
from web.forms import sentence

DASH = "—"


def percent(value: float | None, digits: int = 1) -> str:
    """Measured rates, one decimal on every page (``campaigns.reports.metrics.percent_text``, the messages' own)."""
    return percent_text(value, digits)


def number(value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return DASH
    return f"{value:,.{digits}f}" if digits else f"{round(value):,}"


def decimal(value: float | None, digits: int = 1) -> str:
    return DASH if value is None else f"{value:,.{digits}f}"


def target(value: float | None) -> str:
    """A rate a manager sets, as typed (``campaigns.reports.metrics.target_text``); measured rates use ``percent``."""
    return target_text(value)


def duration(seconds: float | None) -> str:
    """``75`` -> ``0:01:15``; ``3725`` -> ``1:02:05`` (the reports' spreadsheets write the same, ``[h]:mm:ss``)."""
    if seconds is None:
        return DASH
    s = max(0, whole_seconds(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def console_zone() -> str:
    return current_app.config.get("CONSOLE_TIMEZONE") or "UTC"


def zone_of(context) -> str:
    """The page's zone: ``times_in`` when the view names it, else the campaign's when the page is about one
    (a ``campaign`` in the context), else the console's."""
    named = context.get("times_in")
    if isinstance(named, str) and named:
        return named
    zone = getattr(context.get("campaign"), "timezone", None)
    return zone if isinstance(zone, str) and zone else console_zone()


def when(value: datetime | str | None, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time (or its ISO text, as the ledger's exports carry it) shown in ``zone``, with the zone's
    abbreviation (views: name the zone)."""
    if value is None or value == "":
        return DASH
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    local = value.astimezone(ZoneInfo(zone or "UTC"))
    return f"{local.strftime(fmt)} {local.tzname()}"


@pass_context
def when_on_page(context, value: datetime | None, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """``|when``: in the page's zone unless a zone is given (a customer's clock, always labelled beside it)."""
    return when(value, zone or zone_of(context), fmt)


def at_the_lead(value: datetime | None, zone: str | None, page: str) -> str:
    """A customer's own clock beside the page's time: "Wed 09:00 PST at the lead", or nothing when it reads the same."""
    if value is None or not zone or zone == page:
        return ""
    return f"{when(value, zone, '%a %H:%M')} at the lead"


def page_and_lead(value: datetime, page: str, zone: str | None) -> str:
    """A message's time: in the page's zone, the customer's clock beside it when it differs."""
    lead = at_the_lead(value, zone, page)
    return f"{when(value, page)} ({lead})" if lead else when(value, page)


@pass_context
def lead_time(context, value: datetime | None, zone: str | None) -> str:
    """``|lead_time(zone)``: ``at_the_lead`` on this page."""
    return at_the_lead(value, zone, zone_of(context))


OUTCOME_WORDS = {"completed": "completed", "abandoned": "abandoned", "no_answer": "no answer", "busy": "busy",
                 "failed": "failed", "machine": "answering machine", "answered": "answered", "ringing": "ringing",
                 "placed": "placed", "dialing": "dialing"}


def words(code: str | None) -> str:
    """A code shown to a person (a call's outcome, a refusal's reason) in words; never its snake_case name."""
    if not code:
        return DASH
    return OUTCOME_WORDS.get(code) or reason_text(code)


CODE_ASIDE = re.compile(r"^(.+) \(([a-z][a-z0-9]*(?:_[a-z0-9]+)+)\)$")


def code_aside(label: str):
    """"Outside the calling hours (outside_window)" -> the words, the code beside them as ``<code>`` (an auditor
    matches it against the ledger; it is never shown instead of the words)."""
    m = CODE_ASIDE.match(label or "")
    return Markup('{} <code class="reason-code">{}</code>').format(m[1], m[2]) if m else label


def define(key: str) -> str:
    """The glossary line for a metric (the same words as the README and ``campaigns.reports.metrics``)."""
    return GLOSSARY.get(key, "")


def level_tone(level: str | None) -> str:
    """An abandon level's colour class (``campaigns.alerts.levels``: the one rule of the floor, compliance, alerts)."""
    from campaigns.alerts.levels import tone

    return tone(level)


def init_filters(app: Flask) -> None:
    app.jinja_env.filters.update(percent=percent, number=number, decimal=decimal, duration=duration,
                                 when=when_on_page, lead_time=lead_time, define=define, target=target,
                                 reason=reason_words, words=words,
                                 code_aside=code_aside, tone=level_tone, sentence=sentence)
    app.jinja_env.globals.update(GLOSSARY=GLOSSARY, page_zone=pass_context(lambda context: zone_of(context)))
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
