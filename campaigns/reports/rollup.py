"""Keep the report rollups exact: absorb the change log the triggers write, or rebuild a campaign from scratch.

``refresh`` runs before every report and from the scheduler. It recomputes whole local-hour buckets (never
adds deltas), so a call updated five times during its life, a late carrier callback or a re-run after a crash
all end in the same numbers the raw calls give. A campaign is rebuilt from scratch when its disposition flags
or the rollup code changed (``fingerprint``). Only the change rows a refresh deleted are absorbed: a dial-loop
transaction that commits meanwhile leaves its rows for the next refresh.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, insert, literal, select, text, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from campaigns.agents.models import AgentStateEvent
from campaigns.campaign.models import Campaign, Disposition
from campaigns.leads.models import Lead
from campaigns.reports.models import (
    GRAIN_AGENT,
    GRAIN_DISPOSITION,
    GRAIN_LIST,
    GRAIN_TOTAL,
    PASS_CAP,
    AgentRollup,
    CallRollup,
    LeadCallStats,
    ReportChange,
    ReportState,
)
from campaigns.reports.sqlbits import HOUR, CallFacts, bucket_of, bucket_sql, count_if, shift_minutes
from dnc.sqltypes import UTCDateTime

ROLLUP_VERSION = "7"  # bump when what a rollup row means changes: every campaign is then rebuilt once
CHUNK = 2000
AGENT_STATES = {"ready": 0, "talking": 1, "wrap": 2, "paused": 3}


@dataclass
class RefreshStats:
    rebuilt: bool = False
    buckets: int = 0
    leads: int = 0
    agents: int = 0

    @property
    def wrote(self) -> bool:
        return self.rebuilt or bool(self.buckets or self.leads or self.agents)


def fingerprint(session: Session, campaign: Campaign) -> str:
    """What the rollups were built with: 32 hex for the call side (disposition flags, zone, code version) and 32
    for the agent side (zone, code version), so editing a flag re-counts the calls but not years of agent time."""
    rows = session.execute(select(Disposition.code, Disposition.is_contact, Disposition.is_close,
                                  Disposition.is_callback, Disposition.is_dnc, Disposition.is_completed)
                           .where(Disposition.campaign_id == campaign.id).order_by(Disposition.code)).all()
    base = f"v{ROLLUP_VERSION}|k{shift_minutes(campaign.timezone)}|"
    calls = base + ";".join(",".join(str(v) for v in r) for r in rows)
    return hashlib.sha256(calls.encode()).hexdigest()[:32] + hashlib.sha256(base.encode()).hexdigest()[:32]


def refresh(session: Session, campaign: Campaign, now: datetime) -> RefreshStats:
    """Bring the campaign's rollups up to date with every committed call and agent state change."""
    fp = fingerprint(session, campaign)
    state = session.get(ReportState, campaign.id)
    pending = session.scalar(select(ReportChange.id).where(ReportChange.campaign_id == campaign.id).limit(1))
    if state is not None and state.fingerprint == fp and pending is None:
        return RefreshStats()
    _lock(session, campaign.id, now)
    state = session.get(ReportState, campaign.id, populate_existing=True)
    if state.fingerprint == fp:
        return _absorb(session, campaign)
    agents_too = state.fingerprint[32:] != fp[32:]
    rebuild(session, campaign, agents=agents_too)
    state.fingerprint = fp
    session.flush()
    if not agents_too:
        _absorb(session, campaign)  # agent changes logged meanwhile
    return RefreshStats(rebuilt=True)


def _lock(session: Session, campaign_id: int, now: datetime) -> datetime | None:
    """Serialize refreshes of one campaign: the row lock on its ``report_state`` (PostgreSQL) or the write lock
    (SQLite). Every refresh moves ``refreshed_at`` strictly forward (by a microsecond when the clock has not), so a
    refresh that read outside the lock (``refresh_unlocked``) sees whether another refresh wrote since; returns the
    value before."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # many small statements: compiling each with JIT costs more than it saves
        session.execute(text("SET LOCAL jit = off"))
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(ins(ReportState).values(campaign_id=campaign_id, fingerprint="", refreshed_at=None)
                    .on_conflict_do_nothing(index_elements=["campaign_id"]))
    before = session.scalar(select(ReportState.refreshed_at).where(ReportState.campaign_id == campaign_id)
                            .with_for_update())
    after = now if before is None or now > before else before + timedelta(microseconds=1)
    session.execute(update(ReportState).where(ReportState.campaign_id == campaign_id).values(refreshed_at=after))
    return before


def force_rebuild(session: Session, campaign: Campaign, now: datetime) -> None:
    """Rebuild under the campaign's refresh lock (a repair; reports never need it)."""
    _lock(session, campaign.id, now)
    rebuild(session, campaign)
    state = session.get(ReportState, campaign.id, populate_existing=True)
    state.fingerprint = fingerprint(session, campaign)
    session.flush()


