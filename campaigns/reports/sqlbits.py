"""The few SQL expressions that differ between SQLite and PostgreSQL, and what a call counts as, in SQL.

The call classification below is the SQL twin of ``campaigns.reports.metrics.is_live_answer`` / ``is_contact``; a test
checks both give the same answer on the same calls. Local hours are bucketed as UTC instants: ``bucket(t) =
trunc_hour(t + k) - k`` where ``k`` is the campaign zone's offset minutes past the hour (30 for Asia/Kolkata,
45 for Asia/Kathmandu, 0 for every US zone), so a local day or hour is always a whole number of buckets.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, exists, false, func, literal_column, or_, select, true

from campaigns.campaign.models import Disposition
from campaigns.dispatch.models import Call
from campaigns.inbox.models import CarrierCallback

HOUR = timedelta(hours=1)


def shift_minutes(tz: str) -> int:
    """Minutes past the hour of the zone's UTC offset (constant across DST in every zone we can meet)."""
    offset = datetime(2030, 1, 15, tzinfo=ZoneInfo(tz)).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60) % 60


def bucket_of(t: datetime, k: int) -> datetime:
    """The start (UTC) of the local hour that contains ``t``."""
    shifted = t.astimezone(UTC) + timedelta(minutes=k)
    return shifted.replace(minute=0, second=0, microsecond=0) - timedelta(minutes=k)


def bucket_sql(column, k: int, dialect: str) -> ColumnElement:
    """``bucket_of`` in SQL, for a naive-UTC timestamp column."""
    if dialect == "postgresql":
        if not k:
            return func.date_trunc("hour", column)
        return func.date_trunc("hour", column + literal_column(f"interval '{k} minutes'")) - literal_column(
            f"interval '{k} minutes'")
    if not k:
        return func.strftime("%Y-%m-%d %H:00:00.000000", column)
    return func.strftime("%Y-%m-%d %H:%M:%S.000000", func.strftime("%Y-%m-%d %H:00:00", column, f"+{k} minutes"),
                         f"-{k} minutes")


def seconds_between(later, earlier, dialect: str) -> ColumnElement:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def flag(col) -> ColumnElement:
    """A disposition flag from an outer join: false when the call has no (known) disposition."""
    return func.coalesce(col, false())


def count_if(cond) -> ColumnElement:
    return func.sum(case((cond, 1), else_=0))


class CallFacts:
    """What a stored call counts as; expressions over ``calls`` outer-joined to its campaign's dispositions."""

    def __init__(self, calls=None, dispositions=None) -> None:
        self.c = c = calls if calls is not None else Call.__table__
        self.d = d = dispositions if dispositions is not None else Disposition.__table__
        self.join = c.outerjoin(d, and_(d.c.campaign_id == c.c.campaign_id, d.c.code == c.c.disposition_code))
        connected = c.c.connected_at.isnot(None)
        outcome = c.c.outcome
        self.connected = connected
        self.abandoned = outcome == "abandoned"
        self.live = or_(outcome.in_(("completed", "abandoned")), and_(connected, outcome.is_(None)))
        self.contact = and_(connected, or_(outcome.is_(None), outcome.notin_(("abandoned", "machine"))),
                            or_(d.c.is_contact.is_(None), d.c.is_contact == true()))
        self.machine = outcome == "machine"
        self.no_answer = outcome == "no_answer"
        self.busy = outcome == "busy"
        self.failed = outcome == "failed"
        self.close = flag(d.c.is_close) == true()
        self.callback = flag(d.c.is_callback) == true()
        self.completed = flag(d.c.is_completed) == true()
        cb = CarrierCallback.__table__
        self.keypress = and_(self.abandoned, c.c.provider_sid.isnot(None), exists(
            select(cb.c.id).where(cb.c.call_sid == c.c.provider_sid, cb.c.kind == "dtmf", cb.c.digits == "9")))
        self.dnc_request = or_(flag(d.c.is_dnc) == true(), self.keypress)
        # the prospect said no: a contact the agent dispositioned as neither a close nor a callback
        self.refusal = and_(self.contact, d.c.code.isnot(None), ~self.close, ~self.callback)
        # an agent took it and it ended; an abandoned call was taken by none, even one a worker marked connected
        # before it died (the carrier never joined them): it counts as abandoned, not as the agent's call
        self.handled = and_(connected, c.c.ended_at.isnot(None), or_(outcome.is_(None), outcome != "abandoned"))

    def talk_seconds(self, dialect: str) -> ColumnElement:
        c = self.c.c
        return func.sum(case((self.handled, seconds_between(c.ended_at, c.connected_at, dialect)), else_=0.0))

    def wrap_seconds(self, dialect: str) -> ColumnElement:
        c = self.c.c
        done = and_(self.handled, c.dispositioned_at.isnot(None), c.dispositioned_at >= c.ended_at)
        return func.sum(case((done, seconds_between(c.dispositioned_at, c.ended_at, dialect)), else_=0.0))
