"""The SQL store: ``LoopStore`` on SQLite or PostgreSQL through the campaign services.

Every method is one transaction (``session_scope``), committed before it returns, so a worker that dies loses at
most the step it was in, and the database stays the source of truth for every lead, call and agent. Dispatch
(``campaigns.dispatch.service``) and agent changes (``campaigns.agents.service``) carry the SQL; this class only
adapts them to what the loop needs and copies rows into plain views.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from campaigns import openids
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.alerts import service as abandon_alerts
from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.dispatch import release
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import RetryRules
from campaigns.reports.history import abandon_history, abandon_history_placed
from dialer.loop.ownership import CampaignOwnership
from dialer.loop.store import AgentEvent, AgentView, CallExport, CallView, CampaignView, Claim, Gate

SEED_LOOKBACK = 100_000  # the newest history ids looked over for gaps when the loop starts (an index-only read)


def campaign_view(c: Campaign, fallback: str | None = None, tenure: int = 0) -> CampaignView:
    """``fallback``: why the abandon guard makes the campaign pace progressive (``campaigns.alerts.service``)."""
    mode = "progressive" if fallback else c.pacing_mode
    return CampaignView(c.id, c.name, c.status, mode, c.power_ratio, c.abandon_target, c.max_lines,
                        c.machine_action, c.voicemail_message, c.caller_id, RetryRules.of(c), fallback, tenure)


def call_view(c: Call) -> CallView:
    return CallView(c.id, c.campaign_id, c.lead_id, c.phone, c.attempt, c.status, c.placed_at, c.provider_sid,
                    c.answered_at, c.answered_by, c.connected_at, c.agent_id, c.ended_at, c.outcome)


def agent_view(a: Agent) -> AgentView:
    return AgentView(a.id, a.name, a.campaign_id, a.state, a.state_reason, a.state_since, a.call_id, a.simulated)


def _ts(t: datetime | None) -> float:
    return t.timestamp() if t is not None else math.nan


class SqlStore:
    """``campaign_ids`` limits the loop to those campaigns; with ``holder`` (or an ``ownership``), a campaign is
    paced only while this worker owns it (``dialer.loop.ownership``: leases shared out among the live workers), so
    two workers never pace one campaign twice over (their claims are safe anyway: the database refuses a second
    live call)."""

    def __init__(self, sessions: sessionmaker[Session], provider: str = "sim", *,
                 campaign_ids: set[int] | None = None, holder: str | None = None,
                 ownership: CampaignOwnership | None = None) -> None:
        self.sessions = sessions
        self.provider = provider  # written on each claimed call, so a restart's reconciliation finds it
        self.campaign_ids = campaign_ids
        if ownership is None and holder is not None:
            ownership = CampaignOwnership(sessions, holder, provider, only=campaign_ids)
        self.ownership = ownership
        self.holder = ownership.name if ownership is not None else None
        self._start = 0  # history up to here is what the loop seeded its pacers from: never re-delivered
        self._open: list[list] = []  # history ids stepped over, perhaps still to commit (``campaigns.openids``)

    def _s(self):
        return session_scope(self.sessions)

    # --- campaigns ---------------------------------------------------------------------------------------------
    def active_campaigns(self, now: datetime) -> list[CampaignView]:
        owned = None
        if self.ownership is not None:
            self.ownership.refresh(now)  # its own transaction
            owned = self.ownership.dialable()
        with self._s() as s:
            q = select(Campaign).where(Campaign.status == "active").order_by(Campaign.id)
            if self.campaign_ids is not None:
                q = q.where(Campaign.id.in_(self.campaign_ids))
            if self.ownership is not None:
                q = q.where(Campaign.id.in_(owned or {-1}))
            rows = list(s.scalars(q))
            fallbacks = abandon_alerts.effective_modes(s, [c.id for c in rows])
            tenure = self.ownership.tenure if self.ownership is not None else {}
            return [campaign_view(c, fallbacks.get(c.id), tenure.get(c.id, 0)) for c in rows]

    def release(self, now: datetime) -> None:
        """Give up this worker's campaign leases (a clean stop: another worker takes over at once)."""
        if self.ownership is not None:
            self.ownership.stop(now)

    def campaign(self, campaign_id: int) -> CampaignView | None:
        with self._s() as s:
            c = s.get(Campaign, campaign_id)
            return campaign_view(c) if c is not None else None

    def history(self, campaign_id: int, now: datetime) -> tuple[int, int]:
        """The 30-day live answers and abandons the reports show (one definition; read-only, rollups first)."""
        with self._s() as s:
            return abandon_history(s, campaign_id, now, absorb=False)

    def history_placed(self, campaign_id: int, now: datetime) -> tuple[list[float], list[float]]:
        """Placement times of the finished live answers and abandons of the last 30 days (the pacer's exact seed)."""
        with self._s() as s:
            return abandon_history_placed(s, campaign_id, now)

    # --- dispatch ----------------------------------------------------------------------------------------------
    def live_lines(self, campaign_id: int) -> int:
        with self._s() as s:
            return dispatch.live_lines(s, campaign_id)

    def claim(self, campaign: CampaignView, n: int, now: datetime, gate: Gate | None) -> list[Claim]:
        with self._s() as s:
            row = s.get(Campaign, campaign.id)
            if row is None or row.status != "active":
                return []
            return dispatch.claim(s, row, n, now, gate, self.provider)

    def placed(self, call_id: int, provider: str, ref: str, now: datetime) -> None:
        """``now``: when the create was sent, stored as the call's ``placed_at``."""
        with self._s() as s:
            dispatch.mark_placed(s, call_id, provider, ref, now)

    def placed_unknown(self, call_id: int, sent_at: datetime) -> None:
        with self._s() as s:
            dispatch.mark_unknown(s, call_id, sent_at)

    def place_failed(self, call_id: int, now: datetime, retryable: bool = True) -> None:
        with self._s() as s:
            dispatch.place_failed(s, call_id, now, retryable)

    def send_refused(self, call_id: int, at: datetime, send_by: datetime | None,
                     sends_at: datetime | None = None) -> None:
        """The call was not sent: the gate's decision expired first (``campaigns.dispatch.release``)."""
        with self._s() as s:
            release.send_refused(s, call_id, at, send_by, sends_at)

    # --- calls -------------------------------------------------------------------------------------------------
    def call_by_ref(self, ref: str) -> CallView | None:
        with self._s() as s:
            c = s.scalar(select(Call).where(Call.provider_sid == ref))
            return call_view(c) if c is not None else None

    def call(self, call_id: int) -> CallView | None:
        with self._s() as s:
            c = s.get(Call, call_id)
            return call_view(c) if c is not None else None

    def live_calls(self, campaign_id: int) -> list[CallView]:
        with self._s() as s:
            return [call_view(c) for c in dispatch.live_calls(s, campaign_id)]

    def _update(self, call_id: int, **values) -> None:
        with self._s() as s:
            c = s.get(Call, call_id, with_for_update=True)
            if c is not None and c.ended_at is None:
                for k, v in values.items():
                    setattr(c, k, v)

    def ringing(self, call_id: int, at: datetime) -> None:
        with self._s() as s:  # one statement: two progress callbacks per call, on the callbacks' busy thread
            s.execute(update(Call).where(Call.id == call_id, Call.status.in_(("queued", "dialing")))
                      .values(status="ringing").execution_options(synchronize_session=False))

    def answered(self, call_id: int, answered_by: str, at: datetime) -> None:
        self._update(call_id, answered_at=at, answered_by=answered_by, status="answered")

    def verdict(self, call_id: int, answered_by: str) -> None:
        self._update(call_id, answered_by=answered_by)

    def waiting_calls(self, campaign_id: int | None = None) -> list[CallView]:
        """Only this worker's campaigns': another worker's answered customer is its own to connect or abandon (its
        carrier holds the call; the simulated one knows no other process's calls at all)."""
        mine = self.ownership.dialable() if self.ownership is not None else self.campaign_ids
        with self._s() as s:
            return [call_view(c) for c in dispatch.waiting_calls(s, campaign_id, mine)]

    def set_outcome(self, call_id: int, outcome: str) -> None:
        self._update(call_id, outcome=outcome)

    def end(self, call_id: int, reason: str, at: datetime) -> None:
        with self._s() as s:
            dispatch.end(s, call_id, reason, at)

    def preview_calls(self) -> list[CallView]:
        with self._s() as s:
            return [call_view(c) for c in dispatch.preview_calls(s)]

    def bridged(self, call_id: int) -> None:
        with self._s() as s:
            agent_svc.bridged(s, call_id)

    def connect_reserved(self, call_id: int, at: datetime) -> bool:
        with self._s() as s:
            return dispatch.connect_reserved(s, call_id, at)

    def preview_dial(self, agent_id: int, lead_id: int, now: datetime, gate: Gate | None) -> CallView | None:
        """The console's ``campaigns.agents.preview.preview_next`` then ``preview_dial``, as the agent's page does;
        None when the gate refused the lead. Only the lead offered to the agent can be dialed."""
        from campaigns.agents.preview import preview_dial, preview_next

        with self._s() as s:
            preview_next(s, agent_id, now)
            got = preview_dial(s, agent_id, lead_id, now, gate=gate)
            return call_view(got.call) if got.call is not None else None

    def pending_hangups(self) -> list[CallView]:
        with self._s() as s:
            return [call_view(c) for c in dispatch.pending_hangups(s)]

    def hangup_sent(self, call_id: int) -> None:
        self._update(call_id, status="ending")

    # --- agents ------------------------------------------------------------------------------------------------
    def agent(self, agent_id: int) -> AgentView | None:
        with self._s() as s:
            a = s.get(Agent, agent_id)
            return agent_view(a) if a is not None else None

    def campaign_agents(self, campaign_id: int) -> list[AgentView]:
        with self._s() as s:
            return [agent_view(a) for a in
                    s.scalars(select(Agent).where(Agent.campaign_id == campaign_id).order_by(Agent.id))]

    def agent_cursor(self, now: datetime) -> int:
        """The newest history id: the pacers are seeded from the agents' rows as they are now. The ids missing among
        the last ``SEED_LOOKBACK`` below it are kept open (PostgreSQL): a state change still committing, whose
        agent row the seeding did not see either, is delivered when it commits."""
        e = AgentStateEvent
        with self._s() as s:
            newest = s.scalar(select(e.id).order_by(e.id.desc()).limit(1)) or 0
            floor = max(0, newest - SEED_LOOKBACK)
            ids = list(s.scalars(select(e.id).where(e.id > floor).order_by(e.id)))
            horizon = openids.xids(s)  # after the read
        self._start = ids[-1] if ids else newest
        self._open = openids.note(openids.missing(floor, ids), horizon, now) if horizon else []
        return self._start

    def agent_events_since(self, cursor: int, now: datetime) -> list[AgentEvent]:
        """The history after ``cursor``, after the rows that appeared in the ids stepped over before: on PostgreSQL
        a row can commit after later ids were read (the console and other workers write it at once)."""
        prev = max(cursor, self._start)
        with self._s() as s:
            oldest = openids.xids(s) if self._open else None  # before the rows are looked for again
            late = agent_svc.events_within(s, self._open) if self._open else []
            rows = agent_svc.events_since(s, prev)
            gaps = openids.missing(prev, [r[0] for r in rows])
            horizon = openids.xids(s) if gaps else None  # after the read that found them
        left = openids.without(self._open, [r[0] for r in late])
        self._open = openids.settle(left, [], oldest[0] if oldest else None, now) \
            + (openids.note(gaps, horizon, now) if horizon else [])
        return [AgentEvent(*r) for r in (*late, *rows)]

    def leaving_after_call(self) -> frozenset[int]:
        with self._s() as s:
            return frozenset(s.scalars(select(Agent.id).where(Agent.after_call.is_not(None),
                                                              Agent.state.in_(("talking", "wrap")))))

    def longest_idle_agent(self, campaign_id: int, call_id: int | None = None,
                           skip: frozenset[int] = frozenset()) -> int | None:
        with self._s() as s:
            return agent_svc.longest_idle(s, campaign_id, call_id, skip)

    def connect(self, call_id: int, agent_id: int, at: datetime) -> bool:
        with self._s() as s:
            return agent_svc.connect(s, call_id, agent_id, at)

    def unconnect(self, call_id: int, agent_id: int, at: datetime) -> None:
        with self._s() as s:
            agent_svc.unconnect(s, call_id, agent_id, at)

    def free_agent(self, call_id: int, at: datetime) -> int | None:
        with self._s() as s:
            return agent_svc.free_agent(s, call_id, at)

    def set_agent_state(self, agent_id: int, state: str, at: datetime, reason: str | None = None) -> bool:
        with self._s() as s:
            return agent_svc.set_state(s, agent_id, state, at, reason)

    def request_hangup(self, agent_id: int, at: datetime) -> CallView | None:
        with self._s() as s:
            return call_view(agent_svc.end_call(s, agent_id, at))

    def disposition(self, call_id: int, code: str, at: datetime, notes: str = "",
                    callback_at: datetime | None = None) -> None:
        with self._s() as s:
            agent_svc.disposition(s, call_id, code, at, notes=notes, callback_at=callback_at)

    def save_pacing_status(self, campaign_id: int, status: dict, now: datetime) -> None:
        with self._s() as s:
            dispatch.save_pacing_status(s, campaign_id, status, now)

    # --- results (the simulator's equivalence check) -------------------------------------------------------------
    def export_calls(self) -> list[CallExport]:
        with self._s() as s:
            return [CallExport(c.id, c.campaign_id, c.lead_id, c.agent_id, c.provider_sid, _ts(c.placed_at),
                               _ts(c.answered_at), c.answered_by, _ts(c.connected_at), _ts(c.ended_at), c.outcome,
                               c.disposition_code)
                    for c in s.scalars(select(Call).where(Call.ended_at.is_not(None)).order_by(Call.id))]

    def export_agent_events(self) -> list[AgentEvent]:
        with self._s() as s:
            return [AgentEvent(r.id, r.agent_id, r.campaign_id, r.state, r.reason, r.at)
                    for r in s.scalars(select(AgentStateEvent).order_by(AgentStateEvent.id))]
