"""The agent state machine and the services the console calls (SQL), including dispositions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.agents import service as svc
from campaigns.agents.models import AgentStateEvent
from campaigns.agents.states import check_move
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dnc.errors import UserError
from tests.dialer.loop.conftest import KINDS, build_floor


@pytest.mark.parametrize("current, target, actor, ok", [
    ("offline", "ready", "agent", True), ("offline", "paused", "agent", True), ("ready", "paused", "agent", True),
    ("paused", "ready", "agent", True), ("wrap", "ready", "agent", True), ("wrap", "paused", "agent", True),
    ("talking", "wrap", "agent", True), ("talking", "offline", "agent", True), ("ready", "offline", "agent", True),
    ("ready", "talking", "loop", True), ("talking", "ready", "loop", True), ("talking", "wrap", "loop", True),
    ("ready", "talking", "agent", False), ("offline", "wrap", "agent", False), ("talking", "paused", "agent", False),
    ("talking", "ready", "agent", False), ("paused", "talking", "loop", False), ("offline", "talking", "loop", False),
    ("wrap", "talking", "agent", False),
])
def test_state_machine(current, target, actor, ok):
    if ok:
        assert check_move(current, target, actor) is True
    else:
        with pytest.raises(UserError, match=f"who is {current} cannot become {target}"):
            check_move(current, target, actor)


def test_same_state_is_a_no_op_and_unknown_states_are_refused():
    assert check_move("ready", "ready") is False
    with pytest.raises(UserError, match="not one of"):
        check_move("ready", "lunch")


@pytest.fixture(params=[k for k in KINDS if k != "memory"])
def kind(request):
    """The console's services are SQL: these tests run on the SQL stores only."""
    return request.param


@pytest.fixture
def sql_floor(request, clock, kind):
    return build_floor(kind, request, clock, leads=4)


def history(floor) -> list[tuple]:
    with session_scope(floor.sessions) as s:
        return [(e.agent_id, e.state, e.reason) for e in
                s.scalars(select(AgentStateEvent).order_by(AgentStateEvent.id))]


def test_console_state_changes_write_state_and_history(sql_floor, clock):
    f = sql_floor
    a = f.agents[0]
    with session_scope(f.sessions) as s:
        assert svc.go_ready(s, a, f.at(1)) is True
        assert svc.go_ready(s, a, f.at(2)) is False  # already ready: no new history row
        with pytest.raises(UserError, match="needs a reason code"):
            svc.pause(s, a, " ", f.at(3))
        with pytest.raises(UserError, match="must be 1-64 letters"):
            svc.pause(s, a, "coffee break!", f.at(3))
        assert svc.pause(s, a, "break", f.at(3)) is True
        assert svc.pause(s, a, "lunch", f.at(4)) is True  # a new reason is a new period
        assert svc.go_offline(s, "agent1", f.at(5)) is True
        agent = svc.get_agent(s, a)
        assert (agent.state, agent.state_since) == ("offline", f.at(5))
        with pytest.raises(UserError, match="no agent 'nobody'"):
            svc.go_ready(s, "nobody", f.at(6))
    assert history(f) == [(a, "ready", None), (a, "paused", "break"), (a, "paused", "lunch"), (a, "offline", None)]


def test_ending_a_call_from_the_console_hangs_it_up_on_the_next_turn(sql_floor):
    f = sql_floor
    f.ready(0, 0.0)
    (ref,) = f.dial(1, 1.0)
    f.event("answered", ref, 8.0, answered_by="human")
    with session_scope(f.sessions) as s:
        call = svc.end_call(s, f.agents[0], f.at(30.0))
        assert call.provider_sid == ref
        assert svc.get_agent(s, f.agents[0]).state == "wrap"
        with pytest.raises(UserError, match="not on a call"):
            svc.end_call(s, f.agents[0], f.at(31.0))
    f.loop.tick(f.at(30.5))
    f.loop.tick(f.at(31.0))
    assert f.carrier.did("hangup") == [(ref, None)]  # sent once
    f.event("ended", ref, 31.0, outcome="completed")
    call_id = f.call(ref).id
    with session_scope(f.sessions) as s:
        assert svc.get_agent(s, f.agents[0]).state == "wrap"  # not moved twice
        assert s.get(Call, call_id).outcome == "completed"


