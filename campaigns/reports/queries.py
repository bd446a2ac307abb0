"""SQL aggregates over the rollups: the counts ``campaigns.reports.metrics`` turns into rates.

Every function reads the rollups of one campaign over a ``Period`` and returns ``FloorCounts`` (or plain
counts) keyed by the grouping asked for: the whole campaign, the list at call time, the agent, the local day or
the local hour of day. ``campaigns.reports.rollup.refresh`` must have run in the same session first (the service
functions in ``campaigns.reports.catalog`` do that).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import UTC, datetime

from sqlalchemy import and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadReset
from campaigns.reports.metrics import FloorCounts
from campaigns.reports.models import (
    GRAIN_AGENT,
    GRAIN_DISPOSITION,
    GRAIN_LIST,
    GRAIN_TOTAL,
    ROLLUP_COUNTS,
    AgentRollup,
    CallRollup,
    LeadCallStats,
)
from campaigns.reports.period import Period
from campaigns.reports.rollup import AGENT_STATES, split_by_bucket
from campaigns.reports.sqlbits import bucket_sql, count_if, shift_minutes

GROUPS = ("campaign", "list", "agent", "day", "hour")
TOTAL = "total"


def _keyer(by: str, period: Period) -> Callable[[datetime], Hashable]:
    if by == "day":
        return lambda b: period.local(b).date()
    if by == "hour":
        return lambda b: period.local(b).hour
    return lambda b: TOTAL


GRAIN_OF = {"campaign": GRAIN_TOTAL, "day": GRAIN_TOTAL, "hour": GRAIN_TOTAL, "list": GRAIN_LIST,
            "attempt": GRAIN_LIST, "agent": GRAIN_AGENT, "disposition": GRAIN_DISPOSITION}
KEY_OF = {"list": "list_id", "agent": "agent_id", "attempt": "attempt", "disposition": "disposition_code",
          "day": "bucket", "hour": "bucket"}


def call_counts(session: Session, campaign: Campaign, period: Period, by: str = "campaign",
                with_attempt: bool = False) -> dict[Hashable, FloorCounts]:
    """Call figures per group from ``call_rollups`` (calls placed in the period).

    ``by`` is one of ``GROUPS``, ``attempt`` or ``disposition``; ``with_attempt`` keys list rows by
    ``(list, attempt)`` for the pass report.
    """
    r = CallRollup
    sums = [func.sum(getattr(r, n)).label(n) for n in ROLLUP_COUNTS]
    sums += [func.sum(r.talk_seconds).label("talk_seconds"), func.sum(r.wrap_seconds).label("wrap_seconds")]
    keys = [KEY_OF[by]] if by in KEY_OF else []
    if with_attempt:
        keys.append("attempt")
    cols = [getattr(r, k) for k in keys]
    q = (select(*cols, *sums).where(r.campaign_id == campaign.id, r.grain == GRAIN_OF[by], r.bucket >= period.start,
                                    r.bucket < period.end)
         .group_by(*cols))
    to_key = _keyer(by, period)
    out: dict[Hashable, FloorCounts] = defaultdict(FloorCounts)
    for row in session.execute(q):
        m = row._mapping
        key_vals = [m[k] for k in keys] or [TOTAL]
        if by in ("day", "hour"):
            key_vals[0] = to_key(key_vals[0])
        key = key_vals[0] if len(key_vals) == 1 else tuple(key_vals)
        fc = out[key]
        for n in ROLLUP_COUNTS:
            setattr(fc, n, getattr(fc, n) + int(m[n] or 0))
        fc.talk_seconds += float(m["talk_seconds"] or 0)
        fc.wrap_seconds += float(m["wrap_seconds"] or 0)
    return dict(out)


def first_contacts(session: Session, campaign: Campaign, period: Period, by: str = "campaign"
                   ) -> dict[Hashable, tuple[int, int]]:
    """``(leads first contacted in the period, of them closed on that first contact)`` per group."""
    s = LeadCallStats
    dialect = session.get_bind().dialect.name
    if by == "list":
        key = s.first_contact_list_id
    elif by == "agent":
        key = s.first_contact_agent_id
    elif by in ("day", "hour"):
        key = bucket_sql(s.first_contact_at, shift_minutes(campaign.timezone), dialect)
    else:
        key = None
    cols = [key.label("k")] if key is not None else []
    q = (select(*cols, func.count().label("n"), count_if(s.first_contact_closed).label("closed"))
         .where(s.campaign_id == campaign.id, s.first_contact_at >= period.start, s.first_contact_at < period.end))
    if key is not None:
        q = q.group_by(key)
    to_key = _keyer(by, period)
    out: dict[Hashable, list[int]] = defaultdict(lambda: [0, 0])
    for row in session.execute(q):
        m = row._mapping
        k = m["k"] if key is not None else TOTAL
        if by in ("day", "hour"):
            k = to_key(_as_utc(k))
        out[k][0] += int(m["n"])
        out[k][1] += int(m["closed"] or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _as_utc(v) -> datetime:
    """A bucket computed in SQL comes back as text on SQLite and as a naive timestamp on PostgreSQL."""
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    return v.replace(tzinfo=UTC) if v.tzinfo is None else v


def agent_seconds(session: Session, campaign: Campaign, period: Period, now: datetime, by: str = "campaign"
                  ) -> dict[Hashable, list[float]]:
    """``[ready, talking, wrap, paused]`` seconds per group (agent, day, hour or the campaign), incl. open states."""
    a = AgentRollup
    key_col = {"agent": a.agent_id, "day": a.bucket, "hour": a.bucket}.get(by)
    cols = [key_col.label("k")] if key_col is not None else []
    q = (select(*cols, func.sum(a.ready_seconds), func.sum(a.talking_seconds), func.sum(a.wrap_seconds),
                func.sum(a.paused_seconds))
         .where(a.campaign_id == campaign.id, a.bucket >= period.start, a.bucket < period.end))
    if key_col is not None:
        q = q.group_by(key_col)
    to_key = _keyer(by, period)
    out: dict[Hashable, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    for row in session.execute(q):
        k = row[0] if key_col is not None else TOTAL
        if by in ("day", "hour"):
            k = to_key(k)
        vals = row[1:] if key_col is not None else row
        for i, v in enumerate(vals):
            out[k][i] += float(v or 0)
    end = min(now, period.end)
    k_shift = shift_minutes(campaign.timezone)
    for agent_id, at, state, cid in latest_agent_states(session):
        slot = AGENT_STATES.get(state)
        if cid != campaign.id or slot is None or at >= end:
            continue
        for bucket, secs in split_by_bucket(max(at, period.start), end, k_shift):
            k = agent_id if by == "agent" else to_key(bucket)
            out[k][slot] += secs
    return dict(out)


def latest_agent_states(session: Session) -> list[tuple[int, datetime, str, int | None]]:
    """Each agent's latest state event: the interval it opened is still running."""
    ev = AgentStateEvent
    inner = (select(ev.id).where(ev.agent_id == Agent.id).order_by(ev.at.desc(), ev.id.desc()).limit(1)
             .correlate(Agent).scalar_subquery())
    ids = select(inner).select_from(Agent)
    return [tuple(r) for r in session.execute(
        select(ev.agent_id, ev.at, ev.state, ev.campaign_id).where(ev.id.in_(ids)))]


