"""An agent who says on the console "pause / log out after this call" (``agents.after_call``): the dial loop counts
them out at once, as a shift's end does (``DialLoop.agent_leaving``), so nothing more is dialed on the promise of
their coming free; the seat goes where it was told when the call and its wrap-up are done, by any way out of it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.agents import service as agents
from campaigns.agents.after_call import set_after_call
from campaigns.agents.models import Agent
from campaigns.agents.wrap import end_overdue_wraps
from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from dialer.pacing import AgentState
from dnc.errors import UserError
from tests.dialer.loop.conftest import build_floor

SQL_KINDS = [k for k in ("sqlite", "postgresql") if k == "sqlite" or __import__("os").environ.get(
    "DIALER_TEST_DATABASE_URL")]


@pytest.fixture(params=SQL_KINDS)
def floor(request, clock):
    return build_floor(request.param, request, clock)


def _states(floor, agent_id: int) -> list[tuple[float, str]]:
    base = floor.t0.timestamp()
    return [(round(e.t - base, 3), e.state) for e in floor.pacer.kinds(AgentState) if e.agent_id == str(agent_id)]


def _say(floor, agent_id: int, then: str | None, t: float, reason: str | None = None) -> bool:
    with session_scope(floor.sessions) as s:
        return set_after_call(s, agent_id, then, floor.at(t), reason)


def _agent(floor, agent_id: int) -> Agent:
    with session_scope(floor.sessions) as s:
        a = s.get(Agent, agent_id)
        s.expunge(a)
        return a


def _on_a_call(floor, t: float = 0.0, answered_by: str = "human") -> tuple[int, str]:
    """The first agent talking on an answered call; returns (agent id, the call's reference)."""
    agent = floor.agents[0]
    floor.ready(0, t)
    (ref,) = floor.dial(1, t + 1.0)
    floor.event("answered", ref, t + 8.0, answered_by=answered_by)
    assert floor.carrier.did("connect") == [(ref, agent)]
    return agent, ref


def test_saying_pause_after_the_call_counts_the_agent_out_at_once_and_the_seat_pauses_after_wrap(floor):
    agent, ref = _on_a_call(floor)
    assert _say(floor, agent, "paused", 20.0, "lunch")
    floor.loop.tick(floor.at(21.0))
    assert _states(floor, agent)[-1] == (21.0, "offline")  # not coming free: the pacer no longer counts them
    floor.event("ended", ref, 60.0, outcome="completed")
    floor.loop.tick(floor.at(61.0))
    assert _states(floor, agent)[-1] == (21.0, "offline")  # the wrap is no news to the pacer
    with session_scope(floor.sessions) as s:  # the disposition form's "then" (preselected: pause, lunch)
        agents.pause(s, agent, "lunch", floor.at(70.0))
    floor.loop.tick(floor.at(71.0))
    assert _states(floor, agent)[-1] == (70.0, "paused")
    a = _agent(floor, agent)
    assert (a.state, a.state_reason, a.after_call) == ("paused", "lunch", None)
    assert not floor.loop.is_leaving(agent)
    floor.ready(0, 100.0)  # back from lunch: counted as usual
    floor.loop.tick(floor.at(101.0))
    assert _states(floor, agent)[-1] == (100.0, "ready")


def test_taking_it_back_during_the_call_counts_the_agent_again_as_they_are(floor):
    agent, _ref = _on_a_call(floor)
    _say(floor, agent, "offline", 20.0)
    floor.loop.tick(floor.at(21.0))
    assert _say(floor, agent, None, 30.0)
    floor.loop.tick(floor.at(31.0))
    assert _states(floor, agent)[-2:] == [(21.0, "offline"), (31.0, "talking")]
    assert not floor.loop.is_leaving(agent) and _agent(floor, agent).after_call is None
    assert not _say(floor, agent, None, 32.0)  # nothing to take back


def test_a_machine_verdict_after_the_connect_sends_the_seat_where_it_said_not_to_ready(floor):
    agent, ref = _on_a_call(floor, answered_by="unknown")  # put through before detection decided
    _say(floor, agent, "paused", 9.0, "break")
    floor.loop.tick(floor.at(9.5))
    floor.event("answered", ref, 10.0, answered_by="machine")  # the late verdict takes the call away
    a = _agent(floor, agent)
    assert (a.state, a.state_reason, a.call_id, a.after_call) == ("paused", "break", None, None)


def test_the_wrap_up_limit_sends_the_seat_where_it_said(floor):
    agent, ref = _on_a_call(floor)
    with session_scope(floor.sessions) as s:
        c = s.get(Campaign, floor.campaign_id)
        c.wrap_limit_s, c.wrap_limit_then = 30, "ready"
    _say(floor, agent, "offline", 20.0)
    floor.event("ended", ref, 60.0, outcome="completed")
    with session_scope(floor.sessions) as s:
        assert end_overdue_wraps(s, floor.at(95.0)) == 1
    assert _agent(floor, agent).state == "offline"


def test_said_while_not_on_a_call_it_happens_now_and_bad_choices_are_refused(floor):
    agent = floor.agents[0]
    floor.ready(0, 0.0)
    assert _say(floor, agent, "paused", 1.0, "break")
    assert _agent(floor, agent).state == "paused"
    with pytest.raises(UserError, match="not one of paused, offline"):
        _say(floor, agent, "lunch", 2.0)
    with pytest.raises(UserError, match="pause reason"):
        _say(floor, agent, "paused", 2.0, "two words")
    with pytest.raises(UserError, match="pause needs a reason"):
        _say(floor, agent, "paused", 2.0)


def test_a_restarted_worker_never_counts_a_seat_that_said_it_leaves(floor, clock):
    agent, _ref = _on_a_call(floor)
    _say(floor, agent, "offline", 20.0)
    from dialer.loop import DialLoop, SqlStore

    fresh = DialLoop(SqlStore(floor.sessions, provider="script"), floor.carrier, pacer_factory=lambda c: floor.pacer)
    floor.pacer.events.clear()
    fresh.tick(floor.at(25.0))
    assert _states(floor, agent)[-1] == (25.0, "offline")
    assert fresh.is_leaving(agent)
    assert floor.at(25.0) - floor.t0 == timedelta(seconds=25)
