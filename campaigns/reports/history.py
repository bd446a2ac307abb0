"""The campaign's abandon history over the last 30 days, exact to the second.

The abandon guard reads these counts every few seconds, and they are what a worker seeds the pacer's 30-day
budget with (``dialer.loop.sql.SqlStore.history``, read-only). By default the
rollups are refreshed first (in the caller's transaction: other readers of the rollups, such as the guard's
machine count, then see the same calls); with ``absorb=False`` nothing is written: whole local hours come from
the rollups, and the hours they have not absorbed yet (rows in ``report_changes``), the two partial hours at the
edges of the window, or everything when the rollups were never built, come from the calls. Live answers and
abandons do not depend on disposition flags, so a flag edit waiting for a rebuild changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.reports.models import GRAIN_TOTAL, CallRollup, ReportChange, ReportState
from campaigns.reports.rollup import buckets_of_hours, fingerprint, refresh, runs
from campaigns.reports.sqlbits import HOUR, CallFacts, bucket_of, count_if, shift_minutes

WINDOW = timedelta(days=30)


def abandon_history(session: Session, campaign_id: int, now: datetime, window: timedelta = WINDOW,
                    absorb: bool = True) -> tuple[int, int]:
    """``(live answers, abandoned)`` of the campaign's calls placed in ``[now - window, now)``."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise ValueError(f"no campaign with id {campaign_id}")
    if absorb:
        refresh(session, campaign, now)
    start, end = now - window, now
    state = session.get(ReportState, campaign_id)
    if state is None or state.fingerprint[32:] != fingerprint(session, campaign)[32:]:
        return _raw(session, campaign_id, start, end)  # never built, or built for another zone or code version
    k = shift_minutes(campaign.timezone)
    first_full = bucket_of(start, k)
    if first_full < start:
        first_full += HOUR
    last_full = bucket_of(end, k)
    if first_full >= last_full:
        return _raw(session, campaign_id, start, end)
    hours = session.scalars(select(ReportChange.hour).where(ReportChange.campaign_id == campaign_id,
                                                            ReportChange.kind == "call").distinct()).all()
    dirty = [b for b in buckets_of_hours(hours, k) if first_full <= b < last_full]
    r = CallRollup
    q = select(func.sum(r.live_answers), func.sum(r.abandoned)).where(
        r.campaign_id == campaign_id, r.grain == GRAIN_TOTAL, r.bucket >= first_full, r.bucket < last_full)
    if dirty:
        q = q.where(r.bucket.notin_(dirty))
    row = session.execute(q).one()
    live, ab = int(row[0] or 0), int(row[1] or 0)
    raw_ranges = [(start, first_full), (last_full, end), *runs(dirty)]
    for lo, hi in raw_ranges:
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


def abandon_history_placed(session: Session, campaign_id: int, now: datetime,
                           window: timedelta = WINDOW) -> tuple[list[float], list[float]]:
    """Placement times (epoch seconds) of the *finished* live answers and abandons placed in ``[now - window, now)``:
    what a restarted worker seeds the pacer's ledger with, so the budget stays exact as each call leaves the
    window (calls still in flight are told to the pacer one by one and counted there)."""
    c = CallFacts()
    calls = c.c.c
    rows = session.execute(select(calls.placed_at, c.abandoned).where(
        calls.campaign_id == campaign_id, calls.placed_at >= now - window, calls.placed_at < now,
        calls.ended_at.isnot(None), c.live)).all()
    live = [p.timestamp() for p, _ in rows]
    return live, [p.timestamp() for p, ab in rows if ab]
