"""What the carrier reports (initiated, ringing, answered, ended) becomes call, lead, agent and pacer state.

Part of ``DialLoop`` (``dialer.loop.core``), which inherits it. Events are applied once and in any order: an event
for an unknown or ended call, a repeated answer or a late "ringing" changes nothing. A live answer not joined to an
agent within the limit is an abandon whenever the news arrives (a worker stalled or restarted hears of the answer
and the end together).
"""

from __future__ import annotations

import logging
from datetime import datetime

from dialer.carriers.telephony import CarrierEvent
from dialer.loop.routing import ABANDON_LIMIT
from dialer.loop.store import CallView
from dialer.pacing import CallAnswered, CallEnded

log = logging.getLogger("dialer.loop.core")  # one logger for the loop, whichever part of it speaks

# what the carrier's end of a call nobody answered means ("completed" is answered-then-ended: see ``_ended``)
CARRIER_END = {"no_answer": "no_answer", "busy": "busy", "failed": "failed", "canceled": "canceled"}
# the loop's end reasons in the pacer's vocabulary (completed, abandoned, no_answer, busy, failed, machine)
PACER_OUTCOME = {"completed": "completed", "abandoned": "abandoned", "no_answer": "no_answer", "busy": "busy",
                 "failed": "failed", "machine": "machine", "canceled": "failed"}


class CarrierNews:
    """The carrier-event half of ``DialLoop``: ``handle`` is its one entry point."""

    def handle(self, event: CarrierEvent) -> None:
        """Apply one carrier event. Unknown calls, events after the end and repeated answers are ignored."""
        self._advance(event.at)
        call = self.store.call_by_ref(event.provider_ref)
        if call is None and event.provider_ref in self.unrecorded:  # its reference must be stored first
            self.unrecorded.record(self.store, strict=True)
            call = self.store.call_by_ref(event.provider_ref)
        if call is None or call.ended_at is not None:
            self.stats.ignored_events += 1
            return
        kind = event.kind
        if kind == "answered":
            self._answered(call, event)
        elif kind == "ended":
            self._ended(call, event)
        elif kind in ("initiated", "ringing") and call.answered_at is None:
            self.store.ringing(call.id, event.at)
        else:
            self.stats.ignored_events += 1  # key presses are the webhooks' business (opt-out)

    def _answered(self, call: CallView, ev: CarrierEvent) -> None:
        verdict = ev.answered_by or "unknown"
        at = ev.at
        if call.answered_at is None:
            self.store.answered(call.id, verdict, at)
            self.observer.answered(call.campaign_id, verdict)
            slot = self.slots.get(call.campaign_id)
            if slot is not None:
                by = "machine" if verdict == "machine" else "human"
                slot.pacer.observe(CallAnswered(t=at.timestamp(), call_id=str(call.id), answered_by=by))
            if verdict == "machine":
                self._machine(call, at)
            elif ev.extra.get("ending"):
                pass  # its end is already in: an ended call is never connected (``_ended`` judges the wait)
            elif call.agent_id is not None:  # a preview call: its agent has waited on it since the dial
                self._connect_reserved(call, at)
            elif self._now - at >= ABANDON_LIMIT:
                # late news (a stalled or restarted worker): the person has waited past the limit in silence
                log.info("call %s answered %.1f s ago, news only now: abandoned (safe-harbor message)", call.id,
                         (self._now - at).total_seconds())
                self._abandon(call, self._now)
            else:
                agent_id = self._agent_for(call)
                if agent_id is not None:  # connected now: an answer delivered a little late is put through now
                    self._connect(call, agent_id, self._now)
        elif call.answered_by == "unknown" and verdict in ("human", "machine") and call.outcome is None:
            # the asynchronous AMD verdict after we already treated the answer as live
            self.store.verdict(call.id, verdict)
            if verdict == "machine":
                self._machine(call, at)
        else:
            self.stats.ignored_events += 1

    def _machine(self, call: CallView, at: datetime) -> None:
        """A machine: leave the campaign's voicemail or hang up; an agent already on it is freed at once."""
        connected = call.connected_at is not None
        self.store.set_outcome(call.id, "machine")
        c = self.campaigns.get(call.campaign_id) or self.store.campaign(call.campaign_id)
        if c is not None and c.machine_action == "voicemail" and c.voicemail_message \
                and hasattr(self.telephony, "leave_voicemail"):
            self._carrier("leave_voicemail", call, c.voicemail_message)
        else:
            self._carrier("hangup", call)
        if (connected or call.agent_id is not None) and self.store.free_agent(call.id, at) is not None:
            self._route(self._now)  # the freed agent takes a waiting call now (the verdict may be late news)

    def _ended(self, call: CallView, ev: CarrierEvent) -> None:
        outcome = call.outcome
        judged_now = outcome is None
        if outcome is None:
            outcome = self._end_outcome(call, ev)
        campaign_id, call_id = call.campaign_id, call.id
        self.store.end(call_id, outcome, ev.at)
        self.observer.ended(campaign_id, outcome)
        if judged_now and outcome == "abandoned":
            self.stats.abandoned += 1
            self.observer.abandoned(campaign_id)
            log.info("call %s ended unanswered by any agent %.1f s after its answer: abandoned", call_id,
                     (ev.at - call.answered_at).total_seconds() if call.answered_at else float("nan"))
        if outcome != "abandoned" or judged_now:  # the pacer heard of an abandon when the loop decided it
            slot = self.slots.get(campaign_id)
            if slot is not None:
                slot.pacer.observe(CallEnded(t=ev.at.timestamp(), call_id=str(call_id),
                                             outcome=PACER_OUTCOME[outcome]))

    @staticmethod
    def _end_outcome(call: CallView, ev: CarrierEvent) -> str:
        """How a call the loop had not judged yet ended. A live answer nobody was joined to within the limit is an
        abandon whenever the news arrives (a worker down or stalled hears of the answer and the end together)."""
        live = call.answered_by != "machine"
        # how long the person was on the line: from our record of the answer, or the carrier's own duration
        # (answer to end), whichever is longer: the callbacks' stamps are coarse and may be clamped to receipt
        on_line = (ev.at - call.answered_at).total_seconds() if call.answered_at is not None else 0.0
        on_line = max(on_line, float(ev.extra.get("duration_s") or 0))
        alone = on_line >= ABANDON_LIMIT.total_seconds()
        if call.connected_at is not None:
            if call.status == "bridging" and live and alone:
                return "abandoned"  # "connected" by a worker that died before the carrier joined them
            return "completed"
        if call.answered_at is not None:  # a person who hung up before an agent came
            if not live:
                return "machine"
            return "abandoned" if alone else "completed"
        if ev.outcome == "completed":  # the carrier saw an answer whose own event never reached us
            if ev.answered_by == "machine":
                return "machine"
            return "abandoned" if alone else "completed"
        return CARRIER_END.get(ev.outcome, "no_answer")
