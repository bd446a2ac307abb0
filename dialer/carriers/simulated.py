"""The simulated carrier: ``Telephony`` whose calls meet the scenario's customers on the simulator's clock.

``place`` draws the dial's fate and schedules what a real carrier would report (ringing, the answer, the
answering-machine verdict, the end) on the event queue; ``connect``/``abandon``/``hangup``/``leave_voicemail``
change what happens next, as the real network would. Events reach the dial loop through ``deliver`` (the loop's
``handle``) exactly like Twilio's callbacks do through the callback pump, so the simulator drives the real loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dialer.carriers.telephony import CarrierEvent, DialRequest, PlaceFailed, check_send_by

if TYPE_CHECKING:  # the simulator's types; importing them at run time would loop through dialer.sim
    from dialer.sim.customers import Customers, Fate
    from dialer.sim.engine import EventQueue

TRUTH_CODES = {None: 0, "human": 1, "machine": 2}
TRUTH_NAMES = (None, "human", "machine")


class SimCall:
    __slots__ = ("ref", "call_id", "fate", "placed_t", "answered", "agent_id", "gen", "ended", "talk_s")

    def __init__(self, ref: str, call_id: int, fate: Fate, placed_t: float) -> None:
        self.ref, self.call_id, self.fate, self.placed_t = ref, call_id, fate, placed_t
        self.answered = False
        self.agent_id: int | None = None
        self.gen = 0  # bumped whenever what happens next changes; stale scheduled ends are dropped
        self.ended = False
        self.talk_s = 0.0


class SimCarrier:
    """A carrier in virtual time. ``lead_of(phone)`` names the lead index behind a number; ``calendar(t)`` gives
    the 0-based day and local hour of virtual second ``t`` (answer rates move with the hour)."""

    name = "sim"

    def __init__(self, queue: EventQueue, customers: Customers, *, lead_of: Callable[[str], int],
                 calendar: Callable[[float], tuple[int, float]], deliver: Callable[[CarrierEvent], None],
                 on_connected: Callable[[int, SimCall], None] | None = None,
                 on_ended: Callable[[SimCall], None] | None = None, ref_prefix: str = "SIM") -> None:
        self.q = queue
        self.ref_prefix = ref_prefix  # carrier references must be unique in a database across runs
        self.customers = customers
        self.lead_of = lead_of
        self.calendar = calendar
        self.deliver = deliver
        self.on_connected = on_connected
        self.on_ended = on_ended
        self.answer = customers.sc.answer
        self.amd = customers.sc.amd
        self.calls: dict[str, SimCall] = {}
        self.attempts: dict[str, int] = {}
        self.truth = bytearray()  # per call id: 0 never answered, 1 a person, 2 a machine
        self.placed = 0

    # --- Telephony ---------------------------------------------------------------------------------------------
    def place(self, request: DialRequest) -> str:
        check_send_by(request.send_by, self.q.now())  # the simulator's clock: a decision expired, no call
        try:
            lead = self.lead_of(request.to)
        except KeyError:
            raise PlaceFailed(f"{request.to} is not a number of this simulation", retryable=False) from None
        attempt = self.attempts.get(request.to, 0) + 1
        self.attempts[request.to] = attempt
        t = self.q.t
        day, hour = self.calendar(t)
        fate = self.customers.fate(lead, attempt, day, hour, request.ring_timeout_s)
        self.placed += 1
        ref = f"{self.ref_prefix}{self.placed:09d}"
        call = self.calls[ref] = SimCall(ref, request.call_id, fate, t)
        kind = fate.kind
        if kind == "busy":
            self.q.at(t + fate.end_s, self._end, call, 0, "busy")
        elif kind == "sit":
            self.q.at(t + fate.end_s, self._end, call, 0, "failed")
        else:
            first = fate.end_s if kind == "no_answer" else fate.answer_s
            if self.answer.pdd_s < first:
                self.q.at(t + self.answer.pdd_s, self._emit, call, "ringing")
            if kind == "no_answer":
                self.q.at(t + fate.end_s, self._end, call, 0, "no_answer")
            else:
                self.q.at(t + fate.answer_s, self._answered, call)
        return ref

    def connect(self, provider_ref: str, agent_id: int) -> None:
        call = self.calls.get(provider_ref)
        if call is None or call.ended:
            return
        call.agent_id = agent_id
        call.gen += 1
        call.talk_s = call.fate.talk_s if call.fate.kind == "live" else self.amd.agent_machine_s
        self.q.after(call.talk_s, self._end, call, call.gen, "completed")
        if self.on_connected is not None:
            self.on_connected(agent_id, call)

    def abandon(self, provider_ref: str) -> None:
        self._then(provider_ref, self.answer.safe_harbor_s)

    def hangup(self, provider_ref: str) -> None:
        self._then(provider_ref, 0.0)

    def leave_voicemail(self, provider_ref: str, message: str) -> None:
        self._then(provider_ref, self.answer.voicemail_s)

    def _then(self, ref: str, after_s: float) -> None:
        call = self.calls.get(ref)
        if call is None or call.ended:
            return
        call.gen += 1
        self.q.after(after_s, self._end, call, call.gen, "completed" if call.answered else "canceled")

    # --- what the network reports ------------------------------------------------------------------------------
    def _emit(self, call: SimCall, kind: str, answered_by: str | None = None, outcome: str | None = None) -> None:
        if call.ended:
            return
        self.deliver(CarrierEvent(kind=kind, provider_ref=call.ref, at=self.q.dt(self.q.t),
                                  answered_by=answered_by, outcome=outcome))

    def _answered(self, call: SimCall) -> None:
        if call.ended:
            return
        call.answered = True
        fate = call.fate
        self._truth(call.call_id, "human" if fate.kind == "live" else "machine")
        call.gen += 1
        self.q.after(self.answer.patience_s, self._end, call, call.gen, "completed")  # nobody came: they hang up
        if fate.amd_delay_s > 0:
            self._emit(call, "answered", "unknown")
            self.q.after(fate.amd_delay_s, self._emit, call, "answered", fate.verdict)
        else:
            self._emit(call, "answered", fate.verdict)

    def _end(self, call: SimCall, gen: int, outcome: str) -> None:
        if call.ended or gen != call.gen:
            return
        call.ended = True
        del self.calls[call.ref]
        self._emit_end(call, outcome)

    def _emit_end(self, call: SimCall, outcome: str) -> None:
        self.deliver(CarrierEvent(kind="ended", provider_ref=call.ref, at=self.q.dt(self.q.t), outcome=outcome))
        if self.on_ended is not None:
            self.on_ended(call)

    def _truth(self, call_id: int, by: str) -> None:
        if call_id >= len(self.truth):
            self.truth.extend(bytes(call_id + 1024 - len(self.truth)))
        self.truth[call_id] = TRUTH_CODES[by]

    def true_answered_by(self, call_id: int) -> str | None:
        return TRUTH_NAMES[self.truth[call_id]] if call_id < len(self.truth) else None
