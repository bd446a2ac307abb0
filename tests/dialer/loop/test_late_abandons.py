"""Late news of an answer (issue 14, finding 4): a live answer not joined to an agent within 2 s of the carrier's
answer time is abandoned whenever the news arrives; an ended call is never connected; a call the loop "connected"
but the carrier never joined (the worker died in between) counts as abandoned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.twilio.pump import CallbackPump
from dialer.carriers.twilio.runtime import TwilioStore
from dialer.loop import DialLoop

SID = "CA" + "e" * 32


class Place:
    def __init__(self) -> None:
        self.n = 0
        self.seen = []

    def observe(self, ev) -> None:
        self.seen.append(ev)

    def plan(self, t: float) -> int:
        n, self.n = self.n, 0
        return n


class Network:
    """Twilio's side as far as the loop drives it: what it was asked to do is kept."""

    name = "twilio"

    def __init__(self) -> None:
        self.actions = []

    def place(self, request) -> str:
        return SID

    def connect(self, ref, agent_id) -> None:
        self.actions.append(("connect", ref))

    def abandon(self, ref) -> None:
        self.actions.append(("abandon", ref))

    def hangup(self, ref) -> None:
        self.actions.append(("hangup", ref))


@pytest.fixture
def world(sessions, session, clock):
    now = clock.now()
    c = create_campaign(session, "Spring", "+12125550100", now)
    c.status, c.pacing_mode = "active", "power"
    lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=now)
    session.add(lst)
    session.flush()
    session.add(Lead(campaign_id=c.id, list_id=lst.id, phone="+12125550142", custom={}, created_at=now,
                     updated_at=now))
    a = agent_svc.create_agent(session, "ann", now, campaign=c)
    agent_lines.leg_started(session, a.id, "CA" + "1" * 32, now)
    agent_lines.leg_joined(session, a.id, "CA" + "1" * 32, now)
    agent_svc.go_ready(session, a.id, now)
    session.commit()
    pacer, net = Place(), Network()
    loop = DialLoop(TwilioStore(sessions, provider="twilio"), net, pacer_factory=lambda c: pacer, grace_s=1.5)
    pacer.n = 1
    loop.tick(now)
    return loop, net, pacer, a.id


def store(sessions, kind, status, at, received, **payload):
    key = f"status:{status}"
    with session_scope(sessions) as s:
        inbox.record(s, inbox.Callback(provider="twilio", call_sid=SID, event_key=key, kind=kind, carrier_at=at,
                                       status=status, outcome="completed" if kind == "ended" else None,
                                       payload={"CallSid": SID, "CallStatus": status, **payload}), received)


def deliver(loop, sessions, now) -> None:
    """What the worker's carrier thread does: the loop's clock to now, then the stored callbacks."""
    loop.advance(now)
    CallbackPump(sessions, loop.handle).run_once(now)


def state(sessions, agent_id):
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.provider_sid == SID))
        return call, s.get(Agent, agent_id).state


def test_a_fresh_answer_goes_to_the_ready_agent(world, sessions, clock):
    loop, net, _, agent_id = world
    clock.advance(3)
    store(sessions, "answered", "in-progress", clock.now(), clock.now())
    deliver(loop, sessions, clock.now() + timedelta(seconds=0.2))
    call, agent = state(sessions, agent_id)
    assert call.connected_at is not None and call.status == "connected" and agent == "talking"
    assert net.actions == [("connect", SID)]


def test_answer_and_end_arriving_together_after_a_stall_are_an_abandon(world, sessions, clock):
    loop, net, pacer, agent_id = world
    clock.advance(3)
    answered = clock.now()
    clock.advance(30)  # the worker was stalled: the person heard 30 s of silence and hung up
    store(sessions, "answered", "in-progress", answered, clock.now())
    store(sessions, "ended", "completed", clock.now(), clock.now(), CallDuration="30")
    deliver(loop, sessions, clock.now())
    call, agent = state(sessions, agent_id)
    assert call.ended_at is not None and call.outcome == "abandoned"
    assert call.connected_at is None and call.agent_id is None and agent == "ready"  # never connected
    assert ("connect", SID) not in net.actions
    assert loop.stats.abandoned == 1
    assert [e.outcome for e in pacer.seen if type(e).__name__ == "CallEnded"] == ["abandoned"]


def test_a_short_call_ended_before_the_limit_is_a_live_answer_not_an_abandon(world, sessions, clock):
    loop, net, _, agent_id = world
    clock.advance(3)
    answered = clock.now()
    store(sessions, "answered", "in-progress", answered, answered + timedelta(seconds=0.1))
    store(sessions, "ended", "completed", answered + timedelta(seconds=1), answered + timedelta(seconds=1),
          CallDuration="1")
    deliver(loop, sessions, answered + timedelta(seconds=1.1))
    call, agent = state(sessions, agent_id)
    assert call.outcome == "completed" and call.connected_at is None and agent == "ready"
    assert ("connect", SID) not in net.actions  # ended: never connected, even with the agent free


def test_a_late_answer_alone_is_abandoned_with_the_safe_harbor_message(world, sessions, clock):
    loop, net, _, agent_id = world
    clock.advance(3)
    answered = clock.now()
    clock.advance(5)
    store(sessions, "answered", "in-progress", answered, clock.now())
    deliver(loop, sessions, clock.now())
    call, agent = state(sessions, agent_id)
    assert call.outcome == "abandoned" and call.connected_at is None and agent == "ready"
    assert net.actions == [("abandon", SID)]
    clock.advance(10)
    store(sessions, "ended", "completed", clock.now(), clock.now(), CallDuration="15")
    deliver(loop, sessions, clock.now())
    call, _ = state(sessions, agent_id)
    assert call.ended_at is not None and call.outcome == "abandoned" and loop.stats.abandoned == 1


def test_connected_but_never_joined_by_the_carrier_ends_as_an_abandon(world, sessions, clock):
    """The loop chose the agent, then its worker died before Twilio joined the two: the end (after a restart)
    counts the call as abandoned and the agent, who never heard anyone, is ready again rather than in wrap."""
    loop, net, _, agent_id = world
    clock.advance(3)
    answered = clock.now()
    store(sessions, "answered", "in-progress", answered, answered)
    with session_scope(sessions) as s:  # what the dead worker wrote: the agent reserved, nothing sent to Twilio
        call = s.scalar(select(Call).where(Call.provider_sid == SID))
        call.answered_at, call.answered_by, call.status = answered, "unknown", "answered"
        assert agent_svc.connect(s, call.id, agent_id, answered)
        s.execute(inbox.CarrierCallback.__table__.update().values(processed_at=answered, result="handled"))
    call, agent = state(sessions, agent_id)
    assert call.status == "bridging" and agent == "talking"
    clock.advance(40)
    fresh = DialLoop(TwilioStore(sessions, provider="twilio"), net, pacer_factory=lambda c: Place(), grace_s=1.5)
    store(sessions, "ended", "completed", clock.now(), clock.now(), CallDuration="40")
    deliver(fresh, sessions, clock.now())
    call, agent = state(sessions, agent_id)
    assert call.outcome == "abandoned" and call.connected_at is None and call.agent_id is None
    assert agent == "ready"
