"""When the waiting leads come due and when the queue runs dry at the current pace.

The leads held only by time (a retry or callback not due, a calling window closed) are the queue's future: the
funnel plays the next ``HORIZON_MIN`` minutes minute by minute at the pace of the last ``PACE_WINDOW`` (dials placed),
adding retries and callbacks as they come due and each window group as it opens.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import Integer, cast, func, literal, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.dispatch.strategy import due_at
from campaigns.funnel.classify import Classifier
from campaigns.funnel.result import HORIZON_MIN, Funnel, WindowGroup
from campaigns.leads.models import Lead
from dnc.sqltypes import UTCDateTime

PACE_WINDOW = timedelta(minutes=15)


def window_groups(cl: Classifier) -> list[WindowGroup]:
    """The leads a closed window holds, one group per zones, reason and opening (states merged), soonest first."""
    merged: dict[tuple, WindowGroup] = {}
    for (zones, states, code), n in cl.window_groups.items():
        opens = (cl.windows.get((zones, states, False)) or cl.windows[(zones, states, True)])[1]
        g = merged.get((zones, code, opens))
        if g is None:
            merged[(zones, code, opens)] = WindowGroup(zones, tuple(sorted(states)), code, n, opens)
        else:
            g.leads += n
            g.states = tuple(sorted(set(g.states) | states))
    far = datetime.max.replace(tzinfo=cl.now.tzinfo)
    return sorted(merged.values(), key=lambda g: (g.opens_at or far, -g.leads))


def _minutes_from(now: datetime, session: Session):
    """SQL: whole minutes from ``now`` to a callable lead's due time (dialect-specific date arithmetic)."""
    t = literal(now, type_=UTCDateTime())
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", due_at() - t) / 60)
    return cast(func.round((func.julianday(due_at()) - func.julianday(t)) * 86400), Integer) // 60


def pace_and_runway(session: Session, campaign: Campaign, now: datetime, f: Funnel) -> None:
    """The pace (dials a minute over ``PACE_WINDOW``), the leads due within the hour and when the queue runs dry."""
    placed = session.scalar(select(func.count()).select_from(Call).where(
        Call.campaign_id == campaign.id, Call.placed_at > now - PACE_WINDOW, Call.placed_at <= now)) or 0
    f.pace_per_min = round(placed / (PACE_WINDOW.total_seconds() / 60), 2)
    minute = _minutes_from(now, session)
    arrivals: Counter = Counter()
    for m, n, within_hour in session.execute(
            select(minute, func.count(), func.count().filter(due_at() <= now + timedelta(hours=1)))
            .where(Lead.campaign_id == campaign.id, Lead.status.in_(CALLABLE_STATUSES), due_at() > now,
                   due_at() <= now + timedelta(minutes=HORIZON_MIN)).group_by(minute)):
        arrivals[int(m)] += n
        f.due_next_hour += within_hour
    for g in f.windows:
        if g.opens_at is not None and g.opens_at <= now + timedelta(minutes=HORIZON_MIN):
            arrivals[int((g.opens_at - now).total_seconds() // 60)] += g.leads
    if f.pace_per_min <= 0 or campaign.status != "active":  # not running: none of its leads is being used up
        return
    stock = float(f.dialable)
    for m in range(HORIZON_MIN):
        stock += arrivals.get(m, 0) - f.pace_per_min
        if stock < 0:
            f.runs_dry_in_min = m + 1
            return
