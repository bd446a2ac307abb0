"""The simulated carrier, like Twilio, never sends a call after its request's ``send_by`` (by the simulator's clock)."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from dialer.carriers.simulated import SimCarrier
from dialer.carriers.telephony import DialRequest, SendTooLate
from dialer.sim import parse_scenario
from dialer.sim.customers import Customers
from dialer.sim.engine import EventQueue


def test_a_call_past_its_send_by_is_refused_and_one_within_it_is_placed(clock):
    q = EventQueue(clock.now())
    carrier = SimCarrier(q, Customers(parse_scenario({"name": "s", "seed": 1}), 1), lead_of=lambda to: 0,
                         calendar=lambda t: (0, 10.0), deliver=lambda ev: None)
    q.run(until=61.0)
    late = DialRequest(call_id=1, to="+12125550111", caller_id="", campaign_id=1,
                       send_by=clock.now() + timedelta(seconds=60))
    with pytest.raises(SendTooLate) as e:
        carrier.place(late)
    assert e.value.at == clock.now() + timedelta(seconds=61)
    assert carrier.placed == 0 and q.next_t == math.inf  # nothing placed, nothing scheduled
    on_time = DialRequest(call_id=2, to="+12125550112", caller_id="", campaign_id=1,
                          send_by=clock.now() + timedelta(seconds=61))
    assert carrier.place(on_time) and carrier.placed == 1