def rebuild(session: Session, campaign: Campaign, agents: bool = True) -> None:
    """Recompute the campaign's call rollups and lead stats from its calls, and (``agents``) its agent time."""
    cid = campaign.id
    top = session.scalar(select(func.max(ReportChange.id)).where(ReportChange.campaign_id == cid))
    if top is not None:
        taken = delete(ReportChange).where(ReportChange.campaign_id == cid, ReportChange.id <= top)
        session.execute(taken if agents else taken.where(ReportChange.kind != "agent"))
    session.execute(delete(CallRollup).where(CallRollup.campaign_id == cid))
    _insert_call_rollups(session, campaign, None)
    session.execute(delete(LeadCallStats).where(LeadCallStats.campaign_id == cid))
    _insert_lead_stats(session, cid, None)
    if not agents:
        return
    session.execute(delete(AgentRollup).where(AgentRollup.campaign_id == cid))
    ids = session.scalars(select(AgentStateEvent.agent_id).where(AgentStateEvent.campaign_id == cid)
                          .distinct()).all()
    _rebuild_agents(session, cid, {a: None for a in ids}, shift_minutes(campaign.timezone))


def _absorb(session: Session, campaign: Campaign) -> RefreshStats:
    cid = campaign.id
    top = session.scalar(select(func.max(ReportChange.id)).where(ReportChange.campaign_id == cid))
    if top is None:
        return RefreshStats()
    taken = session.execute(delete(ReportChange).where(ReportChange.campaign_id == cid, ReportChange.id <= top)
                            .returning(ReportChange.hour, ReportChange.lead_id, ReportChange.agent_id,
                                       ReportChange.kind)
                            .execution_options(synchronize_session=False)).all()
    k = shift_minutes(campaign.timezone)
    hours: set[datetime] = set()
    leads: set[int] = set()
    agents: dict[int, datetime] = {}
    for hour, lead_id, agent_id, kind in taken:
        if kind == "agent":
            agents[agent_id] = min(hour, agents.get(agent_id, hour))
            continue
        if kind == "lead":  # moved to another list: only its stats row follows
            leads.add(lead_id)
            continue
        hours.add(hour)
        if lead_id is not None:
            leads.add(lead_id)
    buckets = buckets_of_hours(hours, k)
    for start, end in runs(buckets):
        session.execute(delete(CallRollup).where(CallRollup.campaign_id == cid, CallRollup.bucket >= start,
                                                 CallRollup.bucket < end))
        _insert_call_rollups(session, campaign, (start, end))
    ordered = sorted(leads)
    for i in range(0, len(ordered), CHUNK):
        chunk = ordered[i:i + CHUNK]
        session.execute(delete(LeadCallStats).where(LeadCallStats.lead_id.in_(chunk)))
        _insert_lead_stats(session, cid, chunk)
    if agents:
        _rebuild_agents(session, cid, agents, k)
    return RefreshStats(buckets=len(buckets), leads=len(leads), agents=len(agents))


def buckets_of_hours(hours: Iterable[datetime], k: int) -> list[datetime]:
    """The local-hour buckets that overlap each changed UTC hour (two of them when the zone is off the hour)."""
    out: set[datetime] = set()
    for h in hours:
        out.add(bucket_of(h, k))
        if k:
            out.add(bucket_of(h + HOUR - timedelta(microseconds=1), k))
    return sorted(out)


def runs(buckets: list[datetime]) -> Iterator[tuple[datetime, datetime]]:
    """Contiguous buckets as ``[start, end)`` ranges, so a busy hour costs one statement."""
    start = prev = None
    for b in buckets:
        if start is None:
            start = prev = b
        elif b == prev + HOUR:
            prev = b
        else:
            yield start, prev + HOUR
            start = prev = b
    if start is not None:
        yield start, prev + HOUR