def test_logging_out_mid_call_drops_the_call(sql_floor):
    f = sql_floor
    f.ready(0, 0.0)
    (ref,) = f.dial(1, 1.0)
    f.event("answered", ref, 8.0, answered_by="human")
    f.loop.agent_state(f.agents[0], "offline", f.at(20.0))
    assert f.carrier.did("hangup") == [(ref, None)]
    f.event("ended", ref, 20.1, outcome="completed")
    assert f.store.agent(f.agents[0]).state == "offline"


def connected_call(f, t: float = 1.0):
    f.ready(0, t)
    (ref,) = f.dial(1, t + 1)
    f.event("answered", ref, t + 8, answered_by="human")
    f.event("ended", ref, t + 60, outcome="completed")
    return f.call(ref).id


@pytest.mark.parametrize("code, status", [("SALE", "closed"), ("NI", "done"), ("WRONG", "done"),
                                          ("NOANS", "retry")])
def test_disposition_moves_the_lead(sql_floor, code, status):
    f = sql_floor
    call_id = connected_call(f)
    with session_scope(f.sessions) as s:
        assert s.get(Lead, 1).status == "dialing"  # waits for the agent's word
        svc.disposition(s, call_id, code, f.at(70), notes="spoke to Ann", agent_ref=f.agents[0])
        lead = s.get(Lead, 1)
        assert (lead.status, lead.last_outcome) == (status, code)
        call = s.get(Call, call_id)
        assert (call.disposition_code, call.dispositioned_at, call.notes) == (code, f.at(70), "spoke to Ann")
        with pytest.raises(UserError, match="already has disposition"):
            svc.disposition(s, call_id, "NI", f.at(71))


def test_callback_disposition_needs_a_future_time(sql_floor):
    f = sql_floor
    call_id = connected_call(f)
    with session_scope(f.sessions) as s:
        with pytest.raises(UserError, match="give the callback time"):
            svc.disposition(s, call_id, "CALLBK", f.at(70))
        with pytest.raises(UserError, match="not in the future"):
            svc.disposition(s, call_id, "CALLBK", f.at(70), callback_at=f.at(60))
        with pytest.raises(UserError, match="'MAYBE' is not one of SALE, CALLBK"):
            svc.disposition(s, call_id, "MAYBE", f.at(70))
        with pytest.raises(UserError, match="was not connected to agent agent2"):
            svc.disposition(s, call_id, "NI", f.at(70), agent_ref="agent2")
        when = f.at(70) + timedelta(days=1)
        svc.disposition(s, call_id, "CALLBK", f.at(70), callback_at=when)
        lead = s.get(Lead, 1)
        assert (lead.status, lead.callback_at, lead.next_attempt_at) == ("callback", when, when)


def test_dnc_disposition_reaches_the_internal_list_and_the_gate(sql_floor):
    from dnc.gate import evaluate
    from dnc.tables import InternalEntry

    f = sql_floor
    call_id = connected_call(f)
    with session_scope(f.sessions) as s:
        svc.disposition(s, call_id, "DNC", f.at(70), agent_ref="agent1")
        assert s.get(Lead, 1).status == "dnc"
        entry = s.scalar(select(InternalEntry))
        assert (entry.e164, entry.scope, entry.channel, entry.added_by) == ("+12125550000", "company", "agent",
                                                                           "agent1")
        decision = evaluate(s, "+12125550000", campaign=f.campaign_id, at=f.at(80), zones=("America/New_York",))
        assert not decision.allowed and "internal_dnc" in decision.codes


def test_a_call_that_never_reached_an_agent_cannot_be_dispositioned(sql_floor):
    f = sql_floor
    (ref,) = f.dial(1, 1.0)
    call_id = f.call(ref).id
    f.event("ended", ref, 20.0, outcome="no_answer")
    with session_scope(f.sessions) as s, pytest.raises(UserError, match="never reached an agent"):
        svc.disposition(s, call_id, "NI", f.at(30))
