"""A report's date range, read in the campaign's own time zone.

``--from 2030-01-01 --to 2030-01-31`` means local midnight of the 1st up to (excluding) local midnight of
February 1st in the campaign's zone, so "a day" in a report is the floor's day, not UTC's. Days are cut on
local-hour buckets (``campaigns.reports.sqlbits.bucket_of``), so every local day is a whole number of buckets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dnc.errors import UserError

DEFAULT_DAYS = 30
MAX_DAYS = 3660
# The days a report can cover: Python's calendar ends at years 1 and 9999, and a report reaches a little beyond its
# range (local midnights, a 30-day window), so a year typed as 9999 or 0001 would overflow it, not be refused.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """``[start, end)`` in UTC plus the zone and local dates it was asked in."""

    start: datetime
    end: datetime
    tz: str
    first_day: date
    last_day: date

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local(self, t: datetime) -> datetime:
        return t.astimezone(self.zone)

    def days(self) -> list[date]:
        n = (self.last_day - self.first_day).days + 1
        return [self.first_day + timedelta(days=i) for i in range(n)]

    def as_dict(self) -> dict:
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat(), "timezone": self.tz,
                "start_utc": self.start.isoformat(), "end_utc": self.end.isoformat()}


def day_start(day: date, tz: str) -> datetime:
    """Local midnight of ``day`` as a UTC instant (the first existing instant of the day on DST change days)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def parse_day(raw: str, what: str) -> date:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(f"{what} {raw!r} is not a date such as 2030-01-31") from None


def _within(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise UserError(f"{day} is outside the days a report can cover ({FIRST_DAY} to {LAST_DAY})")
    return day


def period(tz: str, now: datetime, first: str | date | None = None, last: str | date | None = None) -> Period:
    """The range from ``first`` to ``last`` inclusive (local dates); defaults: the 30 days ending today."""
    today = now.astimezone(ZoneInfo(tz)).date()
    last_day = _within(parse_day(last, "--to") if isinstance(last, str) else (last or today))
    if first is None:
        first_day = max(last_day - timedelta(days=DEFAULT_DAYS - 1), FIRST_DAY)
    else:
        first_day = _within(parse_day(first, "--from") if isinstance(first, str) else first)
    if first_day > last_day:  # worded for the console's From/To as much as for --from/--to
        raise UserError(f"the first day {first_day} is after the last day {last_day}"
                        + (" (today, when no last day is given)" if last is None else ""))
    if (last_day - first_day).days >= MAX_DAYS:
        raise UserError(f"the range {first_day} .. {last_day} is longer than {MAX_DAYS} days")
    return Period(day_start(first_day, tz), day_start(last_day + timedelta(days=1), tz), tz, first_day, last_day)
