"""Preview dialing: the agent sees a lead, dials it or skips it; the call is theirs from the dial on."""

from __future__ import annotations

import pytest

from campaigns.agents import preview
from campaigns.agents.service import go_ready
from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.leads.models import Lead
from dnc.errors import UserError
from tests.dialer.loop.conftest import KINDS, build_floor


@pytest.fixture
def pfloor(kind, request, clock):
    return build_floor(kind, request, clock, leads=5, pacing_mode="preview")


def test_a_preview_call_is_its_agents_from_dial_to_answer(pfloor):
    f = pfloor
    f.ready(0, 0.0)
    f.ready(1, 1.0)  # agent 1 has waited longest: it would get a predictive answer, not this one
    call = f.loop.preview_dial(f.agents[1], 1, f.at(5.0))  # the lead it is offered
    (ref,) = [r for r, _ in f.carrier.placed]
    assert f.store.agent(f.agents[1]).state == "talking" and f.call(ref).lead_id == 1 and call.id == f.call(ref).id
    f.event("answered", ref, 12.0, answered_by="human")
    assert f.carrier.did("connect") == [(ref, f.agents[1])]
    f.loop.tick(f.at(20.0))
    assert not f.carrier.did("abandon")
    f.event("ended", ref, 80.0, outcome="completed")
    assert f.store.agent(f.agents[1]).state == "wrap"
    assert f.lead(1)[:2] == ("dialing", 1)  # waits for the disposition
    f.loop.disposition(call.id, "SALE", f.at(90.0))
    assert f.lead(1)[0] == "closed"


def test_an_unanswered_preview_call_frees_its_agent(pfloor):
    f = pfloor
    f.ready(0, 0.0)
    f.loop.preview_dial(f.agents[0], 1, f.at(1.0))
    (ref,) = [r for r, _ in f.carrier.placed]
    f.event("ended", ref, 26.0, outcome="no_answer")
    agent = f.store.agent(f.agents[0])
    assert (agent.state, agent.call_id) == ("ready", None)
    assert f.lead(1)[:4] == ("retry", 1, f.at(26.0 + 4 * 3600), "no_answer")


def test_a_machine_on_a_preview_call_frees_its_agent(pfloor):
    f = pfloor
    f.ready(0, 0.0)
    f.loop.preview_dial(f.agents[0], 1, f.at(1.0))
    (ref,) = [r for r, _ in f.carrier.placed]
    f.event("answered", ref, 9.0, answered_by="machine")
    assert f.carrier.did("hangup") == [(ref, None)] and not f.carrier.did("connect")
    assert f.store.agent(f.agents[0]).state == "ready"


def test_preview_campaigns_never_dial_by_themselves(pfloor):
    f = pfloor
    f.ready(0, 0.0)
    assert f.dial(5, 1.0) == []


@pytest.fixture(params=[k for k in KINDS if k != "memory"])
def sql_kind(request):
    """The console's preview services are SQL."""
    return request.param


def test_the_console_holds_a_lead_for_its_agent_until_dialed_or_skipped(request, clock, sql_kind):
    f = build_floor(sql_kind, request, clock, leads=5, pacing_mode="preview")
    now = f.at(10)
    with session_scope(f.sessions) as s:
        for a in f.agents:
            go_ready(s, a, f.at(1))
    with session_scope(f.sessions) as s:
        first = preview.preview_next(s, f.agents[0], now).id
        assert preview.preview_next(s, f.agents[0], now).id == first  # the same lead until decided
        second = preview.preview_next(s, f.agents[1], now).id
        assert (first, second) == (1, 2)
        claimed = dispatch.claim(s, s.get(Campaign, f.campaign_id), 5, now)
        assert sorted(c.lead_id for c in claimed) == [3, 4, 5]  # held leads are nobody else's
    with session_scope(f.sessions) as s:
        with pytest.raises(UserError, match="not held for agent agent2"):
            preview.preview_skip(s, f.agents[1], first, now)
        preview.preview_skip(s, f.agents[0], first, now)
        assert s.get(Lead, first).reserved_agent_id is None
        assert preview.preview_next(s, f.agents[0], now).id == first  # skipped, still first in line
    with session_scope(f.sessions) as s:
        with pytest.raises(UserError, match="not the lead previewed for you"):
            preview.preview_dial(s, f.agents[0], second, now, gate=None)
        got = preview.preview_dial(s, f.agents[0], first, now, gate=None)
        assert got.call.agent_id == f.agents[0] and got.call.status == "queued" and not got.refused
        with pytest.raises(UserError, match="agent agent1 is talking"):
            preview.preview_next(s, f.agents[0], now)
    f.loop.tick(f.at(11))
    assert [f.call(r).lead_id for r, _ in f.carrier.placed] == [first]  # the worker placed it


def test_the_gate_still_decides_on_a_preview_dial(request, clock, sql_kind):
    f = build_floor(sql_kind, request, clock, leads=2, pacing_mode="preview")
    opens = f.at(3600)

    class Reason:
        code, text, temporary = "outside_window", "closed", True

    class Refused:
        allowed, reasons, opens_at = False, (Reason(),), opens

    with session_scope(f.sessions) as s:
        go_ready(s, f.agents[0], f.at(1))
        assert preview.preview_next(s, f.agents[0], f.at(2)).id == 1
        got = preview.preview_dial(s, f.agents[0], 1, f.at(2), gate=lambda *a: Refused())
        assert got.call is None and got.refused == ("outside_window",)
    with session_scope(f.sessions) as s:
        lead = s.get(Lead, 1)
        assert (lead.status, lead.attempts, lead.next_attempt_at) == ("new", 0, opens)


def test_preview_is_for_preview_campaigns(request, clock, sql_kind):
    f = build_floor(sql_kind, request, clock, leads=2, pacing_mode="predictive")
    with session_scope(f.sessions) as s:
        go_ready(s, f.agents[0], f.at(1))
        with pytest.raises(UserError, match="dials by itself \\(predictive\\)"):
            preview.preview_next(s, f.agents[0], f.at(2))


def test_an_agent_dials_only_the_lead_offered_to_them(request, clock, sql_kind):
    """Finding 7 of issue 15: the lead id comes from the browser. A lead called two minutes ago (due later), another
    agent's personal callback, or simply a lead never offered to this agent is refused; nothing is written."""
    from datetime import timedelta

    f = build_floor(sql_kind, request, clock, leads=4, pacing_mode="preview")
    now = f.at(10)
    with session_scope(f.sessions) as s:
        for a in f.agents:
            go_ready(s, a, f.at(1))
        recent = s.get(Lead, 2)
        recent.status, recent.attempts, recent.next_attempt_at = "retry", 1, now + timedelta(hours=4)
        personal = s.get(Lead, 3)
        personal.status, personal.callback_agent_id = "callback", f.agents[1]
        personal.callback_at = personal.next_attempt_at = now - timedelta(minutes=1)
    with session_scope(f.sessions) as s:
        offered = preview.preview_next(s, f.agents[0], now).id
        assert offered == 1
        for lead_id in (2, 3, 4):  # called recently, another agent's callback, never offered to this agent
            with pytest.raises(UserError, match=f"lead {lead_id} cannot be dialed now"):
                preview.preview_dial(s, f.agents[0], lead_id, now, gate=None)
    with session_scope(f.sessions) as s:
        assert [(x.id, x.status, x.attempts) for x in s.query(Lead).order_by(Lead.id)] == \
            [(1, "new", 0), (2, "retry", 1), (3, "callback", 0), (4, "new", 0)]
        assert preview.preview_dial(s, f.agents[0], offered, now, gate=None).call.lead_id == 1