FIRST_KEYS = frozenset({"first_contacts", "first_contact_closes", "first_call_close"})
AGENT_KEYS = frozenset({"occupancy", "agent_wait_seconds", "agent_hours", "dials_per_agent_hour",
                        "contacts_per_agent_hour", "closes_per_agent_hour"})


def floor_counts(session: Session, campaign: Campaign, period: Period, now: datetime, by: str = "campaign",
                 fields: frozenset[str] | None = None) -> dict[Hashable, FloorCounts]:
    """Calls, first contacts and agent time merged per group: everything ``FloorCounts.rates`` needs.

    ``fields`` (the metrics a report shows) skips the first-contact and agent-time queries it does not need.
    """
    out = call_counts(session, campaign, period, by)
    if by in GROUPS and (fields is None or fields & FIRST_KEYS):
        for k, (n, closed) in first_contacts(session, campaign, period, by).items():
            fc = out.setdefault(k, FloorCounts())
            fc.first_contacts, fc.first_contact_closes = n, closed
    if by in ("campaign", "agent", "day", "hour") and (fields is None or fields & AGENT_KEYS):
        for k, secs in agent_seconds(session, campaign, period, now, by).items():
            fc = out.setdefault(k, FloorCounts())
            fc.ready_seconds, fc.agent_talk_seconds, fc.agent_wrap_seconds, fc.paused_seconds = secs
    return out


def abandon_window(session: Session, campaign: Campaign, start: datetime, end: datetime) -> tuple[int, int]:
    """``(live answers, abandoned)`` of calls placed in ``[start, end)``, from the rollups (hour-aligned bounds)."""
    r = CallRollup
    row = session.execute(select(func.sum(r.live_answers), func.sum(r.abandoned))
                          .where(r.campaign_id == campaign.id, r.grain == GRAIN_TOTAL, r.bucket >= start,
                                 r.bucket < end)).one()
    return int(row[0] or 0), int(row[1] or 0)


# statuses a call does not set by itself: a request (console, another campaign's call) or a gate refusal may come
# after the lead's last call, so the lead's own last write says when
NOT_BY_A_CALL = ("dnc", "suppressed")


