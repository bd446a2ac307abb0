"""The agent half of the in-memory store: the state machine, connects, hang-ups, preview dials, dispositions.

Split from ``dialer.loop.memory`` for size; ``MemoryStore`` inherits it and owns the data it works on (``agents``,
``calls``, ``leads``, ``events``...). The rules are the shared pure ones, as in ``campaigns.agents.service``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.agents.states import check_move, check_reason
from campaigns.dispatch.rules import CALLABLE_STATUSES, after_disposition, apply
from dialer.loop.store import AgentEvent, AgentView, CallView
from dnc.errors import UserError


@dataclass(slots=True)
class MemAgent:
    id: int
    name: str
    campaign_id: int | None
    state: str = "offline"
    reason: str | None = None
    since: datetime | None = None
    call_id: int | None = None
    simulated: bool = False


class MemoryAgents:
    """Agent operations of ``MemoryStore`` (see ``dialer.loop.store.LoopStore``)."""

    # --- agents ------------------------------------------------------------------------------------------------
    def agent(self, agent_id: int) -> AgentView | None:
        a = self.agents.get(agent_id)
        return None if a is None else AgentView(a.id, a.name, a.campaign_id, a.state, a.reason, a.since,
                                                a.call_id, a.simulated)

    def campaign_agents(self, campaign_id: int) -> list[AgentView]:
        return [self.agent(a.id) for a in self.agents.values() if a.campaign_id == campaign_id]

    def agent_cursor(self, now: datetime) -> int:
        return len(self.agent_log)

    def agent_events_since(self, cursor: int, now: datetime) -> list[AgentEvent]:
        return self.agent_log.since(cursor)

    def leaving_after_call(self) -> frozenset[int]:
        return frozenset()  # the simulator's agents say it to the loop itself (``DialLoop.agent_leaving``)

    def longest_idle_agent(self, campaign_id: int, call_id: int | None = None,
                           skip: frozenset[int] = frozenset()) -> int | None:
        ready = self.ready_agents.get(campaign_id)
        if not ready:
            return None
        if skip:
            left = [kv for kv in ready.items() if kv[0] not in skip]
            return min(left, key=lambda kv: (kv[1], kv[0]))[0] if left else None
        return min(ready.items(), key=lambda kv: (kv[1], kv[0]))[0]

    def _set(self, agent: MemAgent, state: str, reason: str | None, at: datetime) -> None:
        if agent.campaign_id is not None:
            ready = self.ready_agents[agent.campaign_id]
            if agent.state == "ready":
                ready.pop(agent.id, None)
            if state == "ready":
                ready[agent.id] = at
        agent.state, agent.reason, agent.since = state, reason, at
        self.agent_log.add(agent.id, agent.campaign_id, state, reason, at)

    def connect(self, call_id: int, agent_id: int, at: datetime) -> bool:
        agent = self.agents[agent_id]
        call = self.calls.get(call_id)
        if agent.state != "ready" or call is None or call.ended_at is not None or call.connected_at is not None:
            return False
        agent.call_id = call_id
        self._set(agent, "talking", None, at)
        call.connected_at, call.agent_id, call.status = at, agent_id, "bridging"
        self.waiting.pop(call_id, None)
        return True

    def unconnect(self, call_id: int, agent_id: int, at: datetime) -> None:
        agent, call = self.agents[agent_id], self.calls[call_id]
        if agent.call_id == call_id:
            agent.call_id = None
            self._set(agent, "ready", None, at)
        call.connected_at, call.agent_id, call.status = None, None, "answered"
        if call.outcome is None and call.ended_at is None:
            self.waiting[call_id] = call

    def free_agent(self, call_id: int, at: datetime) -> int | None:
        call = self.calls.get(call_id)
        if call is None or call.agent_id is None:
            return None
        agent = self.agents[call.agent_id]
        if agent.call_id != call_id:
            return None
        check_move(agent.state, "ready", "loop")
        agent.call_id = None
        self._set(agent, "ready", None, at)
        return agent.id

    def set_agent_state(self, agent_id: int, state: str, at: datetime, reason: str | None = None) -> bool:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UserError(f"no agent with id {agent_id}")
        if state == "paused":
            reason = check_reason(reason)
            if agent.state == "paused" and agent.reason == reason:
                return False
        else:
            reason = None
        if not check_move(agent.state, state):
            return False
        if agent.state == "talking":  # leaving a call (end it, or log out mid-call): the loop hangs it up
            call = self.calls.get(agent.call_id)
            if call is not None and call.ended_at is None:
                call.hangup_at = at
                self.hangups[call.id] = call
            agent.call_id = None
        self._set(agent, state, reason, at)
        return True

    def request_hangup(self, agent_id: int, at: datetime) -> CallView | None:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UserError(f"no agent with id {agent_id}")
        if agent.state != "talking":
            raise UserError(f"agent {agent.name} is {agent.state}, not on a call")
        call = self.calls.get(agent.call_id)
        self.set_agent_state(agent_id, "wrap", at)
        return call

    def disposition(self, call_id: int, code: str, at: datetime, notes: str = "",
                    callback_at: datetime | None = None) -> None:
        call = self.calls.get(call_id)
        if call is None or call.connected_at is None or call.disposition is not None:
            raise UserError(f"call {call_id} was not connected to an agent or is already dispositioned")
        camp = self.campaigns[call.campaign_id]
        flags = camp.dispositions.get(code)
        if flags is None:
            raise UserError(f"disposition {code!r} is not one of {', '.join(sorted(camp.dispositions))}")
        lead = self.leads.get(call.lead_id)
        if lead is not None and lead.status in ("dialing", *CALLABLE_STATUSES):
            apply(lead, after_disposition(camp.view.rules, lead.attempts, flags, callback_at, at), at)
            self._bump(lead)
        call.disposition = code
        if call.row is not None:  # already ended: the record is complete
            self.call_log.set_disposition(call.row, code)
            self._forget(call)
