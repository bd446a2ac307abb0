"""Jinja filters that format numbers the same way on every page: "—" for a rate with nothing to measure."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask

from campaigns.agents.states import reason_words
from campaigns.reports.metrics import GLOSSARY, percent_text, target_text

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
    """``75`` -> ``1:15``; ``3725`` -> ``1:02:05``."""
    if seconds is None:
        return DASH
    s = max(0, int(round(seconds)))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(value: datetime | None, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored UTC time shown in ``zone`` (the campaign's), with the zone's abbreviation."""
    if value is None:
        return DASH
    tz = ZoneInfo(zone) if zone else ZoneInfo("UTC")
    local = value.astimezone(tz)
    return f"{local.strftime(fmt)} {local.tzname()}"


def define(key: str) -> str:
    """The glossary line for a metric (the same words as the README and ``campaigns.reports.metrics``)."""
    return GLOSSARY.get(key, "")


def init_filters(app: Flask) -> None:
    app.jinja_env.filters.update(percent=percent, number=number, decimal=decimal, duration=duration, when=when,
                                 define=define, target=target, reason=reason_words)
    app.jinja_env.globals.update(GLOSSARY=GLOSSARY)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
