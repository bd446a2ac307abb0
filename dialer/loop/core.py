"""The dial loop: pacer decisions become dials, carrier events become call, lead, agent and pacer state.

One ``DialLoop`` runs every active campaign. ``tick(now)`` (every 0.5-1 s, on events, and at each 2-second
abandon deadline) routes answered calls, abandons those that waited too long, asks each campaign's pacer how many
calls to place, caps that by the campaign's line cap and the account's calls-per-second bucket, claims that many
leads through the pre-dial gate and places them. ``handle(event)`` takes what the carrier reports (from the
simulator's event queue or the Twilio callback pump), once and in any order: a duplicated or late event changes
nothing. The same code runs on the SQL store (the product) and the in-memory store (the simulator): storage and
rules live behind ``LoopStore``; the loop keeps only derived state (pacers, a cursor into the agent history).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dialer.carriers.ratelimit import TokenBucket
from dialer.carriers.telephony import Telephony
from dialer.loop.carrier_news import PACER_OUTCOME, CarrierNews
from dialer.loop.decisions import DialDecisions
from dialer.loop.dialing import Dialing
from dialer.loop.lanes import CarrierLanes
from dialer.loop.observer import LoopObserver
from dialer.loop.pacers import campaign_pacer
from dialer.loop.placement import ConcurrentPlacer
from dialer.loop.routing import Routing
from dialer.loop.store import CampaignView, Gate, LoopStore
from dialer.loop.tally import MinuteTally
from dialer.loop.unrecorded import UnrecordedPlacements
from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, HistorySummary

# how often each campaign's pacer has its calls in flight checked against the store: a call settled by a path that
# never told the pacer (a takeover's reconciliation, a claim released as never sent) would ring in it for ever
IN_FLIGHT_CHECK = timedelta(seconds=10)
log = logging.getLogger(__name__)
MIN_RING_TIMEOUT_S = 20  # the TSR needs >= 15 s or 4 rings; carriers may trim a few seconds


@dataclass
class PacerSlot:
    """A campaign's pacer and what it decided last (the console's "why is it dialing like this")."""

    pacer: object
    key: tuple
    planned: int = 0  # what the pacer asked for at the last tick
    allowed: int = 0  # after the line cap and the CPS bucket
    placed: int = 0  # calls actually placed at the last tick
    capped_by: str | None = None
    at: datetime | None = None
    checked_at: datetime | None = None  # when its calls in flight were last checked against the store


@dataclass
class LoopStats:
    ticks: int = 0
    placed: int = 0
    place_failed: int = 0
    send_refused: int = 0  # claims not sent: the gate's decision had expired by their moment (claim released)
    place_unknown: int = 0  # creates sent and never answered: kept for the carrier's call log to settle
    connected: int = 0
    abandoned: int = 0
    ignored_events: int = 0
    capped: dict[str, int] = field(default_factory=dict)  # dialing turns by what held the pacer's plan back
    errors: list[str] = field(default_factory=list)


class DialLoop(Dialing, Routing, CarrierNews):
    """The loop's turn, its clock, its pacers and what it tells the console; dialing (``dialer.loop.dialing``),
    routing (``dialer.loop.routing``) and the carrier's news (``dialer.loop.carrier_news``) are its other parts."""

    def __init__(self, store: LoopStore, telephony: Telephony, *,
                 pacer_factory: Callable[[CampaignView], object] = campaign_pacer, gate: Gate | None = None,
                 cps: float | None = None, cps_burst: float | None = None, grace_s: float = 2.0,
                 ring_timeout_s: int = 25, machine_detection: bool = True, status_every_s: float = 5.0,
                 placer: ConcurrentPlacer | None = None, observer: LoopObserver | None = None,
                 lanes: CarrierLanes | None = None) -> None:
        if ring_timeout_s < MIN_RING_TIMEOUT_S:
            raise ValueError(f"ring timeout {ring_timeout_s} s is under {MIN_RING_TIMEOUT_S} s (the law needs 15 s "
                             "or 4 rings and carriers may trim it)")
        if not 0 < grace_s <= 2.0:
            raise ValueError("grace_s must be above 0 and at most 2 s (the abandon rule)")
        self.store = store
        self.telephony = telephony
        self.pacer_factory = pacer_factory
        self.gate = gate
        self.cps = cps
        self.cps_burst = cps_burst  # calls a turn may claim at once (default: one second's worth)
        self.grace = timedelta(seconds=grace_s)
        self.ring_timeout_s = ring_timeout_s
        self.machine_detection = machine_detection
        self.status_every = timedelta(seconds=status_every_s)
        # with a placer, calls are booked a send slot and sent by its threads; the loop never waits on a create
        # (``dialer.loop.placement``); without one (the simulator) ``place`` is called in the turn
        self.placer = placer
        # with lanes, connects and other requests about calls in progress go out on their own threads (Twilio takes
        # 150-300 ms each); without (the simulator, tests) they are sent in the loop's own turn
        self.lanes = lanes
        # entered around the claim's and the booking's database work: a worker whose dial loop is shared by two
        # threads lets the other one (answers, callbacks) use it meanwhile; nothing of the loop changes in there
        self.released: Callable[[], AbstractContextManager] = nullcontext
        self.observer = observer or LoopObserver()  # metrics and the decision log (the worker's); a no-op by default
        self.dialing = True  # False: a stopping worker lets calls in flight finish and places no new ones
        self.slots: dict[int, PacerSlot] = {}
        self.campaigns: dict[int, CampaignView] = {}
        self.stats = LoopStats()
        self._now: datetime | None = None
        self._bucket: TokenBucket | None = None
        self._cursor: int | None = None
        self._agent_campaign: dict[int, int | None] = {}
        # agents whose shift is over (when it ended), not counted by their pacer until they log out
        self._leaving: dict[int, datetime] = {}
        self._told: set[int] = set()  # of them, those who said so on the console (``_sync_after_call``)
        self._next_status: datetime | None = None
        self.tally = MinuteTally()  # the last minute's pace, published with each decision
        self.decisions = DialDecisions()  # the log's "why is it (not) dialing this campaign"
        self.unrecorded = UnrecordedPlacements()  # taken by the carrier, reference not stored yet

    # the token bucket's clock: the loop's own notion of now (wall clock in the worker, virtual in the simulator)
    def now(self) -> datetime:
        return self._now

    def advance(self, now: datetime) -> None:
        """Move the loop's clock to ``now`` before feeding it carrier events (the wall-clock worker does), so what
        the loop does about a late event (connect, route) happens now, not at the event's time."""
        self._advance(now)

    def _advance(self, now: datetime) -> None:
        if self._now is None or now > self._now:
            self._now = now
        if self.placer is not None:
            self._settle()
        if self.unrecorded:
            self.unrecorded.record(self.store)
        if self.lanes is not None:
            self._lane_failures()
        if self._bucket is None and self.cps:
            self._bucket = TokenBucket(self.cps, max(1.0, self.cps_burst or self.cps), self)

    # --- the periodic turn -------------------------------------------------------------------------------------
    def tick(self, now: datetime) -> None:
        self._advance(now)
        self.stats.ticks += 1
        if self._cursor is None:
            self._cursor = self.store.agent_cursor(now)
        active = self.store.active_campaigns(now)
        for c in active:
            self.campaigns[c.id] = c
            self._forget_settled(self._slot(c, now), c.id, now)
        self._sync_agents(now)
        self._sync_after_call(now)
        self._send_hangups()
        self._place_previews(now)
        self._route(now, expire=True)
        t = now.timestamp()
        for c in active:
            self._dial(c, now, t)
            self.observer.decided(c.id, self.slots[c.id])
            self.tally.add(c.id, now, self.slots[c.id].planned or 0, self.slots[c.id].placed or 0)
        if len(self.decisions.state) > len(active):
            self.decisions.gone({c.id for c in active}, {c.id: c.name for c in self.campaigns.values()})
        if self._next_status is None or now >= self._next_status:
            self._next_status = now + self.status_every
            self.publish(now)

    def route(self, now: datetime) -> None:
        """Between turns: connect waiting answered calls and abandon those past the grace, without dialing (the
        Twilio worker does this while placement waits on the calls-per-second bucket, so an answer never waits
        for the next turn)."""
        self._advance(now)
        self._route(now, expire=True)

    def next_deadline(self) -> datetime | None:
        """When the oldest answered call still waiting for an agent must be abandoned (the worker wakes then)."""
        waiting = self.store.waiting_calls()
        return min(c.answered_at for c in waiting) + self.grace if waiting else None

    def _slot(self, c: CampaignView, now: datetime) -> PacerSlot:
        slot = self.slots.get(c.id)
        if slot is not None and slot.key == c.pacer_key:
            return slot
        pacer = self.pacer_factory(c)
        # the finished calls by placement time (the pacer's budget is then the legal count at every instant); the
        # calls still in flight follow one by one below and are counted there, once
        live, abandoned = self.store.history_placed(c.id, now)
        pacer.observe(HistorySummary(t=now.timestamp(), live_answers=len(live), abandoned=len(abandoned),
                                     live_placed=tuple(live), abandoned_placed=tuple(abandoned)))
        for a in self.store.campaign_agents(c.id):
            self._agent_campaign[a.id] = c.id
            if a.state != "offline" and a.since is not None and a.id not in self._leaving:
                pacer.observe(AgentState(t=a.since.timestamp(), agent_id=str(a.id), state=a.state))
        for call in self.store.live_calls(c.id):  # a restarted worker learns the calls already in flight
            if call.status in ("unknown", "queued"):
                # not known to be placed: told when it is sent (``_settle``) or the carrier's call log shows it
                # (``adopted``); a claim a dead worker never sent, counted here, was released under it and rang
                # in the pacer for ever (the kill test's restart then dialed nothing more in progressive)
                continue
            cid = str(call.id)
            pacer.observe(CallPlaced(t=call.placed_at.timestamp(), call_id=cid))
            if call.answered_at is not None:
                by = "machine" if call.answered_by == "machine" else "human"
                pacer.observe(CallAnswered(t=call.answered_at.timestamp(), call_id=cid, answered_by=by))
            if call.connected_at is not None and call.agent_id is not None:
                pacer.observe(CallConnected(t=call.connected_at.timestamp(), call_id=cid, agent_id=str(call.agent_id)))
            if call.outcome == "abandoned":  # its safe-harbor message still plays; the abandon is already spent
                pacer.observe(CallEnded(t=now.timestamp(), call_id=cid, outcome="abandoned"))
        slot = self.slots[c.id] = PacerSlot(pacer, c.pacer_key)
        return slot

    def _forget_settled(self, slot: PacerSlot, campaign_id: int, now: datetime) -> None:
        """End in the pacer the calls it still counts in flight that the store has ended or released, with the
        outcome stored (a released claim was never dialed: failed)."""
        if slot.checked_at is not None and now < slot.checked_at + IN_FLIGHT_CHECK:
            return
        slot.checked_at = now
        counted = getattr(slot.pacer, "calls_in_flight", None)
        ids = counted() if counted is not None else []
        if not ids:
            return
        live = {str(call.id) for call in self.store.live_calls(campaign_id)}
        for cid in ids:
            if cid in live or not cid.isdigit():
                continue
            call = self.store.call(int(cid))
            outcome = PACER_OUTCOME.get(call.outcome or "", "failed") if call is not None else "failed"
            slot.pacer.observe(CallEnded(t=now.timestamp(), call_id=cid, outcome=outcome))
            log.info("call %s was settled without the pacer of campaign %s hearing it (%s): ended there too",
                     cid, campaign_id, outcome)

    def sync_agents(self, now: datetime) -> None:
        """Feed the pacers the agent changes written since the last turn, without a turn (the planner hands its
        warmed pacer on after the warm-up's last agent logged out, when no turn followed)."""
        if self._cursor is not None:
            self._sync_agents(now)

    def _sync_agents(self, now: datetime) -> None:
        """Feed the pacers every agent state change written since the last turn (by this loop or the console)."""
        events = self.store.agent_events_since(self._cursor, now)
        if not events:
            return
        slots, where, leaving = self.slots, self._agent_campaign, self._leaving
        for ev in events:
            prev = where.get(ev.agent_id)
            if prev != ev.campaign_id:
                where[ev.agent_id] = ev.campaign_id
                old = slots.get(prev)
                if old is not None:  # the agent moved to another campaign: gone from this one
                    old.pacer.observe(AgentState(t=ev.at.timestamp(), agent_id=str(ev.agent_id), state="offline"))
            if leaving and ev.agent_id in leaving:  # counted out already: only their going is news
                if ev.state not in ("offline", "paused"):
                    continue
                del leaving[ev.agent_id]
            slot = slots.get(ev.campaign_id)
            if slot is not None:
                slot.pacer.observe(AgentState(t=ev.at.timestamp(), agent_id=str(ev.agent_id), state=ev.state))
        self._cursor = max(self._cursor, events[-1].seq)  # a late row re-read by the SQL store is older

    def _sync_after_call(self, now: datetime) -> None:
        """Count out the agents who said they pause or log out after the call in hand (``agents.after_call``), and
        back in those who took it back while still on it: a pacer that counts them coming free dials calls that
        are answered with nobody there."""
        told = self.store.leaving_after_call()
        if not told and not self._told:
            return
        for agent_id in told - self._told:
            self._count_out(agent_id, now)
        for agent_id in self._told - told:
            self._count_back(agent_id, now)
        self._told = set(told)

    # --- agents (in-process callers: the simulator, a worker-side console) -----------------------------------
    def agent_state(self, agent_id: int, state: str, now: datetime, reason: str | None = None) -> bool:
        """Change an agent's state now; a newly ready agent takes the oldest waiting call at once."""
        self._advance(now)
        changed = self.store.set_agent_state(agent_id, state, now, reason)
        if changed:
            self._send_hangups()
            if state == "ready":
                self._route(now)
        return changed

    def agent_leaving(self, agent_id: int, now: datetime) -> None:
        """The agent's shift is over: they finish their call and take what was dialed for them, then log out.
        Their pacer counts them out now, not when they go, so nothing more is dialed for them meanwhile (counted
        until they left, the calls dialed for them in their last seconds were answered with nobody there);
        routing still gives them a call while they are ready. Until their log-out, only it reaches the pacer."""
        self._advance(now)
        self._count_out(agent_id, now)

    def _count_out(self, agent_id: int, now: datetime) -> None:
        self._leaving.setdefault(agent_id, now)
        slot = self._pacer_of(agent_id)
        if slot is not None:
            slot.pacer.observe(AgentState(t=now.timestamp(), agent_id=str(agent_id), state="offline"))

    def agent_staying(self, agent_id: int, now: datetime) -> None:
        """Back on shift before they logged out: their pacer counts them again, as they are now."""
        self._advance(now)
        self._count_back(agent_id, now)

    def _count_back(self, agent_id: int, now: datetime) -> None:
        if agent_id not in self._leaving:
            return
        del self._leaving[agent_id]
        view, slot = self.store.agent(agent_id), self._pacer_of(agent_id)
        if view is not None and slot is not None:
            slot.pacer.observe(AgentState(t=now.timestamp(), agent_id=str(agent_id), state=view.state))

    def is_leaving(self, agent_id: int) -> bool:
        return agent_id in self._leaving

    def _pacer_of(self, agent_id: int) -> PacerSlot | None:
        campaign_id = self._agent_campaign.get(agent_id)
        if campaign_id is None:
            view = self.store.agent(agent_id)
            campaign_id = view.campaign_id if view is not None else None
        return self.slots.get(campaign_id) if campaign_id is not None else None

    def end_call(self, agent_id: int, now: datetime) -> None:
        """The agent hangs up: the carrier ends the customer leg, the agent goes to wrap."""
        self._advance(now)
        self.store.request_hangup(agent_id, now)
        self._send_hangups()

    def disposition(self, call_id: int, code: str, now: datetime, notes: str = "",
                    callback_at: datetime | None = None) -> None:
        self.store.disposition(call_id, code, now, notes, callback_at)

    def hint(self, campaign_id: int, event) -> None:
        """Simulator-only knowledge for the talk-oracle bound (``AgentWillBeFree``); real pacers ignore it."""
        slot = self.slots.get(campaign_id)
        if slot is not None:
            slot.pacer.observe(event)

    # --- what the console reads ------------------------------------------------------------------------------
    def explain(self, campaign_id: int) -> dict | None:
        slot = self.slots.get(campaign_id)
        if slot is None:
            return None
        explain = getattr(slot.pacer, "explain", None)
        return {"at": slot.at.isoformat() if slot.at else None,
                "mode": self.campaigns[campaign_id].pacing_mode if campaign_id in self.campaigns else None,
                "fallback": self.campaigns[campaign_id].fallback if campaign_id in self.campaigns else None,
                "planned": slot.planned, "allowed": slot.allowed, "placed": slot.placed,
                "capped_by": slot.capped_by, "pacer": explain() if explain is not None else {}}

    def publish(self, now: datetime) -> None:
        """Store each campaign's last decision where the console reads it."""
        for campaign_id in self.slots:
            status = self.explain(campaign_id)
            status["live_lines"] = self.store.live_lines(campaign_id)
            status["minute"] = self.tally.summary(campaign_id, now)
            self.store.save_pacing_status(campaign_id, status, now)
