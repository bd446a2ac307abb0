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
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from campaigns.dispatch.release import send_deadline
from dialer.carriers.ratelimit import TokenBucket
from dialer.carriers.telephony import CarrierEvent, DialRequest, PlaceFailed, SendTooLate, Telephony, check_send_by
from dialer.loop.decisions import DialDecisions
from dialer.loop.lanes import CarrierLanes
from dialer.loop.observer import LoopObserver
from dialer.loop.pacers import campaign_pacer
from dialer.loop.placement import ConcurrentPlacer
from dialer.loop.store import CallView, CampaignView, Gate, LoopStore
from dialer.loop.tally import MinuteTally
from dialer.loop.unrecorded import UnrecordedPlacements
from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, HistorySummary

log = logging.getLogger(__name__)

ABANDON_LIMIT = timedelta(seconds=2)  # the law: a live answer not with an agent this long after it is abandoned
MIN_RING_TIMEOUT_S = 20  # the TSR needs >= 15 s or 4 rings; carriers may trim a few seconds
# what the carrier's end of a call nobody answered means ("completed" is answered-then-ended: see ``_ended``)
CARRIER_END = {"no_answer": "no_answer", "busy": "busy", "failed": "failed", "canceled": "canceled"}
# the loop's end reasons in the pacer's vocabulary (completed, abandoned, no_answer, busy, failed, machine)
PACER_OUTCOME = {"completed": "completed", "abandoned": "abandoned", "no_answer": "no_answer", "busy": "busy",
                 "failed": "failed", "machine": "machine", "canceled": "failed"}


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


@dataclass
class LoopStats:
    ticks: int = 0
    placed: int = 0
    place_failed: int = 0
    send_refused: int = 0  # claims not sent: the gate's decision had expired by their moment (claim released)
    connected: int = 0
    abandoned: int = 0
    ignored_events: int = 0
    capped: dict[str, int] = field(default_factory=dict)  # dialing turns by what held the pacer's plan back
    errors: list[str] = field(default_factory=list)


