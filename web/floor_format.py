"""How the floor's JSON reads on screen: the pacer's inputs in words and percentages, its times in the campaign's zone.

floor.js writes these texts into the page as they come (it formats nothing itself but counts), so the first render
and every poll read the same, by the rules of ``web.filters``.
"""

from __future__ import annotations

from datetime import datetime

from dnc.reasons import words as reason_words
from web.filters import DASH, percent, when

# How the pacer's explanation reads (keys of ``pacer.explain()``; others are shown with their words as they come).
PACER_LABELS = {"mode": "mode used", "n": "calls it asked for", "agents_ready": "agents ready",
                "agents_busy": "agents talking or in wrap", "agents_staffed": "agents logged in, not paused",
                "calls_in_flight": "calls ringing", "answered_waiting": "answered, waiting for an agent",
                "abandon_rate_30d": "abandon rate it controls (30 days)", "live_answers_30d": "live answers, 30 days",
                "abandon_budget_left": "abandons it may still spend",
                "agents_expected_free": "agents expected free soon",
                "p_live": "chance a dial is answered live", "live_probability": "chance a dial is answered live",
                "marginal_risk_now": "risk of an abandon on one more call",
                "live_expected_from_ringing": "live answers expected from the calls ringing",
                "median_answer_s": "median time to answer", "abandon_loop_alpha": "abandon correction (log scale)",
                "drops_answers_today_pct": "abandons today (of live answers)", "held_by": "what holds it back",
                "budget_allows": "calls the abandon budget allows", "rule_asks": "calls its rule asks for",
                "dial_level": "dial level", "k": "lines per ready agent", "overdial_r": "over-dial ratio",
                "reason": "why"}
RATES = frozenset({"abandon_rate_30d", "p_live", "live_probability", "marginal_risk_now"})
PERCENTS = frozenset({"drops_answers_today_pct"})  # already in percent
SECONDS = frozenset({"median_answer_s"})
HELD_BY = {"risk": "the risk that a person who answers finds no agent free", "budget": "a thin 30-day abandon budget",
           "budget-spent": "the 30-day abandon budget is spent", "budget-thin": "the 30-day abandon budget is thin",
           "cap": "the safety cap on calls per agent", "cold": "too few finished calls to predict yet",
           "warming": "too few finished calls to count busy agents yet",
           "small": "too few agents to predict", "ready": "one call per ready agent",
           "setting": "the campaign's setting", "nobody": "no agent logged in and unpaused",
           "preview": "agents dial themselves (preview)"}
CAPPED_BY = {"lines": "the campaign's line cap", "placement": "calls still being placed",
             "cps": "the calls-per-second limit", "leads": "no more leads due now"}


def value_text(key: str, value) -> str:
    if value is None:
        return DASH
    if key in RATES and isinstance(value, int | float):
        return percent(value)
    if key in PERCENTS and isinstance(value, int | float):
        return f"{value:.1f} %"
    if key in SECONDS and isinstance(value, int | float):
        return f"{value:.1f} s"
    if key == "held_by":
        return HELD_BY.get(str(value), str(value).replace("_", " "))
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value).replace("_", " ") if isinstance(value, str) else str(value)


def pacer_inputs(pacer: dict) -> list[dict]:
    return [{"key": k, "label": PACER_LABELS.get(k, k.replace("_", " ")), "value": v, "text": value_text(k, v)}
            for k, v in pacer.items() if k not in ("t", "sentence")]


def capped_text(capped_by: str | None) -> str:
    return f" (capped by {CAPPED_BY.get(capped_by, capped_by.replace('_', ' '))})" if capped_by else ""


def time_text(at: datetime | None, zone: str) -> str:
    """A time of the floor's day in the campaign's zone: ``09:00:05 CST``."""
    return when(at, zone, "%H:%M:%S") if at is not None else ""


def window_text(w: dict, zone: str) -> str:
    """A closed calling window of the funnel: when it opens, in the campaign's zone."""
    opens = f", opens {when(datetime.fromisoformat(w['opens_at']), zone, '%a %H:%M')}" if w.get("opens_at") else ""
    zones = ", ".join(z.replace("_", " ") for z in w.get("zones") or []) or "unknown zones"
    why = reason_words(str(w["reason"]))
    return f"{w['leads']:,} leads in {zones}: {why[:1].lower() + why[1:]}{opens}"
