"""Connects and other requests about calls in progress on the lanes (the Twilio worker): the loop does not wait on
them, each call's requests keep their order, a call is recorded as bridged only once the carrier moved it, and a
connect that failed gives the agent back at the loop's next pass."""

from __future__ import annotations

import threading

from dialer.loop.lanes import CarrierLanes
from tests.dialer.loop.conftest import build_floor


class SlowCarrier:
    """Wraps the scripted carrier: every request about a call waits for ``gate``; connects to ``refuse`` fail."""

    def __init__(self, inner) -> None:
        self.inner, self.gate, self.refuse = inner, threading.Event(), set()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def connect(self, ref, agent_id) -> None:
        self.gate.wait(10)
        if ref in self.refuse:
            raise RuntimeError("Twilio said 500")
        self.inner.connect(ref, agent_id)

    def hangup(self, ref) -> None:
        self.gate.wait(10)
        self.inner.hangup(ref)


def test_the_loop_goes_on_while_a_connect_is_in_flight_and_bridges_once_it_went(kind, request, clock):
    floor = build_floor(kind, request, clock, machine_action="hangup")
    slow = floor.loop.telephony = SlowCarrier(floor.carrier)
    floor.loop.lanes = lanes = CarrierLanes(lanes=4)
    try:
        floor.ready(0, 0.0)
        ref, other = floor.dial(2, 1.0)
        floor.event("answered", ref, 5.0, answered_by="unknown")  # returns at once: the connect waits on the lane
        floor.event("answered", ref, 6.0, answered_by="machine")  # the verdict: hang up, after the connect
        assert floor.carrier.actions == [] and lanes.busy() == 2
        slow.gate.set()
        lanes.close()
        assert floor.carrier.actions == [("connect", ref, floor.agents[0]), ("hangup", ref, None)]
    finally:
        lanes.close()


def test_a_connect_that_failed_gives_the_agent_back_and_the_call_is_routed_again(kind, request, clock):
    floor = build_floor(kind, request, clock)
    slow = floor.loop.telephony = SlowCarrier(floor.carrier)
    floor.loop.lanes = lanes = CarrierLanes(lanes=2)
    try:
        floor.ready(0, 0.0)
        (ref,) = floor.dial(1, 1.0)
        slow.refuse.add(ref)
        floor.event("answered", ref, 5.0, answered_by="human")
        assert floor.store.agent(floor.agents[0]).state == "talking"  # the loop went on as if connected
        slow.gate.set()
        while lanes.busy():  # the request fails on its lane
            threading.Event().wait(0.01)
        slow.refuse.clear()
        floor.loop.route(floor.at(5.5))  # the failure heard: the agent is free, the call still waits and is routed
        lanes.close()
        assert [e for e in floor.loop.stats.errors if e.startswith("connect")] == [f"connect {floor.call(ref).id}: "
                                                                                   "Twilio said 500"]
        assert floor.carrier.did("connect") == [(ref, floor.agents[0])]
        assert floor.call(ref).connected_at == floor.at(5.5) and floor.call(ref).outcome is None
    finally:
        lanes.close()
