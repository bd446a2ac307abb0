"""The call half of the in-memory store: a call's life from ringing to its end, preview dials and hang-ups.

Part of ``MemoryStore`` (``dialer.loop.memory``), which inherits it and owns the data it works on (``calls``,
``waiting``, ``hangups``, ``call_log``...). A finished call is kept as a compact row of the call log, not an object,
unless a disposition is still to come: a 30-day run stays small.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.agents.states import check_move
from campaigns.dispatch.rules import CALLABLE_STATUSES, after_outcome, after_refusal, apply, stored_outcome
from dialer.loop.memory_records import MemCall
from dialer.loop.store import CallView, Candidate, Gate
from dnc.errors import UserError


class MemoryCalls:
    """Call operations of ``MemoryStore`` (see ``dialer.loop.store.LoopStore``)."""

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
