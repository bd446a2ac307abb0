"""A rollup refresh that reads and computes with no write lock held, then writes in one short transaction.

``campaigns.reports.rollup.refresh`` absorbs the change log inside the caller's transaction: on SQLite (one write
lock, every transaction IMMEDIATE) that holds the lock while a busy hour's calls are counted again, and the dial
loop's writes wait. The worker's ``reports-refresh`` job uses ``refresh_unlocked`` instead: it reads the change
rows and recomputes the buckets, leads and agents they touch through a reading session (``campaigns.db.reading``),
then, in a short transaction of the job's session, replaces exactly those rollup rows and deletes exactly the change
rows it read.

Why the result is exact although rows change between the read and the write: every change row is written by a
trigger in the transaction that changed the call or agent event, so a change row the read saw comes with its call
in the counts read after it; a change committed later leaves a change row the write does not delete, and the next
refresh recomputes its bucket. Another refresh in between (the floor's, a report's) moves ``refreshed_at`` on under
the lock (``rollup._lock``): the write sees it, writes nothing and says so, and the next run starts again. A
campaign whose rollups must be rebuilt (never built, disposition flags changed) is refreshed the locked way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.db import reading
from campaigns.reports import rollup
from campaigns.reports.models import CallRollup, LeadCallStats, ReportChange, ReportState
from campaigns.reports.rollup import (
    CHUNK,
    LEAD_STATS,
    RefreshStats,
    _agent_totals,
    _call_rollup_selects,
    _lead_stats_select,
    _lock,
    _write_agents,
    fingerprint,
    refresh,
    runs,
)
from campaigns.reports.sqlbits import shift_minutes

KEYS = {"list_id": None, "agent_id": None, "disposition_code": None}  # the grain keys a row may lack


@dataclass
class _Found:
    """What the read found: the change rows to delete and the rows that replace the rollups they touch."""

    token: datetime | None
    fingerprint: str
    change_ids: list[int]
    windows: list[tuple[datetime, datetime]]
    call_rows: list[dict]
    leads: list[int]
    lead_rows: list[dict]
    agent_starts: dict
    agent_totals: dict
    stats: RefreshStats


def refresh_unlocked(session: Session, campaign_id: int, now: datetime) -> RefreshStats | None:
    """Bring the campaign's rollups up to date, holding the write lock only to write; commits. Returns what was
    absorbed, or None when another refresh wrote meanwhile (nothing written: the next run absorbs it)."""
    with reading(session) as reader:
        found = _read(reader, campaign_id)
    if found is None:  # never built, or to be rebuilt: the locked way (rare)
        campaign = session.get(Campaign, campaign_id)
        stats = refresh(session, campaign, now) if campaign is not None else RefreshStats()
        session.commit()
        return stats
    if not found.change_ids:
        return found.stats
    before = _lock(session, campaign_id, now)
    state = session.get(ReportState, campaign_id, populate_existing=True)
    if before != found.token or state.fingerprint != found.fingerprint:
        session.rollback()
        return None
    _write(session, campaign_id, found)
    session.commit()
    return found.stats


def _read(reader: Session, campaign_id: int) -> _Found | None:
    campaign = reader.get(Campaign, campaign_id)
    if campaign is None:
        return _Found(None, "", [], [], [], [], [], {}, {}, RefreshStats())
    state = reader.get(ReportState, campaign_id)
    fp = fingerprint(reader, campaign)
    if state is None or state.fingerprint != fp:
        return None
    token = state.refreshed_at  # read before the change rows: a refresh after this point is seen by the write
    taken = reader.execute(select(ReportChange.id, ReportChange.hour, ReportChange.lead_id, ReportChange.agent_id,
                                  ReportChange.kind).where(ReportChange.campaign_id == campaign_id)
                           .order_by(ReportChange.id)).all()
    k = shift_minutes(campaign.timezone)
    hours: set[datetime] = set()
    leads: set[int] = set()
    agents: dict[int, datetime] = {}
    for _, hour, lead_id, agent_id, kind in taken:
        if kind == "agent":
            agents[agent_id] = min(hour, agents.get(agent_id, hour))
        elif kind == "lead":
            leads.add(lead_id)
        else:
            hours.add(hour)
            if lead_id is not None:
                leads.add(lead_id)
    buckets = rollup.buckets_of_hours(hours, k)
    windows = list(runs(buckets))
    dialect = reader.get_bind().dialect.name
    call_rows = [{**KEYS, **r} for w in windows for q in _call_rollup_selects(dialect, campaign, w)
                 for r in reader.execute(q).mappings()]
    ordered = sorted(leads)
    lead_rows = [dict(zip(LEAD_STATS, r, strict=True)) for i in range(0, len(ordered), CHUNK)
                 for r in reader.execute(_lead_stats_select(campaign_id, ordered[i:i + CHUNK]))]
    for row in lead_rows:  # SQLite hands back 0/1
        row["first_contact_closed"] = bool(row["first_contact_closed"])
    starts, totals = _agent_totals(reader, agents, campaign_id, k) if agents else ({}, {})
    return _Found(token, fp, [t[0] for t in taken], windows, call_rows, ordered, lead_rows, starts, totals,
                  RefreshStats(buckets=len(buckets), leads=len(leads), agents=len(agents)))


def _write(session: Session, campaign_id: int, found: _Found) -> None:
    ids = found.change_ids
    for i in range(0, len(ids), CHUNK):
        session.execute(delete(ReportChange).where(ReportChange.id.in_(ids[i:i + CHUNK]))
                        .execution_options(synchronize_session=False))
    for start, end in found.windows:
        session.execute(delete(CallRollup).where(CallRollup.campaign_id == campaign_id, CallRollup.bucket >= start,
                                                 CallRollup.bucket < end))
    if found.call_rows:
        session.execute(insert(CallRollup.__table__), found.call_rows)  # one executemany (the ORM's bulk
        # insert splits rows whose None columns differ into statements of their own)
    for i in range(0, len(found.leads), CHUNK):
        session.execute(delete(LeadCallStats).where(LeadCallStats.lead_id.in_(found.leads[i:i + CHUNK])))
    if found.lead_rows:
        session.execute(insert(LeadCallStats.__table__), found.lead_rows)
    if found.agent_starts:
        _write_agents(session, campaign_id, found.agent_starts, found.agent_totals)
