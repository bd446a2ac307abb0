"""Settling creates whose answer never came, beyond the first lookup: an agent's phone rung without an answer is
rung once and its leg adopted; a call Twilio's call log shows late is adopted, not released to be dialed again; the
pacer hears the adopted call as placed.

Through the real worker, adapter and twilio library against the fake server (``test_unknown_create``'s setup)."""

from __future__ import annotations

import time

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.db import session_scope
from dialer.loop.pacers import campaign_pacer
from dialer.pacing import CallPlaced
from tests.dialer.carriers.twilio.support import wait_for
from tests.dialer.carriers.twilio.test_e2e import world  # noqa: F401 - the fixture
from tests.dialer.carriers.twilio.test_placement import Recording
from tests.dialer.carriers.twilio.test_unknown_create import (  # noqa: F401 - the fixture
    PERSON,
    READ_TIMEOUT_S,
    creates_to,
    impatient,
)


def _line(world, agent_id: int):  # noqa: F811
    with session_scope(world.sessions) as s:
        return agent_lines.get(s, agent_id)


def test_an_agents_phone_rung_without_an_answer_from_twilio_is_rung_once_and_its_leg_adopted(world, impatient):  # noqa: F811
    phone = "+12125554681"
    world.fake.hold_creates([phone])  # Twilio rings the agent's phone; its answer to the create never comes in time
    cid = world.campaign({"+12125554631": PERSON}, mode="progressive")
    agent = world.agent(cid, "cat", phone)
    try:
        world.start(cid)
        wait_for(lambda: world.fake.holding >= 1, timeout=20, what="the agent's ring at Twilio")
        time.sleep(READ_TIMEOUT_S + 1.0)  # the worker gave up waiting for the create's answer
        with session_scope(world.sessions) as s:
            agent_svc.go_ready(s, agent, world.clock.now())  # the agent, hearing nothing yet, asks again
        time.sleep(2.0)  # several dialing turns
        (made,) = creates_to(world, phone)  # rung once: the first ring may be ringing
        wait_for(lambda: _line(world, agent).call_sid == made.sid, timeout=15,
                 what="the agent's leg adopted from Twilio's call log")
        assert len(creates_to(world, phone)) == 1
    finally:
        world.fake.release_creates()  # the phone rings on, the agent answers into their conference
    wait_for(lambda: _line(world, agent).status == "up", timeout=15, what="the line up")
    assert _line(world, agent).call_sid == made.sid and world.agent_row(agent).state == "ready"
    assert len(creates_to(world, phone)) == 1


def test_a_call_twilios_call_log_shows_late_is_adopted_not_released(world, impatient):  # noqa: F811
    phone = "+12125554621"
    world.fake.lag_call_log(6.0)  # the call log shows a call 6 s after its create arrived
    world.fake.hold_creates([phone])
    cid = world.campaign({phone: PERSON}, mode="progressive")
    world.agent(cid, "dan", "+12125554679")
    try:
        world.start(cid)
        wait_for(lambda: world.fake.holding >= 1, timeout=20, what="the create at Twilio")
        wait_for(lambda: (c := world.call_to(phone)) is not None and c.status == "unknown", timeout=5,
                 what="the claim kept while the outcome is unknown")
        end = time.monotonic() + 20
        while (call := world.call_to(phone)) is not None and call.provider_sid is None and time.monotonic() < end:
            time.sleep(0.05)  # the first lookups find nothing: the claim is kept, the lead not released
        assert call is not None, "released on a lookup the call log had not caught up with"
        (made,) = creates_to(world, phone)
        assert call.provider_sid == made.sid
        lead = world.lead(phone)
        assert (lead.status, lead.attempts) == ("dialing", 1)
    finally:
        world.fake.release_creates()
    done = wait_for(lambda: world.ended(phone), timeout=20, what="the call over")
    assert done.provider_sid == made.sid and len(creates_to(world, phone)) == 1


def test_the_pacer_hears_an_adopted_call_as_placed(world, impatient):  # noqa: F811
    phone = "+12125554641"
    world.fake.hold_creates([phone])
    cid = world.campaign({phone: PERSON}, mode="progressive")
    world.agent(cid, "eve", "+12125554691")
    seen: list[CallPlaced] = []
    try:
        world.start(cid, pacer_factory=lambda c: Recording(campaign_pacer(c), seen))
        call = wait_for(lambda: (c := world.call_to(phone)) is not None and c.provider_sid is not None and c,
                        timeout=20, what="the call adopted from Twilio's call log")
        wait_for(lambda: any(e.call_id == str(call.id) for e in seen), timeout=5,
                 what="CallPlaced for the adopted call")
        assert [e.t for e in seen if e.call_id == str(call.id)] == [call.placed_at.timestamp()]  # once, when sent
    finally:
        world.fake.release_creates()


def test_the_call_a_create_made_is_the_unowned_one_twilio_created_when_it_was_sent():
    from datetime import UTC, datetime, timedelta

    from dialer.carriers.twilio.adapter import CallSnapshot
    from dialer.carriers.twilio.unknown import own_call

    sent = datetime(2030, 1, 8, 15, 0, 7, 900000, tzinfo=UTC)

    def call(sid: str, created_s: int, from_: str = "+12125550100") -> CallSnapshot:
        return CallSnapshot(sid, "ringing", None, None, datetime(2030, 1, 8, 15, 0, 7, tzinfo=UTC)
                            + timedelta(seconds=created_s), from_)

    ours, before, after, owned = call("CAours", 1), call("CAbefore", -2), call("CAafter", 6), call("CAowned", 0)
    assert own_call([after, ours, owned, before], sent, "+12125550100", {"CAowned"}) == ours
    assert own_call([after, before], sent, "+12125550100", set()) is None  # nothing created at the send
    other_id = call("CAother", 0, "+12125550999")
    assert own_call([other_id, ours], sent, "+12125550100", set()) == ours  # our caller ID first
    assert own_call([other_id], sent, "+12125550100", set()) == other_id  # but not required
