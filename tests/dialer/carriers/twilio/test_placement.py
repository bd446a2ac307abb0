"""Concurrent placement through the real worker, adapter and fake Twilio: a call's stored placed time (and the
pacer's ``CallPlaced``) is the moment its create was sent, and answers are routed while creates are still out."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from dialer.carriers.twilio.fake import CallScript
from dialer.loop.pacers import campaign_pacer
from dialer.pacing import CallPlaced
from tests.dialer.carriers.twilio.support import wait_for
from tests.dialer.carriers.twilio.test_e2e import world  # noqa: F401 - the fixture

RING = CallScript(answer="no-answer", ring_s=20)


class Recording:
    """The campaign's real pacer, remembering every ``CallPlaced`` it is told."""

    def __init__(self, inner, seen: list) -> None:
        self.inner, self.seen = inner, seen

    def observe(self, event) -> None:
        if isinstance(event, CallPlaced):
            self.seen.append(event)
        self.inner.observe(event)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_placed_time_is_the_moment_the_create_was_sent_not_the_turn(world):  # noqa: F811
    """Creates answer after 1 s: six calls claimed together go out a slot apart, each stamped when it was sent."""
    from dialer.carriers.twilio.fake.server import Conditions

    world.fake.conditions = Conditions(create_latency_ms=1000)
    leads = {f"+121255543{i:02d}": RING for i in range(6)}
    cid = world.campaign(leads, mode="progressive")
    for i in range(6):  # one call per ready agent: six claimed as soon as the lines are up
        world.agent(cid, f"agent-{i}", f"+121255543{90 + i:02d}")
    seen: list[CallPlaced] = []
    out = world.start(cid, pacer_factory=lambda c: Recording(campaign_pacer(c), seen))
    wait_for(lambda: len(seen) == 6, timeout=30, what="six calls placed")
    world.stop()
    with session_scope(world.sessions) as s:
        calls = s.scalars(select(Call).where(Call.campaign_id == cid).order_by(Call.placed_at)).all()
    placed = [c.placed_at for c in calls]
    # claimed together, sent at their own moments: six different stamps, never six within a second (TWILIO_CPS=5)
    assert len(set(placed)) == 6 and (placed[5] - placed[0]).total_seconds() >= 1.0
    offset = time.time() - time.monotonic()  # the fake's arrival times are monotonic, the clock is wall time
    for c in calls:
        arrived = world.clock.anchor + timedelta(seconds=world.fake.calls[c.provider_sid].created + offset
                                                 - world.clock.epoch)
        # sent, then arrived at once: not stamped at the turn that claimed it, nor when the answer came back
        assert -0.005 <= (arrived - c.placed_at).total_seconds() < 0.9
    assert sorted((e.call_id, e.t) for e in seen) == sorted((str(c.id), c.placed_at.timestamp()) for c in calls)
    assert out["placement"]["most_in_flight"] >= 2  # several creates were out at once


def test_an_answer_is_routed_while_creates_are_still_waiting_on_twilio(world):  # noqa: F811
    human = "+12125554301"
    slow = [f"+121255543{i:02d}" for i in range(10, 14)]
    leads = {human: CallScript(answer="human", ring_s=1.0, amd_s=0.3, talk_s=2.0)} | {n: RING for n in slow}
    world.fake.hold_creates(slow)  # Twilio keeps these creates for as long as the test says
    cid = world.campaign(leads, mode="progressive")
    agents = [world.agent(cid, f"agent-{i}", f"+121255543{80 + i:02d}") for i in range(5)]
    try:
        world.start(cid)
        wait_for(lambda: world.fake.holding >= 1, timeout=20, what="creates waiting on Twilio")
        call = wait_for(lambda: (c := world.call_to(human)) is not None and c.connected_at is not None and c,
                        timeout=20, what="the person put through to the agent")
        assert world.fake.holding >= 1  # placement was still waiting on Twilio when the answer was routed
        leg = world.fake_call(human)
        assert call.agent_id in agents
        wait_for(lambda: f"agent-{call.agent_id}" in leg.rooms_joined, what="the leg in the agent's conference")
        assert (call.connected_at - call.answered_at).total_seconds() < 2.0
    finally:
        world.fake.release_creates()
