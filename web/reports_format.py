"""How report values read on screen: by column kind (rate, seconds, count), and the summary's headline tiles."""

from __future__ import annotations

from web.filters import DASH, decimal, duration, number, percent

# (key in the summary, label, kind, glossary key) in the order a sales lead reads them.
SUMMARY_TILES = (
    ("dials", "Dials", "int", "dials"),
    ("live_answers", "Live answers", "int", "live_answers"),
    ("contacts", "Contacts", "int", "contacts"),
    ("hit_rate", "Hit rate", "rate", "hit_rate"),
    ("closes", "Closes", "int", "closes"),
    ("first_call_close", "First-call close", "rate", "first_call_close"),
    ("conversion", "Conversion", "rate", "conversion"),
    ("aht_seconds", "Average handle time", "seconds", "aht_seconds"),
    ("abandon_rate", "Abandon rate (range)", "rate", "abandon_rate"),
    ("abandon_rate_30d", "Abandon rate, rolling 30 days", "rate", "abandon_rate_30d"),
    ("penetration", "Penetration", "rate", "penetration"),
    ("dnc_requests", "DNC requests", "int", "dnc_requests"),
)


def cell(value, kind: str) -> str:
    if value is None:
        return DASH
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')}: {v:,}" for k, v in value.items()) or DASH
    if kind == "rate":
        return percent(value)
    if kind == "seconds":
        return duration(value)
    if kind == "number":
        return decimal(value)
    if kind == "int" and isinstance(value, int | float):
        return number(value)
    return str(value)


def summary_tiles(summary: dict | None) -> list[dict]:
    if not summary:
        return []
    return [{"key": key, "label": label, "value": cell(summary.get(key), kind), "define": gloss}
            for key, label, kind, gloss in SUMMARY_TILES if key in summary]
