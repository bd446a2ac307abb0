"""An agent whose shift is over (``DialLoop.agent_leaving``): dialing counts them out at once, routing still gives
them the answers of what was dialed for them while they wait, and their pacer hears nothing of them but the
log-out until they are gone, so it never counts them as coming free."""

from __future__ import annotations

from dialer.pacing import AgentState, CallConnected


def _states(floor, agent_id: int) -> list[tuple[float, str]]:
    base = floor.t0.timestamp()
    return [(round(e.t - base, 3), e.state) for e in floor.pacer.kinds(AgentState) if e.agent_id == str(agent_id)]


def test_a_leaving_agent_is_counted_out_at_once_and_still_takes_what_was_dialed_for_them(floor):
    leaver, stayer = floor.agents
    floor.ready(0, 0.0)
    (ref,) = floor.dial(1, 1.0)  # dialed while the leaver was counted
    floor.loop.agent_leaving(leaver, floor.at(2.0))
    assert _states(floor, leaver)[-1] == (2.0, "offline")
    floor.event("answered", ref, 8.0, answered_by="human")
    assert floor.carrier.did("connect") == [(ref, leaver)]  # still ready in the store: the answer reaches them
    assert [e.agent_id for e in floor.pacer.kinds(CallConnected)] == [str(leaver)]
    assert _states(floor, leaver)[-1] == (8.0, "offline")  # busy to the pacer for no instant: not coming back
    floor.event("ended", ref, 60.0, outcome="completed")
    floor.loop.tick(floor.at(61.0))  # talking, wrap: not news to the pacer
    assert [s for t, s in _states(floor, leaver) if t > 2.0] == ["offline"]
    floor.loop.agent_state(leaver, "offline", floor.at(70.0))
    floor.loop.tick(floor.at(71.0))
    assert not floor.loop.is_leaving(leaver)
    floor.loop.agent_state(leaver, "ready", floor.at(80.0))  # a new shift: counted again as usual
    floor.loop.tick(floor.at(81.0))
    assert _states(floor, leaver)[-1] == (80.0, "ready")
    assert floor.store.agent(stayer).state == "offline"


def test_an_agent_back_on_shift_before_leaving_is_counted_again_as_they_are(floor):
    leaver = floor.agents[0]
    floor.ready(0, 0.0)
    floor.loop.tick(floor.at(0.5))
    floor.loop.agent_leaving(leaver, floor.at(1.0))
    floor.loop.agent_staying(leaver, floor.at(5.0))
    assert _states(floor, leaver)[-2:] == [(1.0, "offline"), (5.0, "ready")]
    assert not floor.loop.is_leaving(leaver)


def test_a_leaving_agent_gets_only_what_was_dialed_for_them_unless_nobody_else_is_ready(floor):
    """Waiting for their last answers, a leaving agent is the longest idle of the floor; a call dialed after their
    shift ended goes to an agent who stays, and to them only when nobody else is ready (taken beats abandoned)."""
    leaver, stayer = floor.agents
    floor.ready(0, 0.0)  # the leaver has waited longest
    (before,) = floor.dial(1, 1.0)
    floor.loop.agent_leaving(leaver, floor.at(2.0))
    floor.ready(1, 3.0)
    after_1, after_2 = floor.dial(2, 4.0)  # dialed for the stayer, after the leaver's shift ended
    floor.event("answered", after_1, 10.0, answered_by="human")
    assert floor.carrier.did("connect") == [(after_1, stayer)]
    floor.event("answered", before, 11.0, answered_by="human")
    assert floor.carrier.did("connect")[-1] == (before, leaver)  # what was dialed while they counted
    floor.event("ended", before, 20.0, outcome="completed")
    floor.loop.agent_state(leaver, "ready", floor.at(30.0))  # back from wrap for a last answer
    floor.event("answered", after_2, 31.0, answered_by="human")  # the stayer is on a call: nobody else
    assert floor.carrier.did("connect")[-1] == (after_2, leaver)