def final_since(as_of: datetime):
    """A lead final now that already was at ``as_of`` (``Lead`` outer-joined to its ``LeadCallStats``).

    A final status set by a call (closed, done, exhausted; a DNC disposition or opt-out too) dates from the lead's
    last settled call: no call follows a final status, and a later edit of the lead's name does not move it. A DNC
    or suppression can also come from outside a call (a request, the pre-dial gate), so those date from the lead's
    last write as well, and never before its last call. A lead a list reset brought back since is counted by
    ``reset_since`` (a reset recorded before ``lead_resets`` existed is not: such a lead counts as it is now)."""
    s = LeadCallStats
    settled = func.coalesce(s.last_settled_at, Lead.updated_at)
    return or_(and_(Lead.status.in_(NOT_BY_A_CALL), Lead.updated_at < as_of,
                    or_(s.last_settled_at.is_(None), s.last_settled_at < as_of)),
               and_(Lead.status.notin_(NOT_BY_A_CALL), settled < as_of))


def reset_since(campaign: Campaign, as_of: datetime):
    """``(list, leads)`` final at ``as_of`` that a list reset has put back in the queue since: the status the reset
    took away dated from before ``as_of``. Such a lead is not final now, or final again only from a call after the
    reset, so ``final_since`` did not count it. A lead reset twice since matches at most its first reset: the second
    took a status its calls after the first gave it."""
    r = LeadReset
    return (select(Lead.list_id, func.count(func.distinct(r.lead_id))).join(Lead, Lead.id == r.lead_id)
            .where(r.campaign_id == campaign.id, r.at >= as_of, r.final_at < as_of).group_by(Lead.list_id))


def lead_outcomes(session: Session, campaign: Campaign, as_of: datetime, now: datetime | None = None
                  ) -> dict[int, dict[str, int]]:
    """Per list (the lead's current list): leads, suppressed, final, reached, closed as of ``as_of``.

    Narrow aggregates instead of one join of every lead to its stats: leads by list and status (an index-only
    scan), call stats by list, and the few suppressed leads that have calls (imported history). For a past
    ``as_of`` (before ``now``) the leads that became final or suppressed since are taken back out (``final_since``):
    a past range reads the status as it was at its end, not today's.
    """
    out: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(
        ("leads", "suppressed", "final", "reached", "closed"), 0))
    for list_id, status, n in session.execute(select(Lead.list_id, Lead.status, func.count())
                                              .where(Lead.campaign_id == campaign.id)
                                              .group_by(Lead.list_id, Lead.status)):
        o = out[list_id]
        o["leads"] += n
        o["suppressed"] += n if status == "suppressed" else 0
        o["final"] += n if status in FINAL_LEAD_STATUSES else 0
    s = LeadCallStats
    past = now is None or as_of <= now
    if past:
        later = (select(Lead.list_id, Lead.status, func.count()).outerjoin(s, s.lead_id == Lead.id)
                 .where(Lead.campaign_id == campaign.id, Lead.status.in_(FINAL_LEAD_STATUSES), ~final_since(as_of))
                 .group_by(Lead.list_id, Lead.status))
        for list_id, status, n in session.execute(later):
            out[list_id]["final"] -= n
            out[list_id]["suppressed"] -= n if status == "suppressed" else 0
        # leads that did not exist yet (a hot lead typed in, leads moved in from a list uploaded since), unless calls
        # of theirs from before (history imported from another dialer) say they were being called then; their
        # final or suppressed status, later too, came out above
        new = (select(Lead.list_id, func.count())
               .where(Lead.campaign_id == campaign.id, Lead.created_at >= as_of,
                      ~exists().where(Call.lead_id == Lead.id, Call.placed_at < as_of))
               .group_by(Lead.list_id))
        for list_id, n in session.execute(new):
            out[list_id]["leads"] -= n
        for list_id, n in session.execute(reset_since(campaign, as_of)):
            out[list_id]["final"] += n
    reached = and_(s.first_contact_at.isnot(None), s.first_contact_at < as_of)
    closed = and_(s.first_close_at.isnot(None), s.first_close_at < as_of)
    stats = (select(s.list_id, count_if(reached), count_if(closed))
             .where(s.campaign_id == campaign.id, s.first_contact_at < as_of).group_by(s.list_id))
    for list_id, r, c in session.execute(stats):
        out[list_id]["reached"] += int(r or 0)
        out[list_id]["closed"] += int(c or 0)
    odd = (select(s.list_id, count_if(reached), count_if(closed)).join(Lead, Lead.id == s.lead_id)
           .where(Lead.campaign_id == campaign.id, Lead.status == "suppressed", s.first_contact_at < as_of,
                  final_since(as_of) if past else true())
           .group_by(s.list_id))
    for list_id, r, c in session.execute(odd):  # a suppressed lead is never "reached" in the breakdown
        out[list_id]["reached"] -= int(r or 0)
        out[list_id]["closed"] -= int(c or 0)
    return dict(out)
