"""The SQL store: ``LoopStore`` on SQLite or PostgreSQL through the campaign services.

Every method is one transaction (``session_scope``), committed before it returns, so a worker that dies loses at
most the step it was in, and the database stays the source of truth for every lead, call and agent. Dispatch
(``campaigns.dispatch.service``) and agent changes (``campaigns.agents.service``) carry the SQL; this class only
adapts them to what the loop needs and copies rows into plain views.
"""

from __future__ import annotations

import math
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.alerts import service as abandon_alerts
from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import RetryRules
from campaigns.leases import service as leases
from campaigns.reports.history import abandon_history
from dialer.loop.store import AgentEvent, AgentView, CallExport, CallView, CampaignView, Claim, Gate

EVENT_OVERLAP = 64  # re-read this many history ids: a row committed late by another transaction is not missed


def campaign_view(c: Campaign, fallback: str | None = None) -> CampaignView:
    """``fallback``: why the abandon guard makes the campaign pace progressive (``campaigns.alerts.service``)."""
    mode = "progressive" if fallback else c.pacing_mode
    return CampaignView(c.id, c.name, c.status, mode, c.power_ratio, c.abandon_target, c.max_lines,
                        c.machine_action, c.voicemail_message, c.caller_id, RetryRules.of(c), fallback)


def call_view(c: Call) -> CallView:
    return CallView(c.id, c.campaign_id, c.lead_id, c.phone, c.attempt, c.status, c.placed_at, c.provider_sid,
                    c.answered_at, c.answered_by, c.connected_at, c.agent_id, c.ended_at, c.outcome)


def agent_view(a: Agent) -> AgentView:
    return AgentView(a.id, a.name, a.campaign_id, a.state, a.state_reason, a.state_since, a.call_id, a.simulated)


def _ts(t: datetime | None) -> float:
    return t.timestamp() if t is not None else math.nan


class SqlStore:
    """``campaign_ids`` limits the loop to those campaigns; with ``holder``, a campaign is paced only while this
    worker holds its lease (``campaigns.leases.service``, renewed every turn), so two workers never pace one campaign
    twice over (their claims are safe anyway: the database refuses a second live call)."""

    def __init__(self, sessions: sessionmaker[Session], provider: str = "sim", *,
                 campaign_ids: set[int] | None = None, holder: str | None = None, lease_s: float = 15.0) -> None:
        self.sessions = sessions
        self.provider = provider  # written on each claimed call, so a restart's reconciliation finds it
        self.campaign_ids = campaign_ids
        self.holder = holder
        self.lease_s = lease_s
        self._seen: dict[int, None] = {}
        self._start = 0  # history up to here is what the loop seeded its pacers from: never re-delivered

    def _s(self):
        return session_scope(self.sessions)

    # --- campaigns ---------------------------------------------------------------------------------------------
    def active_campaigns(self, now: datetime) -> list[CampaignView]:
        with self._s() as s:
            q = select(Campaign).where(Campaign.status == "active").order_by(Campaign.id)
            if self.campaign_ids is not None:
                q = q.where(Campaign.id.in_(self.campaign_ids))
            rows = list(s.scalars(q))
            if self.holder is not None:
                rows = [c for c in rows if leases.acquire(s, f"dial:{c.id}", self.holder, now, self.lease_s)]
            fallbacks = abandon_alerts.effective_modes(s, [c.id for c in rows])
            return [campaign_view(c, fallbacks.get(c.id)) for c in rows]

    def release(self, now: datetime) -> None:
        """Give up this worker's campaign leases (a clean stop: another worker takes over at once)."""
        if self.holder is None:
            return
        with self._s() as s:
            for cid in s.scalars(select(Campaign.id)):
                leases.release(s, f"dial:{cid}", self.holder, now)

    def campaign(self, campaign_id: int) -> CampaignView | None:
        with self._s() as s:
            c = s.get(Campaign, campaign_id)
            return campaign_view(c) if c is not None else None

    def history(self, campaign_id: int, now: datetime) -> tuple[int, int]:
        """The 30-day live answers and abandons the reports show (one definition; read-only, rollups first)."""
        with self._s() as s:
            return abandon_history(s, campaign_id, now, absorb=False)

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
        with self._s() as s:
            dispatch.mark_placed(s, call_id, provider, ref)

    def place_failed(self, call_id: int, now: datetime, retryable: bool = True) -> None:
        with self._s() as s:
            dispatch.place_failed(s, call_id, now, retryable)

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
        with self._s() as s:
            c = s.get(Call, call_id, with_for_update=True)
            if c is not None and c.status in ("queued", "dialing"):
                c.status = "ringing"

    def answered(self, call_id: int, answered_by: str, at: datetime) -> None:
        self._update(call_id, answered_at=at, answered_by=answered_by, status="answered")

    def verdict(self, call_id: int, answered_by: str) -> None:
        self._update(call_id, answered_by=answered_by)

    def waiting_calls(self, campaign_id: int | None = None) -> list[CallView]:
        with self._s() as s:
            return [call_view(c) for c in dispatch.waiting_calls(s, campaign_id)]

    def set_outcome(self, call_id: int, outcome: str) -> None:
        self._update(call_id, outcome=outcome)

    def end(self, call_id: int, reason: str, at: datetime) -> None:
        with self._s() as s:
            dispatch.end(s, call_id, reason, at)

    def preview_calls(self) -> list[CallView]:
        with self._s() as s:
            return [call_view(c) for c in dispatch.preview_calls(s)]

    def connect_reserved(self, call_id: int, at: datetime) -> bool:
        with self._s() as s:
            return dispatch.connect_reserved(s, call_id, at)

    def preview_dial(self, agent_id: int, lead_id: int, now: datetime, gate: Gate | None) -> CallView | None:
        """The console's ``campaigns.agents.preview.preview_dial``; None when the gate refused the lead."""
        from campaigns.agents.preview import preview_dial

        with self._s() as s:
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

    def agent_cursor(self) -> int:
        with self._s() as s:
            self._start = s.scalar(select(AgentStateEvent.id).order_by(AgentStateEvent.id.desc()).limit(1)) or 0
            return self._start

    def agent_events_since(self, cursor: int) -> list[AgentEvent]:
        with self._s() as s:
            rows = agent_svc.events_since(s, max(0, cursor - EVENT_OVERLAP))
        seen = self._seen
        out = []
        for r in rows:
            if r[0] in seen or r[0] <= self._start:
                continue
            seen[r[0]] = None
            out.append(AgentEvent(*r))
        while len(seen) > 4 * EVENT_OVERLAP:
            del seen[next(iter(seen))]
        return out

    def longest_idle_agent(self, campaign_id: int, call_id: int | None = None) -> int | None:
        with self._s() as s:
            return agent_svc.longest_idle(s, campaign_id, call_id)

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
