"""The dial loop on both stores: routing, the 2-second rule, detection, retries, duplicates and reordering."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dialer.carriers.telephony import PlaceFailed
from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, HistorySummary
from tests.dialer.loop.conftest import build_floor


def test_answer_goes_to_the_longest_idle_ready_agent(floor):
    floor.ready(1, 0.0)  # agent 2 has waited longest
    floor.ready(0, 5.0)
    r1, r2, r3 = floor.dial(3, 10.0)
    floor.event("answered", r1, 20.0, answered_by="human")
    floor.event("answered", r2, 21.0, answered_by="human")
    assert floor.carrier.did("connect") == [(r1, floor.agents[1]), (r2, floor.agents[0])]
    assert floor.call(r1).agent_id == floor.agents[1] and floor.call(r1).connected_at == floor.at(20.0)
    assert floor.store.agent(floor.agents[1]).state == "talking"
    connected = floor.pacer.kinds(CallConnected)
    assert [(e.call_id, e.agent_id) for e in connected] == [(str(floor.call(r1).id), str(floor.agents[1])),
                                                            (str(floor.call(r2).id), str(floor.agents[0]))]


def test_no_agent_within_two_seconds_is_an_abandon_with_the_safe_harbor_message(floor):
    (ref,) = floor.dial(1, 0.0)
    floor.event("answered", ref, 10.0, answered_by="human")
    floor.loop.tick(floor.at(11.99))
    assert not floor.carrier.did("abandon")
    assert floor.loop.next_deadline() == floor.at(12.0)
    floor.loop.tick(floor.at(12.0))
    assert floor.carrier.did("abandon") == [(ref, None)]
    call_id = floor.call(ref).id
    assert floor.call_row(call_id)[0] == "abandoned"  # recorded at once, where the 30-day rate reads it
    ended = floor.pacer.kinds(CallEnded)
    assert [(e.call_id, e.outcome, e.t) for e in ended] == [(str(call_id), "abandoned", floor.at(12.0).timestamp())]
    floor.ready(0, 13.0)  # too late: the safe-harbor message plays, nobody is connected
    assert not floor.carrier.did("connect")
    floor.event("ended", ref, 20.0, outcome="completed")
    assert floor.call_row(call_id)[:2] == ("abandoned", True)
    assert len(floor.pacer.kinds(CallEnded)) == 1  # the abandon was told once
    status, attempts, next_at, last, _ = floor.lead(1)
    assert (status, attempts, last) == ("retry", 1, "abandoned") and next_at == floor.at(20.0 + 1800)
    assert floor.store.agent(floor.agents[0]).state == "ready"


def test_an_agent_freed_within_the_two_seconds_takes_the_waiting_call(floor):
    (ref,) = floor.dial(1, 0.0)
    floor.event("answered", ref, 10.0, answered_by="unknown")  # no verdict yet: treated as a person
    floor.ready(0, 11.5)
    assert floor.carrier.did("connect") == [(ref, floor.agents[0])]
    floor.loop.tick(floor.at(13.0))
    assert not floor.carrier.did("abandon")


def test_duplicated_late_and_reordered_events_change_nothing(floor):
    floor.ready(0, 0.0)
    (ref,) = floor.dial(1, 1.0)
    floor.event("ringing", ref, 3.0)
    floor.event("answered", ref, 9.0, answered_by="human")
    floor.event("answered", ref, 9.0, answered_by="human")  # a retried callback
    floor.event("ringing", ref, 3.0)  # late
    assert floor.call(ref).status == "connected"
    floor.event("ended", ref, 60.0, outcome="completed")
    floor.event("ended", ref, 60.0, outcome="completed")
    floor.event("answered", ref, 9.5, answered_by="machine")  # a verdict after the end
    call_id = int(ref[3:])
    assert floor.call_row(call_id) == ("completed", True, None)
    assert len(floor.carrier.did("connect")) == 1 and not floor.carrier.did("hangup")
    assert [type(e).__name__ for e in floor.pacer.events if not isinstance(e, AgentState | HistorySummary)] == [
        "CallPlaced", "CallAnswered", "CallConnected", "CallEnded"]
    assert floor.store.agent(floor.agents[0]).state == "wrap"
    assert floor.loop.stats.ignored_events == 4
    floor.event("ended", "NOT-OURS", 61.0, outcome="completed")  # an unknown call: ignored, no error
    assert floor.loop.stats.ignored_events == 5


def test_a_late_machine_verdict_drops_the_leg_and_frees_the_agent(floor):
    floor.ready(0, 0.0)
    (ref,) = floor.dial(1, 1.0)
    floor.event("answered", ref, 9.0, answered_by="unknown")
    assert floor.carrier.did("connect") == [(ref, floor.agents[0])]
    floor.event("answered", ref, 11.5, answered_by="machine")
    assert floor.carrier.did("hangup") == [(ref, None)]
    agent = floor.store.agent(floor.agents[0])
    assert (agent.state, agent.since, agent.call_id) == ("ready", floor.at(11.5), None)
    floor.event("ended", ref, 11.6, outcome="completed")
    call_id = int(ref[3:])
    assert floor.call_row(call_id)[0] == "machine"
    assert floor.store.agent(floor.agents[0]).state == "ready"  # no wrap after a machine
    status, attempts, next_at, last, _ = floor.lead(1)
    assert (status, last, next_at) == ("retry", "machine", floor.at(11.6 + 6 * 3600))
    assert floor.pacer.kinds(CallEnded)[-1].outcome == "machine"


@pytest.mark.parametrize("action", ["hangup", "voicemail"])
def test_a_machine_is_hung_up_or_gets_the_voicemail(kind, request, clock, action):
    floor = build_floor(kind, request, clock, machine_action=action)
    floor.ready(0, 0.0)
    (ref,) = floor.dial(1, 1.0)
    floor.event("answered", ref, 12.0, answered_by="machine")
    assert not floor.carrier.did("connect")
    assert floor.carrier.did(action) == [(ref, "Call us back" if action == "voicemail" else None)]
    assert floor.pacer.kinds(CallAnswered)[-1].answered_by == "machine"


@pytest.mark.parametrize("outcome, delay_s, status", [("no_answer", 4 * 3600, "retry"), ("busy", 1800, "retry"),
                                                      ("failed", 1800, "retry")])
def test_retry_delay_per_outcome(floor, outcome, delay_s, status):
    (ref,) = floor.dial(1, 0.0)
    floor.event("ended", ref, 25.0, outcome=outcome)
    st, attempts, next_at, last, _ = floor.lead(1)
    assert (st, attempts, last, next_at) == (status, 1, outcome, floor.at(25.0 + delay_s))
    assert floor.pacer.kinds(CallEnded)[-1].outcome == outcome


def test_max_attempts_exhaust_and_a_dead_number_is_done(kind, request, clock):
    floor = build_floor(kind, request, clock, leads=2)
    for attempt in range(5):
        t = attempt * 5 * 3600.0
        by_lead = {floor.call(r).lead_id: r for r in floor.dial(2, t)}
        assert set(by_lead) == ({1, 2} if attempt < 2 else {1})  # lead 2 is done after its second failure
        floor.event("ended", by_lead[1], t + 25, outcome="no_answer")
        if 2 in by_lead:
            floor.event("ended", by_lead[2], t + 2, outcome="failed")
    assert floor.lead(2)[:2] == ("done", 2)  # the carrier refused the number twice: invalid
    assert floor.lead(1)[:2] == ("exhausted", 5)


def test_a_call_the_carrier_refused_gives_the_attempt_back(floor):
    floor.carrier.fail_next = PlaceFailed("429 throttled", retryable=True)
    assert floor.dial(1, 0.0) == []
    status, attempts, next_at, _, _ = floor.lead(1)
    assert (status, attempts, next_at) == ("new", 0, floor.at(30.0))
    assert floor.store.live_lines(floor.campaign_id) == 0
    assert not floor.pacer.kinds(CallPlaced)
    (ref,) = floor.dial(1, 1.0)
    assert ref and floor.call(ref).attempt == 1  # the next lead; lead 1 waits 30 s, then is dialed again


def test_a_canceled_call_does_not_count_as_an_attempt(floor):
    (ref,) = floor.dial(1, 0.0)
    floor.event("ended", ref, 3.0, outcome="canceled")
    assert floor.lead(1)[:2] == ("new", 0)
    assert floor.call_row(int(ref[3:]))[0] == "failed"


def test_line_cap_and_calls_per_second(kind, request, clock):
    floor = build_floor(kind, request, clock, leads=30, max_lines=4, cps=2)
    assert len(floor.dial(10, 0.0)) == 2  # the bucket holds two calls
    assert floor.loop.slots[floor.campaign_id].capped_by == "cps"
    assert len(floor.dial(10, 1.0)) == 2  # two more tokens a second later: four lines in use
    assert len(floor.dial(10, 5.0)) == 0
    assert floor.loop.slots[floor.campaign_id].capped_by == "lines"


class Refusal:
    def __init__(self, code: str, temporary: bool) -> None:
        self.code, self.text, self.temporary = code, code.replace("_", " "), temporary


class Decision:
    def __init__(self, allowed: bool, reasons=(), opens_at=None) -> None:
        self.allowed, self.reasons, self.opens_at = allowed, tuple(reasons), opens_at


def test_gate_refusals_reschedule_or_close_and_never_count(kind, request, clock):
    opens = clock.now() + timedelta(hours=3)
    verdicts = {
        "+12125550000": Decision(False, [Refusal("outside_window", True)], opens),
        "+12125550001": Decision(False, [Refusal("internal_dnc", False)]),
        "+12125550002": Decision(False, [Refusal("national_dnc", False), Refusal("outside_window", True)]),
        "+12125550003": Decision(False, [Refusal("registry_stale", True)]),
    }
    floor = build_floor(kind, request, clock, leads=6,
                        gate=lambda ctx, cand, now: verdicts.get(cand.phone, Decision(True)))
    refs = floor.dial(2, 0.0)
    assert [floor.call(r).phone for r in refs] == ["+12125550004", "+12125550005"]
    assert [c.phone for c in floor.gate_calls] == [f"+1212555000{i}" for i in range(6)]
    assert floor.lead(1)[:3] == ("new", 0, opens)
    assert floor.lead(2)[0] == "dnc" and "internal_dnc" in floor.lead(2)[4]
    assert floor.lead(3)[0] == "suppressed" and "national_dnc" in floor.lead(3)[4]
    assert floor.lead(4)[:3] == ("new", 0, floor.at(15 * 60))
    assert floor.dial(5, 60.0) == []  # nothing due: the window opens in three hours


def test_history_and_calls_in_flight_seed_a_new_pacer(floor):
    floor.ready(0, 0.0)
    r1, r2 = floor.dial(2, 1.0)
    floor.event("answered", r1, 8.0, answered_by="human")
    floor.event("answered", r2, 9.0, answered_by="human")
    floor.loop.tick(floor.at(11.5))  # r2 is abandoned
    from dialer.loop import DialLoop
    from tests.dialer.loop.conftest import FixedPacer

    fresh = FixedPacer()
    restarted = DialLoop(floor.store, floor.carrier, pacer_factory=lambda c: fresh)
    restarted.tick(floor.at(12.0))
    (hist,) = fresh.kinds(HistorySummary)
    # both calls are still in flight (r1 talking, r2 hearing the safe-harbor message): the history holds the
    # finished calls by placement time, and these two reach the pacer one by one, so each is counted once
    assert (hist.live_answers, hist.abandoned, hist.live_placed) == (0, 0, ())
    assert {e.call_id for e in fresh.kinds(CallPlaced)} == {str(floor.call(r1).id), str(floor.call(r2).id)}
    assert [(e.call_id, e.outcome) for e in fresh.kinds(CallEnded)] == [(str(floor.call(r2).id), "abandoned")]
    assert [e.agent_id for e in fresh.kinds(CallConnected)] == [str(floor.agents[0])]
    assert [(e.agent_id, e.state) for e in fresh.kinds(AgentState)] == [(str(floor.agents[0]), "talking")]


def test_finished_calls_seed_the_pacer_by_placement_time(floor):
    floor.ready(0, 0.0)
    r1, r2 = floor.dial(2, 1.0)
    floor.event("answered", r1, 8.0, answered_by="human")
    floor.event("answered", r2, 9.0, answered_by="human")
    floor.loop.tick(floor.at(11.5))  # r2 is abandoned
    floor.event("ended", r1, 40.0, outcome="completed")
    floor.event("ended", r2, 20.0, outcome="completed")
    from dialer.loop import DialLoop
    from tests.dialer.loop.conftest import FixedPacer

    fresh = FixedPacer()
    DialLoop(floor.store, floor.carrier, pacer_factory=lambda c: fresh).tick(floor.at(60.0))
    (hist,) = fresh.kinds(HistorySummary)
    placed = floor.call(r1).placed_at.timestamp()
    assert (hist.live_answers, hist.abandoned) == (2, 1)
    assert hist.live_placed == (placed, placed) and hist.abandoned_placed == (placed,)


def test_the_pacer_hears_agent_states_from_the_history(floor):
    floor.ready(0, 0.0)
    floor.loop.agent_state(floor.agents[1], "paused", floor.at(1.0), "break")
    floor.loop.tick(floor.at(2.0))
    states = [(e.agent_id, e.state) for e in floor.pacer.kinds(AgentState)]
    assert states == [(str(floor.agents[0]), "ready"), (str(floor.agents[1]), "paused")]
    assert floor.loop.explain(floor.campaign_id)["pacer"] == {"mode": "fixed"}