class DialLoop:
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
            self._slot(c, now)
        self._sync_agents(now)
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
            if a.state != "offline" and a.since is not None:
                pacer.observe(AgentState(t=a.since.timestamp(), agent_id=str(a.id), state=a.state))
        for call in self.store.live_calls(c.id):  # a restarted worker learns the calls already in flight
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
        slots, where = self.slots, self._agent_campaign
        for ev in events:
            prev = where.get(ev.agent_id)
            if prev != ev.campaign_id:
                where[ev.agent_id] = ev.campaign_id
                old = slots.get(prev)
                if old is not None:  # the agent moved to another campaign: gone from this one
                    old.pacer.observe(AgentState(t=ev.at.timestamp(), agent_id=str(ev.agent_id), state="offline"))
            slot = slots.get(ev.campaign_id)
            if slot is not None:
                slot.pacer.observe(AgentState(t=ev.at.timestamp(), agent_id=str(ev.agent_id), state=ev.state))
        self._cursor = max(self._cursor, events[-1].seq)  # a late row re-read by the SQL store is older

    def _dial(self, c: CampaignView, now: datetime, t: float) -> None:
        slot = self.slots[c.id]
        slot.at = now
        if c.pacing_mode == "preview" or not self.dialing:
            slot.planned = slot.allowed = slot.placed = 0
            slot.capped_by = None
            if self.dialing:
                self.decisions.note(c.id, c.name, preview=True, placed=0, planned=0, claimed_short=False,
                                    held_by=None, refused=Counter())
            return
        n = slot.pacer.plan(t)
        slot.planned, slot.capped_by = n, None
        placer = self.placer
        if placer is not None:  # claimed calls not yet sent: the pacer has not heard of them
            n -= placer.pending(c.id)
        if n > 0 and c.max_lines is not None:
            free = c.max_lines - self.store.live_lines(c.id)
            if free < n:
                n, slot.capped_by = max(0, free), "lines"
        times: list[datetime] = []
        if n > 0 and placer is not None:
            room = placer.room()
            if room < n:
                n, slot.capped_by = room, "placement"
            with self.released():
                times = placer.reserve(n, now)  # send slots from the account's shared clock
            if len(times) < n:
                n, slot.capped_by = len(times), "cps"
        elif n > 0 and self._bucket is not None:
            tokens = int(self._bucket.available + 1e-9)
            if tokens < n:
                n, slot.capped_by = tokens, "cps"
        slot.allowed = max(0, n)
        slot.placed = 0
        if slot.capped_by is not None:
            self.stats.capped[slot.capped_by] = self.stats.capped.get(slot.capped_by, 0) + 1
        refused: Counter = Counter()
        claims = []
        if n > 0:
            try:
                with self.released():
                    claims = self.store.claim(c, n, now, self._counting_gate(refused))
            except Exception:
                if placer is not None:
                    placer.give_back(times)
                raise
        if placer is not None:
            placer.give_back(times[len(claims):])  # fewer leads than slots: the rest go back on the clock
        if len(claims) < n and slot.capped_by is None:
            slot.capped_by = "leads"
        sent = 0  # claims handed to the carrier (or its placement threads)
        try:
            for i, cl in enumerate(claims):
                request = self._request(cl.call_id, cl.phone, c, now, cl.caller_id)  # the gate decided at ``now``
                if placer is not None:
                    placer.submit(request, times[i])
                    sent += 1
                    slot.placed += 1
                    continue
                sent += 1
                if self._bucket is not None:
                    self._bucket.try_take()
                if self._place(request, c, slot, now, t):
                    slot.placed += 1
        except Exception:
            self._release_unsent(claims[sent:], times[sent:len(claims)], now)
            raise
        if not self.decisions.due(c.id, t) and not slot.placed and not refused:
            return  # judged at most once a second (the simulator turns the loop millions of times)
        held_by = None
        if slot.placed == 0 and slot.planned == 0:
            explain = getattr(slot.pacer, "explain", None)
            held_by = explain().get("held_by") if explain is not None else None
        self.decisions.note(c.id, c.name, preview=False, placed=slot.placed, planned=slot.planned,
                            claimed_short=n > 0 and not claims, held_by=held_by, refused=refused)

    def _counting_gate(self, refused: Counter) -> Gate | None:
        """The pre-dial gate, counting the reasons of what it refuses (the log says why a campaign dials nothing)."""
        gate = self.gate
        if gate is None:
            return None

        def counted(context, candidate, now):
            decision = gate(context, candidate, now)
            if not getattr(decision, "allowed", True):
                refused.update(getattr(decision, "codes", ()) or ("refused",))
            return decision

        return counted

    def _request(self, call_id: int, phone: str, c: CampaignView, decided_at: datetime,
                 caller_id: str = "") -> DialRequest:
        """``decided_at``: when the gate allowed the claim; with a gate, the call may not be sent after the margin
        its decision covers (``send_by``: ``campaigns.dispatch.release``)."""
        return DialRequest(call_id=call_id, to=phone, caller_id=caller_id or c.caller_id, campaign_id=c.id,
                           ring_timeout_s=self.ring_timeout_s, machine_detection=self.machine_detection,
                           voicemail=c.machine_action == "voicemail" and bool(c.voicemail_message),
                           send_by=send_deadline(decided_at) if self.gate is not None else None)

    def _place(self, request: DialRequest, c: CampaignView, slot: PacerSlot | None, now: datetime,
               t: float) -> bool:
        """Send one claimed call and record what came of it, whatever the carrier does: a claim never stays a row
        without a carrier reference in this process (a raise is a refusal; an unrecorded reference is kept)."""
        try:
            check_send_by(request.send_by, now, "the worker's turn came too late")  # by the loop's own clock
            ref = self.telephony.place(request)
        except SendTooLate as e:
            log.warning("call %s to %s not sent: %s", request.call_id, request.to, e)
            self.store.send_refused(request.call_id, now, e.send_by, e.at)
            self.stats.send_refused += 1
            return False
        except Exception as e:  # PlaceFailed, or a carrier that broke: no reference, so the call was not placed
            retryable = e.retryable if isinstance(e, PlaceFailed) else True
            if isinstance(e, PlaceFailed):
                log.warning("call %s to %s not placed: %s", request.call_id, request.to, e)
            else:  # as the Twilio worker's placement threads treat it: the lead is due again, the attempt given back
                log.exception("placing call %s failed; recorded as not placed", request.call_id)
                self.stats.errors.append(f"place {request.call_id}: {type(e).__name__}: {e}")
            self.store.place_failed(request.call_id, now, retryable)
            self.stats.place_failed += 1
            self.observer.place_failed(c.id)
            return False
        try:
            self.store.placed(request.call_id, self.telephony.name, ref, now)
        except Exception:  # the carrier has it: written on the next pass, before any of its events is applied
            log.exception("storing the placement of call %s (%s) failed; kept to write again", request.call_id, ref)
            self.unrecorded.add(request.call_id, self.telephony.name, ref, now)
        if slot is not None:
            slot.pacer.observe(CallPlaced(t=t, call_id=str(request.call_id)))
        self.stats.placed += 1
        self.observer.placed(c.id)
        return True

    def _release_unsent(self, claims: list, times: list[datetime], now: datetime) -> None:
        """Claims a failing turn never handed to the carrier: released at once as not placed (the attempt given
        back, the lead due again shortly), not left for the next worker start."""
        if self.placer is not None:
            self.placer.give_back(times)
        for cl in claims:
            try:
                self.store.place_failed(cl.call_id, now, True)
            except Exception:  # the database is away too: the start-up settlement finds the row
                log.exception("releasing call %s (never sent) failed", cl.call_id)

    def _settle(self) -> None:
        """Take in what the placer's threads finished: the pacer hears ``CallPlaced`` at the moment each create was
        sent (before any callback of that call reaches the loop); a reference a thread could not store is kept to
        write again (``UnrecordedPlacements``)."""
        for p in self.placer.unrecorded():
            self.unrecorded.add(p.call_id, self.placer.provider, p.ref, p.sent_at)
        for p in self.placer.finished():
            if p.refused:
                self.stats.send_refused += 1
                continue
            if p.ref is None:
                self.stats.place_failed += 1
                self.observer.place_failed(p.campaign_id)
                continue
            self.stats.placed += 1
            self.observer.placed(p.campaign_id)
            slot = self.slots.get(p.campaign_id)
            if slot is not None:
                slot.pacer.observe(CallPlaced(t=p.sent_at.timestamp(), call_id=str(p.call_id)))

    def _place_previews(self, now: datetime) -> None:
        """Place the calls preview agents chose (within the calls-per-second limit)."""
        for call in self.store.preview_calls():
            placer = self.placer
            if placer is not None and placer.is_pending(call.id):
                continue
            times: list[datetime] = []
            if placer is not None:
                times = placer.reserve(1, now) if placer.room() else []
                if not times:
                    return
            elif self._bucket is not None and not self._bucket.try_take():
                return
            c = self.campaigns.get(call.campaign_id) or self.store.campaign(call.campaign_id)
            if c is None:
                if placer is not None:
                    placer.give_back(times)
                continue
            request = self._request(call.id, call.phone, c, call.placed_at)  # queued: when the gate decided
            if placer is not None:
                placer.submit(request, times[0])
            else:
                self._place(request, c, self.slots.get(c.id), now, now.timestamp())

    def preview_dial(self, agent_id: int, lead_id: int, now: datetime) -> CallView | None:
        """A preview agent dials the lead they looked at (in-process callers); placed at once."""
        self._advance(now)
        call = self.store.preview_dial(agent_id, lead_id, now, self.gate)
        if call is not None:
            self._place_previews(now)
        return call

    # --- routing and the 2-second rule ---------------------------------------------------------------------
    def _route(self, now: datetime, expire: bool = False) -> None:
        """Connect waiting answered calls (oldest first) to the longest-idle ready agent; with ``expire``,
        abandon those that have waited ``grace_s`` with nobody free."""
        for call in self.store.waiting_calls():
            waited = now - call.answered_at
            if waited < ABANDON_LIMIT:  # past it the person is abandoned whoever is free now
                agent_id = self.store.longest_idle_agent(call.campaign_id, call.id)
                if agent_id is not None and self._connect(call, agent_id, now):
                    continue
            if expire and waited >= self.grace:
                self._abandon(call, now)

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

    # --- carrier events ----------------------------------------------------------------------------------------
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
                agent_id = self.store.longest_idle_agent(call.campaign_id, call.id)
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
