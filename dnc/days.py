"""The calendar day of an instant where the law counts days (the date of consent the Reassigned Numbers Database
is asked about, the business days to honor a DNC request, the years to keep it).

Records are kept as UTC instants, but the law counts the days of the people involved, and a UTC date is a day
later than every US clock each evening. Read on the latest date, a consent given on the evening a number was
disconnected looks given the day after, by the new subscriber, and a deadline starts a day late. So an instant is
dated by the earliest day it has anywhere in the United States (American Samoa, UTC-11, no daylight time): no
reading of the law counts it on an earlier one.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

EARLIEST_US_ZONE = ZoneInfo("Pacific/Pago_Pago")


def earliest_us_date(t: datetime) -> date:
    """The earliest calendar date ``t`` (an aware instant) falls on in any US time zone."""
    return t.astimezone(EARLIEST_US_ZONE).date()
