"""The level and colour of a 30-day abandon rate: one rule for the floor, the compliance page, the abandon guard
(its alerts and its fallback to progressive pacing) and the command line, so nobody sees amber where another sees red.

The law caps abandoned calls at 3 % of live answers over 30 days ("not more than three percent": 47 CFR
64.1200(a)(7), TSR 16 CFR 310.4(b)(4)(i)): exactly 3 % is lawful, only above it is a violation. So a rate is
``over`` (red) when it is *above* the campaign's target (3 % at most), never when it equals it. Below that the
campaign's own alert levels decide: ``high`` from ``abandon_warn_2``, ``warn`` from ``abandon_warn_1`` (amber both),
once ``alert_min_live_answers`` live answers stand behind the rate (a handful of calls says nothing yet); ``over``
needs no sample, because the rate the law reads really is over. Documented in docs/compliance.md §2.2.
"""

from __future__ import annotations

from campaigns.campaign.dial_settings import Settings

LEVELS = ("ok", "warn", "high", "over")
TONES = {"ok": "ok", "warn": "warn", "high": "warn", "over": "bad"}  # the console's colours: green, amber, red
# A rate is abandoned ÷ live answers, a target a typed percentage ÷ 100: both are the nearest double to the same
# fraction when they are equal (3/100 == 0.03), and a tolerance far below 1 in a billion live answers keeps a
# target typed as 2.75 % from missing its equal rate by one rounding step.
TOLERANCE = 1e-12


def abandon_level(rate: float | None, live_answers: int, settings: Settings, target: float) -> str:
    """``ok``, ``warn``, ``high`` or ``over`` for a 30-day rate (None: nothing answered, nothing to judge)."""
    if rate is None:
        return "ok"
    if rate > target + TOLERANCE:
        return "over"
    if live_answers < settings.alert_min_live_answers:
        return "ok"
    if rate >= settings.abandon_warn_2 - TOLERANCE:
        return "high"
    if rate >= settings.abandon_warn_1 - TOLERANCE:
        return "warn"
    return "ok"


def tone(level: str | None) -> str:
    """The colour class of a level (empty before the guard's first check)."""
    return TONES.get(level or "", "")
