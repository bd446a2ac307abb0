"""The in-memory store: the same facts and rules as the SQL store, in dictionaries and heaps.

The simulator and the pacing benchmark replay about a million events per run; SQL would take hours. This store
applies the same pure rules (``campaigns.dispatch.rules``, ``campaigns.agents.states``) and orders leads the same
way (priority first, then the time the lead became due, then id), so a seeded scenario gives the same calls on
both stores (tests/dialer/loop/test_store_equivalence.py). Finished calls are kept as compact rows, not objects, so a
30-day run stays small. Its parts: dispatch (``memory_dispatch``), calls (``memory_calls``), agents
(``memory_agents``), lists (``memory_lists``), the logs of finished calls and agent states (``memory_log``) and the
records (``memory_records``).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from campaigns.dispatch.rules import CALLABLE_STATUSES, DispositionFlags, RetryRules
from campaigns.reports.metrics import is_live_answer
from dialer.loop.memory_agents import MemAgent, MemoryAgents
from dialer.loop.memory_calls import MemoryCalls
from dialer.loop.memory_dispatch import MemoryDispatch
from dialer.loop.memory_lists import MemList, MemoryLists, ReadyLeads
from dialer.loop.memory_log import AgentLog, CallLog
from dialer.loop.memory_records import MemCall, MemCampaign, MemLead
from dialer.loop.store import AgentEvent, CallExport, CampaignView

# CALLABLE_STATUSES: read from here by the planner, as before the store was split
__all__ = ["CALLABLE_STATUSES", "MemAgent", "MemCall", "MemLead", "MemList", "MemoryStore", "campaign_view"]

NAN = math.nan
WINDOW = timedelta(days=30)


class MemoryStore(MemoryDispatch, MemoryCalls, MemoryAgents, MemoryLists):
    """``LoopStore`` in memory. Build it with ``add_campaign``/``add_list``/``add_lead``/``add_agent``."""

    provider_default = "sim"

    def __init__(self) -> None:
        self.campaigns: dict[int, MemCampaign] = {}
        self.leads: dict[int, MemLead] = {}
        self.calls: dict[int, MemCall] = {}  # live, or ended and waiting for a disposition
        self.by_ref: dict[str, int] = {}
        self.live_phones: dict[str, int] = {}
        self.waiting: dict[int, MemCall] = {}
        self.previews: dict[int, MemCall] = {}  # calls a preview agent chose (the rest are never queued with one)
        self.hangups: dict[int, MemCall] = {}
        self.agents: dict[int, MemAgent] = {}
        self.ready_agents: dict[int, dict[int, datetime]] = {}
        self.agent_log = AgentLog()  # agent state history (agent_state_events)
        self.call_log = CallLog()  # finished calls
        self.pacing_status: dict[int, dict] = {}
        self._next_call = 1
        # called as lead_source(campaign_id, n) when a campaign runs out of fresh leads: adds up to n more, created
        # at lead_source_due (the simulator's "list that never runs out"); returns how many it added
        self.lead_source = None
        self.lead_source_due: datetime | None = None

    # --- set-up ------------------------------------------------------------------------------------------------
    def add_campaign(self, view: CampaignView, dispositions: dict[str, DispositionFlags]) -> None:
        self.campaigns[view.id] = MemCampaign(view, dict(dispositions), ReadyLeads(self._due))
        self.ready_agents.setdefault(view.id, {})

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        c = self.campaigns[campaign_id]
        v = c.view
        c.view = CampaignView(v.id, v.name, status, v.pacing_mode, v.power_ratio, v.abandon_target, v.max_lines,
                              v.machine_action, v.voicemail_message, v.caller_id, v.rules)

    def add_lead(self, lead: MemLead) -> None:
        self.leads[lead.id] = lead
        self._queue(lead)

    def add_agent(self, agent: MemAgent) -> None:
        self.agents[agent.id] = agent
        if agent.campaign_id is not None:
            self.ready_agents.setdefault(agent.campaign_id, {})

    # --- campaigns ---------------------------------------------------------------------------------------------
    def active_campaigns(self, now: datetime) -> list[CampaignView]:
        return [c.view for c in self.campaigns.values() if c.view.status == "active"]

    def campaign(self, campaign_id: int) -> CampaignView | None:
        c = self.campaigns.get(campaign_id)
        return None if c is None else c.view

    def history(self, campaign_id: int, now: datetime) -> tuple[int, int]:
        """Live answers and abandons of the last 30 days by placement time (the ``campaigns.reports.metrics``
        definitions)."""
        since = (now - WINDOW).timestamp()
        live, abandoned = self.call_log.live_answers(campaign_id, since, math.inf)
        n_live, n_abandoned = len(live), len(abandoned)
        for c in self.calls.values():
            if c.campaign_id == campaign_id and c.ended_at is None and c.placed_at.timestamp() >= since \
                    and is_live_answer(c.outcome, c.connected_at is not None):
                n_live += 1
                n_abandoned += c.outcome == "abandoned"
        return n_live, n_abandoned

    def history_placed(self, campaign_id: int, now: datetime) -> tuple[list[float], list[float]]:
        """Placement times of the finished live answers and abandons of the last 30 days (the pacer's exact seed;
        calls still in flight are replayed to the pacer one by one)."""
        return self.call_log.live_answers(campaign_id, (now - WINDOW).timestamp(), now.timestamp())

    # --- results -----------------------------------------------------------------------------------------------
    def save_pacing_status(self, campaign_id: int, status: dict, now: datetime) -> None:
        self.pacing_status[campaign_id] = status

    def export_calls(self) -> list[CallExport]:
        log = self.call_log
        return sorted((log.row(i) for i in range(len(log))), key=lambda e: e.id)

    def export_agent_events(self) -> list[AgentEvent]:
        return self.agent_log.since(0)

    def lead_states(self) -> dict[int, tuple]:
        return {i: (x.status, x.attempts, x.next_attempt_at, x.last_outcome) for i, x in self.leads.items()}


def campaign_view(id: int, name: str = "sim", *, status: str = "active", pacing_mode: str = "predictive",
                  power_ratio: float = 2.0, abandon_target: float = 0.03, max_lines: int | None = None,
                  machine_action: str = "hangup", voicemail_message: str = "", caller_id: str = "+12125550100",
                  rules: RetryRules | None = None) -> CampaignView:
    return CampaignView(id, name, status, pacing_mode, power_ratio, abandon_target, max_lines, machine_action,
                        voicemail_message, caller_id, rules or RetryRules())