GRAIN_KEYS = {GRAIN_TOTAL: (), GRAIN_LIST: ("list_id", "attempt"), GRAIN_AGENT: ("agent_id",),
              GRAIN_DISPOSITION: ("disposition_code",)}


def _call_rollup_selects(dialect: str, campaign: Campaign, window: tuple[datetime, datetime] | None) -> list:
    """One SELECT per grain over the campaign's calls (in ``window`` when given), its columns named as the
    ``call_rollups`` columns they fill."""
    f = CallFacts()
    c = f.c.c
    bucket = type_coerce(bucket_sql(c.placed_at, shift_minutes(campaign.timezone), dialect), UTCDateTime())
    counts = [func.count().label("dials"), count_if(f.live).label("live_answers"),
              count_if(f.contact).label("contacts"), count_if(f.abandoned).label("abandoned"),
              count_if(f.machine).label("machines"), count_if(f.no_answer).label("no_answers"),
              count_if(f.busy).label("busies"), count_if(f.failed).label("failures"),
              count_if(f.close).label("closes"), count_if(f.callback).label("callbacks"),
              count_if(f.dnc_request).label("dnc_requests"), count_if(f.keypress).label("keypress_optouts"),
              count_if(f.completed).label("completed"), count_if(f.refusal).label("refusals"),
              count_if(f.handled).label("handled"), f.talk_seconds(dialect).label("talk_seconds"),
              f.wrap_seconds(dialect).label("wrap_seconds")]
    out = []
    for grain, keys in GRAIN_KEYS.items():
        key_cols = [case((c.attempt >= PASS_CAP, PASS_CAP), else_=c.attempt).label("attempt") if k == "attempt"
                    else getattr(c, k) for k in keys]
        no_attempt = [] if "attempt" in keys else [literal(0).label("attempt")]
        q = (select(literal(campaign.id).label("campaign_id"), literal(grain).label("grain"), bucket.label("bucket"),
                    *key_cols, *no_attempt, *counts)
             .select_from(f.join).where(c.campaign_id == campaign.id).group_by(bucket, *key_cols))
        if window is not None:
            q = q.where(c.placed_at >= window[0], c.placed_at < window[1])
        out.append(q)
    return out


def _insert_call_rollups(session: Session, campaign: Campaign, window: tuple[datetime, datetime] | None) -> None:
    """One INSERT … SELECT per grain over the campaign's calls (in ``window`` when given)."""
    for q in _call_rollup_selects(session.get_bind().dialect.name, campaign, window):
        session.execute(insert(CallRollup).from_select([col.name for col in q.selected_columns], q))


LEAD_STATS = ["lead_id", "campaign_id", "list_id", "dials", "contacts", "first_contact_at", "first_contact_list_id",
              "first_contact_agent_id", "first_contact_closed", "first_close_at", "last_settled_at"]


def _lead_stats_select(campaign_id: int, lead_ids: list[int] | None):
    """The ``lead_call_stats`` rows of the leads (or of the whole campaign), columns in ``LEAD_STATS`` order."""
    f = CallFacts()
    c = f.c.c
    scope = c.lead_id.in_(lead_ids) if lead_ids is not None else (c.campaign_id == campaign_id)
    agg = (select(c.lead_id.label("lead_id"), func.max(c.campaign_id).label("campaign_id"),
                  func.count().label("dials"), count_if(f.contact).label("contacts"),
                  func.min(_when(f.contact, c.placed_at)).label("first_contact_at"),
                  func.min(_when(f.close, c.placed_at)).label("first_close_at"),
                  func.max(func.coalesce(c.dispositioned_at, c.ended_at, c.placed_at)).label("last_settled_at"))
           .select_from(f.join).where(scope, c.lead_id.isnot(None)).group_by(c.lead_id).subquery("agg"))
    rank = func.row_number().over(partition_by=c.lead_id, order_by=(c.placed_at, c.id)).label("rn")
    first = (select(c.lead_id.label("lead_id"), c.list_id.label("list_id"), c.agent_id.label("agent_id"),
                    f.close.label("closed"), rank)
             .select_from(f.join).where(scope, c.lead_id.isnot(None), f.contact).subquery("first"))
    # the lead's current list by primary key per row: a join lets the planner hash all the campaign's leads
    current_list = select(Lead.list_id).where(Lead.id == agg.c.lead_id).correlate(agg).scalar_subquery()
    q = (select(agg.c.lead_id, agg.c.campaign_id, current_list, agg.c.dials, agg.c.contacts, agg.c.first_contact_at,
                first.c.list_id, first.c.agent_id, func.coalesce(first.c.closed, False), agg.c.first_close_at,
                agg.c.last_settled_at)
         .select_from(agg.outerjoin(first, (first.c.lead_id == agg.c.lead_id) & (first.c.rn == 1))))
    return q


