"""The campaign's abandon history over the last 30 days, exact to the second.

The dial loop seeds the pacer's 30-day abandon budget with these counts when a worker starts, and the abandon
report shows the same numbers: whole local hours come from the rollups, the two partial hours at the edges of
the window from the calls themselves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from campaigns.reports.queries import abandon_window
from campaigns.reports.rollup import refresh
from campaigns.reports.sqlbits import HOUR, CallFacts, bucket_of, count_if, shift_minutes

WINDOW = timedelta(days=30)


def abandon_history(session: Session, campaign_id: int, now: datetime, window: timedelta = WINDOW
                    ) -> tuple[int, int]:
    """``(live answers, abandoned)`` of the campaign's calls placed in ``[now - window, now)``."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"no campaign with id {campaign_id}")
    refresh(session, campaign, now)
    start, end = now - window, now
    k = shift_minutes(campaign.timezone)
    first_full = bucket_of(start, k)
    if first_full < start:
        first_full += HOUR
    last_full = bucket_of(end, k)
    if first_full >= last_full:
        return _raw(session, campaign_id, start, end)
    live, ab = abandon_window(session, campaign, first_full, last_full)
    for lo, hi in ((start, first_full), (last_full, end)):
        if lo < hi:
            lv, a = _raw(session, campaign_id, lo, hi)
            live, ab = live + lv, ab + a
    return live, ab


def _raw(session: Session, campaign_id: int, start: datetime, end: datetime) -> tuple[int, int]:
    f = CallFacts()
    c = f.c.c
    row = session.execute(select(count_if(f.live), count_if(f.abandoned)).select_from(f.join)
                          .where(c.campaign_id == campaign_id, c.placed_at >= start, c.placed_at < end)).one()
    return int(row[0] or 0), int(row[1] or 0)

