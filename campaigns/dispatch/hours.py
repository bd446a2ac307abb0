"""A campaign's own calling hours and days (``campaigns.calling_hours``/``calling_days``), read at the called party.

They narrow the legal window, never widen it: the pre-dial gate still applies the law's hours and day bans. Like
the gate, a lead whose candidate zones disagree is called only when the campaign's hours are open in every one of
them. A lead outside them is held (rescheduled to the next opening, not an attempt, no gate record).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.campaign.dialing import LEGAL, hours_window

FALLBACK_ZONE = "America/New_York"  # a lead without a known zone: the gate refuses it anyway


def restricts(hours: str, days: str) -> bool:
    return hours != LEGAL or days != "1234567"


def _open_in(zone: ZoneInfo, at: datetime, window: tuple[int, int] | None, days: str) -> bool:
    local = at.astimezone(zone)
    if str(local.isoweekday()) not in days:
        return False
    if window is None:
        return True
    minute = local.hour * 60 + local.minute
    return window[0] <= minute < window[1]


def next_open(zones: list[str], hours: str, days: str, now: datetime) -> datetime | None:
    """None when the campaign may call now in every zone of the lead; else the first moment it may (a week ahead at
    most: days with no calling day at all mean never, and the lead is looked at again in a week)."""
    if not restricts(hours, days) or not days:
        return None if days else now + timedelta(days=7)
    window = hours_window(hours)
    tzs = [ZoneInfo(z) for z in (zones or [FALLBACK_ZONE])]
    if all(_open_in(tz, now, window, days) for tz in tzs):
        return None
    starts = []
    for tz in tzs:  # candidate openings: each zone's window start on each of the next 8 days
        local = now.astimezone(tz)
        for d in range(8):
            day = (local + timedelta(days=d)).date()
            h, m = divmod(window[0], 60) if window else (0, 0)
            start = datetime(day.year, day.month, day.day, h, m, tzinfo=tz)
            if start > now:
                starts.append(start)
    for start in sorted(starts):
        if all(_open_in(tz, start, window, days) for tz in tzs):
            return start
    return now + timedelta(days=7)
