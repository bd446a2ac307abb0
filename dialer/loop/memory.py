"""The in-memory store: the same facts and rules as the SQL store, in dictionaries and heaps.

The simulator and the pacing benchmark replay about a million events per run; SQL would take hours. This store
applies the same pure rules (``campaigns.dispatch.rules``, ``campaigns.agents.states``) and orders leads the same
way (priority first, then the time the lead became due, then id), so a seeded scenario gives the same calls on
both stores (tests/dialer/loop/test_store_equivalence.py). Finished calls are kept as compact rows, not objects, so a
30-day run stays small.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.agents.states import check_move
from campaigns.dispatch.rules import (
    CALLABLE_STATUSES,
    DispositionFlags,
    RetryRules,
    after_outcome,
    after_place_failure,
    after_refusal,
    after_send_refused,
    apply,
    stored_outcome,
)
from campaigns.reports.metrics import is_live_answer
from dialer.loop.memory_agents import MemAgent, MemoryAgents
from dialer.loop.memory_lists import MemList, MemoryLists, ReadyLeads
from dialer.loop.memory_log import AgentLog, CallLog
from dialer.loop.store import AgentEvent, CallExport, CallView, CampaignView, Candidate, Claim, Gate
from dnc.errors import UserError

__all__ = ["MemAgent", "MemCall", "MemLead", "MemList", "MemoryStore", "campaign_view"]

NAN = math.nan
WINDOW = timedelta(days=30)


@dataclass(slots=True)
class MemLead:
    id: int
    campaign_id: int
    phone: str
    created_at: datetime
    state: str | None = None
    postal_code: str | None = None
    zones: tuple[str, ...] = ()
    priority: int = 0
    status: str = "new"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    callback_at: datetime | None = None
    last_outcome: str | None = None
    last_called_at: datetime | None = None
    suppression: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    list_id: int | None = None  # None: no list (the simulator's endless list)


@dataclass(slots=True)
class MemCall(CallView):
    hangup_at: datetime | None = None
    hangup_done: bool = False
    disposition: str | None = None
    row: int | None = None  # its row in the call log, once ended


@dataclass
class MemCampaign:
    view: CampaignView
    dispositions: dict[str, DispositionFlags]
    ready: ReadyLeads  # (-priority, due, lead id, version) per list: due now
    pending: list = field(default_factory=list)  # heap of (due, lead id, version): not yet due
    lines: int = 0


class MemoryStore(MemoryAgents, MemoryLists):
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

    # --- dispatch ----------------------------------------------------------------------------------------------
    def _due(self, entry: tuple) -> bool:
        """A queued entry still stands for its lead (not changed or finished since)."""
        lead = self.leads.get(entry[2])
        return lead is not None and lead.version == entry[3] and lead.status in CALLABLE_STATUSES

    def _queue(self, lead: MemLead) -> None:
        if lead.status not in CALLABLE_STATUSES:
            return
        c = self.campaigns[lead.campaign_id]
        due = lead.next_attempt_at or lead.created_at
        heapq.heappush(c.pending, (due, lead.id, lead.version))

    def live_lines(self, campaign_id: int) -> int:
        return self.campaigns[campaign_id].lines

    def claim(self, campaign: CampaignView, n: int, now: datetime, gate: Gate | None) -> list[Claim]:
        c = self.campaigns[campaign.id]
        pending, ready, leads = c.pending, c.ready, self.leads
        while pending and pending[0][0] <= now:
            due, lead_id, version = heapq.heappop(pending)
            ready.push((-leads[lead_id].priority, due, lead_id, version), leads[lead_id].list_id)
        chosen: list[MemLead] = []
        skipped = []
        refills = 0
        fresh = None if self.lead_source is None else (0, self.lead_source_due)
        while len(chosen) < n:
            # an endless list holds fresh leads ahead of anything due later (as a SQL list loaded at the start
            # would): make more of them before a retry is taken
            head = ready.peek()  # the next lead by the list mix; none of a disabled list
            if head is None or (fresh is not None and head[:2] > fresh):
                refills += 1
                if self.lead_source is None or refills > 8 or not self.lead_source(campaign.id, max(256, 2 * n)):
                    if head is None:
                        break
                    fresh = None
                    continue
                while pending and pending[0][0] <= now:
                    due, lead_id, version = heapq.heappop(pending)
                    ready.push((-leads[lead_id].priority, due, lead_id, version), leads[lead_id].list_id)
                continue
            entry, list_id = ready.pop()
            lead = leads[entry[2]]  # a valid entry (ReadyLeads drops the stale ones)
            if lead.phone in self.live_phones:
                skipped.append((entry, list_id))  # the number is on a live call (another lead or campaign): later
                continue
            if gate is not None:
                decision = gate(None, Candidate(lead.id, lead.campaign_id, lead.phone, lead.state,
                                                lead.postal_code, lead.zones), now)
                if not decision.allowed:
                    apply(lead, after_refusal(decision.reasons, getattr(decision, "opens_at", None), now), now)
                    self._bump(lead)
                    continue
            lead.status = "dialing"
            lead.attempts += 1
            lead.last_called_at = now
            lead.updated_at = now
            lead.version += 1
            self.live_phones[lead.phone] = 0
            ready.took(list_id)
            chosen.append(lead)
        for entry, list_id in skipped:
            ready.push(entry, list_id)
        # call ids in number order, as the SQL store inserts them (campaigns.dispatch.service: no crossed waits)
        ids = {}
        for lead in sorted(chosen, key=lambda x: x.phone):
            call_id = ids[lead.id] = self._next_call
            self._next_call += 1
            self.calls[call_id] = MemCall(call_id, campaign.id, lead.id, lead.phone, lead.attempts, "queued", now)
            self.live_phones[lead.phone] = call_id
        c.lines += len(chosen)
        return [Claim(ids[lead.id], lead.id, lead.phone, lead.attempts) for lead in chosen]

    def _bump(self, lead: MemLead) -> None:
        lead.version += 1
        if self.lead_source is not None and lead.status != "dialing":
            # an endless list: fresh leads always come first, so a lead past its call is never dialed again
            self.leads.pop(lead.id, None)
            return
        self._queue(lead)

    def placed(self, call_id: int, provider: str, ref: str, now: datetime) -> None:
        call = self.calls[call_id]
        call.provider_ref = ref
        call.status = "dialing"
        self.by_ref[ref] = call_id

    def place_failed(self, call_id: int, now: datetime, retryable: bool = True, refused: bool = False) -> None:
        """The carrier never took the call (``refused``: it was never sent): no call is kept (the SQL store deletes
        the row)."""
        call = self.calls.pop(call_id)
        self.waiting.pop(call_id, None)
        if self.live_phones.get(call.phone) == call_id:
            del self.live_phones[call.phone]
        self.campaigns[call.campaign_id].lines -= 1
        self._release(call, now)  # a preview agent waiting on it is free again
        lead = self.leads.get(call.lead_id)
        if lead is not None and lead.status == "dialing":
            apply(lead, after_send_refused(lead.attempts, lead.next_attempt_at, False) if refused else
                  after_place_failure(lead.attempts, lead.last_outcome, retryable, now), now)
            self._bump(lead)

    def send_refused(self, call_id: int, at: datetime, send_by: datetime | None,
                     sends_at: datetime | None = None) -> None:
        """Not sent (the gate's decision expired first): the lead goes back as it was (no gate here, no record)."""
        self.place_failed(call_id, at, refused=True)

    # --- calls -------------------------------------------------------------------------------------------------
    def call_by_ref(self, ref: str) -> CallView | None:
        call_id = self.by_ref.get(ref)
        return None if call_id is None else self.calls.get(call_id)

    def call(self, call_id: int) -> CallView | None:
        return self.calls.get(call_id)

    def live_calls(self, campaign_id: int) -> list[CallView]:
        return [c for c in self.calls.values() if c.campaign_id == campaign_id and c.ended_at is None]

    def ringing(self, call_id: int, at: datetime) -> None:
        call = self.calls[call_id]
        if call.status in ("queued", "dialing"):
            call.status = "ringing"

    def answered(self, call_id: int, answered_by: str, at: datetime) -> None:
        call = self.calls[call_id]
        call.answered_at, call.answered_by, call.status = at, answered_by, "answered"
        if answered_by != "machine" and call.agent_id is None:  # a preview call is its agent's already
            self.waiting[call_id] = call

    def verdict(self, call_id: int, answered_by: str) -> None:
        call = self.calls[call_id]
        call.answered_by = answered_by
        if answered_by == "machine":
            self.waiting.pop(call_id, None)

    def waiting_calls(self, campaign_id: int | None = None) -> list[CallView]:
        out = [c for c in self.waiting.values() if campaign_id is None or c.campaign_id == campaign_id]
        if len(out) > 1:
            out.sort(key=lambda c: (c.answered_at, c.id))
        return out

    def set_outcome(self, call_id: int, outcome: str) -> None:
        self.calls[call_id].outcome = outcome
        self.waiting.pop(call_id, None)

    def end(self, call_id: int, reason: str, at: datetime) -> None:
        call = self.calls[call_id]
        self._close(call, stored_outcome(reason), at)
        lead = self.leads.get(call.lead_id)
        if lead is not None and lead.status == "dialing":
            camp = self.campaigns[call.campaign_id]
            change = after_outcome(camp.view.rules, lead.attempts, reason, lead.last_outcome, at,
                                   call.connected_at is not None)
            if change is not None:
                apply(lead, change, at)
                self._bump(lead)
        self._release(call, at)

    def _release(self, call: MemCall, at: datetime) -> None:
        """The call is over for its agent: wrap after a conversation, ready after a preview nobody answered."""
        agent = self.agents.get(call.agent_id) if call.agent_id is not None else None
        if agent is not None and agent.call_id == call.id:
            state = "wrap" if call.connected_at is not None else "ready"
            check_move(agent.state, state, "loop")
            agent.call_id = None
            self._set(agent, state, None, at)

    def _close(self, call: MemCall, outcome: str, at: datetime) -> None:
        call.ended_at, call.outcome, call.status = at, outcome, "ended"
        self.waiting.pop(call.id, None)
        self.hangups.pop(call.id, None)
        if self.live_phones.get(call.phone) == call.id:
            del self.live_phones[call.phone]
        self.campaigns[call.campaign_id].lines -= 1
        call.row = self.call_log.add(call, outcome, at)
        if call.connected_at is None or call.disposition is not None or outcome != "completed":
            # nothing left to record on it (no disposition will come): keep only the compact row
            self._forget(call)

    def _forget(self, call: MemCall) -> None:
        self.calls.pop(call.id, None)
        if call.provider_ref is not None:
            self.by_ref.pop(call.provider_ref, None)

    def preview_calls(self) -> list[CallView]:
        """Asked every turn: only the calls ``preview_dial`` made are read (walking every live call cost ~4 % of a
        simulated day); one that left "queued" never comes back to it, so it is dropped."""
        out = [c for c in self.previews.values() if c.status == "queued" and c.agent_id is not None]
        if len(out) < len(self.previews):
            self.previews = {c.id: c for c in out}
        return out

    def bridged(self, call_id: int) -> None:
        call = self.calls.get(call_id)
        if call is not None and call.status == "bridging":
            call.status = "connected"

    def connect_reserved(self, call_id: int, at: datetime) -> bool:
        call = self.calls.get(call_id)
        if call is None or call.ended_at is not None or call.connected_at is not None or call.agent_id is None:
            return False
        call.connected_at, call.status = at, "bridging"
        return True

    def preview_dial(self, agent_id: int, lead_id: int, now: datetime, gate: Gate | None) -> CallView | None:
        """A preview agent dials a lead: the same checks and gate as ``campaigns.agents.preview.preview_dial``."""
        agent, lead = self.agents.get(agent_id), self.leads.get(lead_id)
        if agent is None or agent.state != "ready":
            raise UserError(f"agent {agent_id} is not ready")
        ready = self.campaigns[agent.campaign_id].ready if agent.campaign_id in self.campaigns else None
        off = lead is not None and ready is not None and lead.list_id in ready.lists \
            and not ready.lists[lead.list_id].active  # a disabled list's lead is never offered
        if lead is None or lead.campaign_id != agent.campaign_id or lead.status not in CALLABLE_STATUSES or off:
            raise UserError(f"lead {lead_id} cannot be dialed now")
        if lead.phone in self.live_phones:
            raise UserError(f"{lead.phone} is on another call right now; try again in a moment")
        if gate is not None:
            decision = gate(None, Candidate(lead.id, lead.campaign_id, lead.phone, lead.state, lead.postal_code,
                                            lead.zones), now)
            if not decision.allowed:
                apply(lead, after_refusal(decision.reasons, getattr(decision, "opens_at", None), now), now)
                self._bump(lead)
                return None
        lead.status, lead.attempts, lead.last_called_at, lead.updated_at = "dialing", lead.attempts + 1, now, now
        self._bump(lead)
        call_id = self._next_call
        self._next_call += 1
        call = self.calls[call_id] = MemCall(call_id, lead.campaign_id, lead.id, lead.phone, lead.attempts, "queued",
                                             now, agent_id=agent_id)
        self.previews[call_id] = call
        self.live_phones[lead.phone] = call_id
        self.campaigns[lead.campaign_id].lines += 1
        check_move(agent.state, "talking", "loop")
        agent.call_id = call_id
        self._set(agent, "talking", None, now)
        return call

    def pending_hangups(self) -> list[CallView]:
        return [c for c in self.hangups.values() if not c.hangup_done]

    def hangup_sent(self, call_id: int) -> None:
        call = self.hangups.get(call_id)
        if call is not None:
            call.hangup_done = True

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
