"""A carrier that raises at placement (a bug, a dropped connection in its client: anything but ``PlaceFailed``)
after the claim committed must not leave the call row without a carrier reference until the next worker start.

The worker settles it at once, in the turn: the carrier gave no reference, so the call is recorded as not placed,
as when the carrier refuses it (the row goes, the attempt is given back, the lead is due again in 30 s); the pacer
never hears of a dial, no line stays taken, and the turn's other claims are still placed."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import OperationalError

from dialer.carriers.sendpace import MemoryBudget, SendPacer
from dialer.carriers.telephony import CarrierEvent, PlaceOutcomeUnknown
from dialer.loop.placement import ConcurrentPlacer
from dialer.pacing import CallPlaced
from tests.dialer.loop.conftest import build_floor


class BrokenOnce(RuntimeError):
    pass


def test_a_carrier_raising_at_placement_settles_the_claim_at_once(floor):
    placed_before = floor.carrier.place
    calls = []

    def place(request):
        calls.append(request.call_id)
        if len(calls) == 1:
            raise BrokenOnce("the carrier's client broke")
        return placed_before(request)

    floor.carrier.place = place
    refs = floor.dial(2, 0.0)  # the first claim's placement raises; the turn goes on with the second
    assert len(refs) == 1 and floor.call(refs[0]).lead_id == 2
    status, attempts, next_at, last, _ = floor.lead(1)
    assert (status, attempts, next_at, last) == ("new", 0, floor.at(30.0), None)  # not a dial that reached anyone
    assert floor.store.live_lines(floor.campaign_id) == 1  # only the placed call holds a line
    assert floor.store.call(calls[0]) is None  # no call row without a carrier reference is left behind
    assert [e.call_id for e in floor.pacer.kinds(CallPlaced)] == [str(floor.call(refs[0]).id)]
    assert floor.loop.stats.place_failed == 1 and floor.loop.stats.placed == 1
    assert any("BrokenOnce" in e for e in floor.loop.stats.errors)
    later = floor.dial(9, 10.0)  # every other lead (3 to 10); lead 1 waits its 30 s
    assert sorted(floor.call(r).lead_id for r in later) == list(range(3, 11))
    (again,) = floor.dial(1, 30.0)
    assert floor.call(again).lead_id == 1 and floor.call(again).attempt == 1  # dialed once more, only now


def test_a_carrier_that_always_raises_leaves_no_claim_behind(floor):
    def place(request):
        raise ConnectionResetError("carrier down")

    floor.carrier.place = place
    assert floor.dial(3, 0.0) == []
    assert floor.store.live_lines(floor.campaign_id) == 0
    assert [floor.lead(i)[:3] for i in (1, 2, 3)] == [("new", 0, floor.at(30.0))] * 3
    assert not floor.pacer.kinds(CallPlaced)
    floor.loop.handle(CarrierEvent(kind="answered", provider_ref="REF1", at=floor.at(1.0)))  # nothing to find
    assert floor.loop.stats.ignored_events == 1


class LockedOnce:
    """The store, with its first ``placed`` refused as a database held past its busy timeout refuses a write."""

    def __init__(self, store) -> None:
        self._store, self.refused = store, 0

    def __getattr__(self, name):
        return getattr(self._store, name)

    def placed(self, call_id, provider, ref, now) -> None:
        if not self.refused:
            self.refused += 1
            raise OperationalError("UPDATE calls", {}, Exception("database is locked"))
        self._store.placed(call_id, provider, ref, now)


@pytest.mark.parametrize("concurrent", [False, True], ids=["in-turn", "placer-threads"])
def test_a_placement_the_database_refused_to_record_is_recorded_by_the_same_worker(kind, request, clock, concurrent):
    """The carrier took the call but writing its reference failed: the worker records it on its next pass (the
    Twilio worker's placement threads hand it to the loop), so the call's callbacks find it at once instead of
    waiting for a sweep or the next start."""
    floor = build_floor(kind, request, clock)
    store = LockedOnce(floor.store)
    floor.loop.store = store
    placer = None
    if concurrent:
        def place(req, slot):
            return floor.carrier.place(req), clock.now()

        placer = ConcurrentPlacer(place, SendPacer(MemoryBudget(10.0), 10.0, clock, margin_s=0, sleep=clock.advance),
                                  store, "script", 10.0, clock)
        floor.loop.placer = placer
    floor.dial(1, 0.0)
    if placer is not None:
        placer.close()  # the create was sent and its reference written (or not) by a placement thread
    (ref,) = [r for r, _ in floor.carrier.placed]
    assert store.refused == 1
    floor.loop.advance(floor.at(1.0))  # the next pass of the same worker
    call = floor.call(ref)
    assert call is not None and call.lead_id == 1 and call.status == "dialing"
    assert [e.call_id for e in floor.pacer.kinds(CallPlaced)] == [str(call.id)]  # told once
    floor.ready(0, 2.0)
    floor.event("answered", ref, 3.0, answered_by="human")
    assert floor.carrier.did("connect") == [(ref, floor.agents[0])]  # its answer reached an agent


@pytest.mark.parametrize("concurrent", [False, True], ids=["in-turn", "placer-threads"])
def test_a_create_whose_answer_never_came_keeps_its_claim_and_the_person_is_not_dialed_again(kind, request, clock,
                                                                                           concurrent):
    """The carrier may have made the call (``PlaceOutcomeUnknown``): the row stays without a reference, "unknown",
    its line taken and its lead "dialing", for the carrier's call log to settle; later turns dial everyone else."""
    floor = build_floor(kind, request, clock)
    placed_before = floor.carrier.place
    calls = []

    def place(req):
        calls.append(req.call_id)
        if len(calls) == 1:
            raise PlaceOutcomeUnknown("no answer to the create", floor.at(0.2))
        return placed_before(req)

    floor.carrier.place = place
    placer = None
    if concurrent:
        placer = ConcurrentPlacer(lambda req, slot: (place(req), clock.now()),
                                  SendPacer(MemoryBudget(10.0), 10.0, clock, margin_s=0, sleep=clock.advance),
                                  floor.store, "script", 10.0, clock)
        floor.loop.placer = placer
    def settled(t: float) -> None:  # the placement threads' outcomes taken in by the loop
        while placer is not None and placer.in_flight():
            time.sleep(0.01)
        floor.loop.advance(floor.at(t))

    floor.dial(2, 0.0)
    settled(0.5)
    kept = floor.store.call(calls[0])
    assert kept is not None and kept.status == "unknown" and kept.placed_at == floor.at(0.2)
    status, attempts, *_ = floor.lead(1)
    assert (status, attempts) == ("dialing", 1)  # counted as a dial: it may have reached the person
    assert floor.store.live_lines(floor.campaign_id) == 2
    assert floor.loop.stats.place_unknown == 1 and floor.loop.stats.place_failed == 0
    assert str(calls[0]) not in [e.call_id for e in floor.pacer.kinds(CallPlaced)]
    floor.dial(20, 40.0)  # well past the 30 s a call not placed would wait
    settled(40.5)
    if placer is not None:
        placer.close()
    assert len(calls) > 2 and [c for c in calls if floor.store.call(c).lead_id == 1] == [calls[0]]
