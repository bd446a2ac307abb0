"""Routing and the 2-second rule: answered calls go to the longest-idle ready agent, or are abandoned in time.

Part of ``DialLoop`` (``dialer.loop.core``), which inherits it. A person's answer is connected oldest first; one
that has waited the grace with nobody free hears the safe-harbor message and is recorded as abandoned at once,
where the 30-day rate reads it. Requests about calls in progress (connect, abandon, hang up) go to the carrier in
the turn, or on the carrier lanes' threads when the worker has them (``dialer.loop.lanes``).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from dialer.loop.store import CallView
from dialer.pacing import AgentState, CallConnected, CallEnded

log = logging.getLogger("dialer.loop.core")  # one logger for the loop, whichever part of it speaks

ABANDON_LIMIT = timedelta(seconds=2)  # the law: a live answer not with an agent this long after it is abandoned


class Routing:
    """The routing half of ``DialLoop``: connects, abandons and the carrier requests about live calls."""

    def _route(self, now: datetime, expire: bool = False) -> None:
        """Connect waiting answered calls (oldest first) to the longest-idle ready agent; with ``expire``,
        abandon those that have waited ``grace_s`` with nobody free."""
        for call in self.store.waiting_calls():
            waited = now - call.answered_at
            if waited < ABANDON_LIMIT:  # past it the person is abandoned whoever is free now
                agent_id = self._agent_for(call)
                if agent_id is not None and self._connect(call, agent_id, now):
                    continue
            if expire and waited >= self.grace:
                self._abandon(call, now)

    def _agent_for(self, call: CallView) -> int | None:
        """The longest-idle ready agent; one whose shift is over only for a call dialed before it ended (what was
        dialed while they were counted), unless nobody else is ready: taken beats abandoned."""
        agent_id = self.store.longest_idle_agent(call.campaign_id, call.id)
        leaving = self._leaving
        if agent_id is None or agent_id not in leaving or call.placed_at <= leaving[agent_id]:
            return agent_id
        other = self.store.longest_idle_agent(call.campaign_id, call.id, frozenset(leaving))
        return agent_id if other is None else other

    def _connect(self, call: CallView, agent_id: int, at: datetime) -> bool:
        if not self.store.connect(call.id, agent_id, at):
            return False  # another worker took the agent, or the call just ended
        ref, call_id = call.provider_ref, call.id
        if self.lanes is not None:  # recorded as bridged once the carrier moved it; a failure comes back later
            self.lanes.submit("connect", ref, lambda: self.telephony.connect(ref, agent_id),
                              then=lambda: self.store.bridged(call_id), context=(call_id, agent_id))
        else:
            try:
                self.telephony.connect(ref, agent_id)
            except Exception as e:  # the carrier could not bridge: the agent is free again, the call still waits
                log.exception("connecting call %s to agent %s failed", call.id, agent_id)
                self.stats.errors.append(f"connect {call.id}: {e}")
                self.store.unconnect(call.id, agent_id, at)
                return False
            self.store.bridged(call.id)
        self.stats.connected += 1
        self.observer.connected(call.campaign_id)
        slot = self.slots.get(call.campaign_id)
        if slot is not None:
            slot.pacer.observe(CallConnected(t=at.timestamp(), call_id=str(call.id), agent_id=str(agent_id)))
            if agent_id in self._leaving:  # the connect makes them busy to the pacer: they are not coming back
                slot.pacer.observe(AgentState(t=at.timestamp(), agent_id=str(agent_id), state="offline"))
        return True

    def _connect_reserved(self, call: CallView, at: datetime) -> None:
        if not self.store.connect_reserved(call.id, at):
            return
        try:
            self.telephony.connect(call.provider_ref, call.agent_id)
        except Exception as e:  # nobody can reach the person: the safe-harbor message, counted as abandoned
            log.exception("connecting preview call %s to agent %s failed", call.id, call.agent_id)
            self.stats.errors.append(f"connect {call.id}: {e}")
            self._abandon(call, at)
            return
        self.store.bridged(call.id)
        self.stats.connected += 1
        self.observer.connected(call.campaign_id)
        slot = self.slots.get(call.campaign_id)
        if slot is not None:
            slot.pacer.observe(CallConnected(t=at.timestamp(), call_id=str(call.id), agent_id=str(call.agent_id)))

    def _abandon(self, call: CallView, now: datetime) -> None:
        """No agent within the grace: the safe-harbor message plays, and the call counts as abandoned."""
        self.store.set_outcome(call.id, "abandoned")
        self.stats.abandoned += 1
        self.observer.abandoned(call.campaign_id)
        self._carrier("abandon", call)
        slot = self.slots.get(call.campaign_id)
        if slot is not None:
            slot.pacer.observe(CallEnded(t=now.timestamp(), call_id=str(call.id), outcome="abandoned"))

    def _carrier(self, action: str, call: CallView, *args) -> None:
        request = getattr(self.telephony, action)
        if self.lanes is not None:
            ref = call.provider_ref
            self.lanes.submit(action, ref, lambda: request(ref, *args), context=call.id)
            return
        try:
            request(call.provider_ref, *args)
        except Exception as e:  # the state is recorded; a carrier hiccup must not stop the loop
            log.exception("%s on call %s failed", action, call.id)
            self.stats.errors.append(f"{action} {call.id}: {e}")

    def _lane_failures(self) -> None:
        """Requests the lanes could not send: a connect that failed gives the agent back and lets the call wait
        for another (or for its abandon at the grace), as when it fails in the turn; the others are recorded."""
        for f in self.lanes.failures():
            if f.what == "connect":
                call_id, agent_id = f.context
                self.stats.errors.append(f"connect {call_id}: {f.error}")
                self.store.unconnect(call_id, agent_id, self._now)
            else:
                self.stats.errors.append(f"{f.what} {f.context}: {f.error}")

    def _send_hangups(self) -> None:
        for call in self.store.pending_hangups():
            self._carrier("hangup", call)
            self.store.hangup_sent(call.id)