def _insert_lead_stats(session: Session, campaign_id: int, lead_ids: list[int] | None) -> None:
    session.execute(insert(LeadCallStats).from_select(LEAD_STATS, _lead_stats_select(campaign_id, lead_ids)))


def _when(cond, value):
    return case((cond, value), else_=None)


# --- agent time ---------------------------------------------------------------------------------------------------

def _rebuild_agents(session: Session, campaign_id: int, agents: dict[int, datetime | None], k: int) -> None:
    """Recompute each agent's seconds per state from the event before its earliest change onward.

    Only intervals opened by an event of ``campaign_id`` are this campaign's; the interval still open (the
    agent's latest event) is added at report time, up to the report's end or now.
    """
    starts, totals = _agent_totals(session, agents, campaign_id, k)
    _write_agents(session, campaign_id, starts, totals)


def _agent_totals(session: Session, agents: dict[int, datetime | None], campaign_id: int, k: int
                  ) -> tuple[dict[int, datetime | None], dict]:
    """Reads only: from which bucket on each agent's rollups are recomputed (None: all of them, already deleted),
    and the recomputed seconds per (agent, bucket)."""
    ev = AgentStateEvent
    totals: dict[tuple[int, datetime], list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0, 0.0])
    starts: dict[int, datetime | None] = {}
    for agent_id, since in agents.items():
        start = None
        if since is not None:
            prev_at = session.scalar(select(func.max(ev.at)).where(ev.agent_id == agent_id, ev.at < since))
            start = bucket_of(min(since, prev_at) if prev_at else since, k)
        starts[agent_id] = start
        q = select(ev.at, ev.state, ev.campaign_id).where(ev.agent_id == agent_id)
        if start is not None:
            before = session.execute(select(ev.at, ev.state, ev.campaign_id)
                                     .where(ev.agent_id == agent_id, ev.at < start)
                                     .order_by(ev.at.desc(), ev.id.desc()).limit(1)).first()
            q = q.where(ev.at >= start)
        else:
            before = None
        rows = session.execute(q.order_by(ev.at, ev.id).execution_options(yield_per=20_000))
        prev = (max(before[0], start), before[1], before[2]) if before is not None else None
        for at, state, cid in rows:
            if prev is not None:
                _add_interval(totals, agent_id, campaign_id, prev, at, k)
            prev = (at, state, cid)
    return starts, totals


def _write_agents(session: Session, campaign_id: int, starts: dict[int, datetime | None], totals: dict) -> None:
    for agent_id, start in starts.items():
        if start is not None:
            session.execute(delete(AgentRollup).where(AgentRollup.agent_id == agent_id,
                                                      AgentRollup.campaign_id == campaign_id,
                                                      AgentRollup.bucket >= start))
    _write_agent_totals(session, campaign_id, totals)


def _add_interval(totals, agent_id: int, campaign_id: int, prev: tuple, end: datetime, k: int) -> None:
    start, state, cid = prev
    slot = AGENT_STATES.get(state)
    if cid != campaign_id or slot is None or end <= start:
        return
    for bucket, seconds in split_by_bucket(start, end, k):
        totals[(agent_id, bucket)][slot] += seconds


def split_by_bucket(start: datetime, end: datetime, k: int) -> Iterator[tuple[datetime, float]]:
    """Seconds of ``[start, end)`` that fall in each local-hour bucket."""
    b = bucket_of(start, k)
    while start < end:
        nxt = min(end, b + HOUR)
        yield b, (nxt - start).total_seconds()
        start, b = nxt, b + HOUR


def _write_agent_totals(session: Session, campaign_id: int, totals: dict) -> None:
    if not totals:
        return
    rows = [{"campaign_id": campaign_id, "bucket": b, "agent_id": a, "ready_seconds": v[0],
             "talking_seconds": v[1], "wrap_seconds": v[2], "paused_seconds": v[3]}
            for (a, b), v in totals.items()]
    for i in range(0, len(rows), 10_000):
        session.execute(insert(AgentRollup), rows[i:i + 10_000])

