"""A create whose answer never came (a read timeout after the request was written, a connection dropped by Twilio)
may have made the call: the claim is kept without a reference, the lead is not dialed again meanwhile, and Twilio's
call log settles it within seconds: the call is adopted (its callbacks then apply) or, when Twilio confirms there is
none, the attempt is recorded as not placed and the lead released. A refusal Twilio answered stays "not placed".

Through the real worker, adapter and twilio library against the fake server."""

from __future__ import annotations

import random

import pytest

from dialer.carriers.telephony import DialRequest, PlaceFailed
from dialer.carriers.twilio import adapter
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from tests.dialer.carriers.twilio.support import env, wait_for
from tests.dialer.carriers.twilio.test_e2e import world  # noqa: F401 - the fixture

READ_TIMEOUT_S = 1.0  # the client gives up on a create's answer after this (10 s in production)
PERSON = CallScript(answer="human", ring_s=1.0, amd_s=0.3, talk_s=1.0)


@pytest.fixture
def impatient(monkeypatch):
    """Every Twilio client of the worker waits ``READ_TIMEOUT_S`` for an answer."""
    def build_client(config):
        client = adapter.Client(config.rest_username, config.rest_password, config.account_sid,
                                environment=dict(adapter.ISOLATED_ENVIRONMENT),
                                http_client=adapter.PinnedHttpClient(config.api_base, timeout=READ_TIMEOUT_S))
        client.edge = client.region = None
        return client

    monkeypatch.setattr(adapter, "build_client", build_client)


def creates_to(world, phone: str) -> list:  # noqa: F811
    return [c for c in list(world.fake.calls.values()) if c.to == phone]


def test_a_create_twilio_took_but_never_answered_is_adopted_and_its_answer_reaches_the_agent(world, impatient):  # noqa: F811
    phone = "+12125554611"
    world.fake.hold_creates([phone])  # Twilio makes the call, its answer to the create never comes in time
    cid = world.campaign({phone: PERSON}, mode="progressive")
    agent = world.agent(cid, "ann", "+12125554677")
    try:
        world.start(cid)
        wait_for(lambda: world.fake.holding >= 1, timeout=20, what="the create at Twilio")
        call = wait_for(lambda: (c := world.call_to(phone)) is not None and c.provider_sid is not None and c,
                        timeout=15, what="the call adopted from Twilio's call log")
        (made,) = creates_to(world, phone)  # dialed once: never again while its outcome was unknown
        assert call.provider_sid == made.sid
        lead = world.lead(phone)
        assert (lead.status, lead.attempts) == ("dialing", 1)
    finally:
        world.fake.release_creates()  # the call goes on at Twilio: it rings, the person answers
    done = wait_for(lambda: world.ended(phone), timeout=20, what="the call over")
    assert done.agent_id == agent and done.connected_at is not None  # its answer reached the agent
    assert (done.connected_at - done.answered_at).total_seconds() < 2.0
    assert f"agent-{agent}" in made.rooms_joined
    assert len(creates_to(world, phone)) == 1 and world.lead(phone).attempts == 1


def test_a_create_twilio_lost_is_released_once_the_call_log_confirms_no_call(world, impatient):  # noqa: F811
    phone = "+12125554612"
    world.fake.lose_creates([phone])  # the request arrives and is dropped: no call, no answer
    cid = world.campaign({phone: PERSON}, mode="progressive")
    world.agent(cid, "bob", "+12125554678")
    world.start(cid)
    wait_for(lambda: world.fake.creates_lost == 1, timeout=20, what="the create lost at Twilio")
    held = wait_for(lambda: (c := world.call_to(phone)) is not None and c.status == "unknown" and c, timeout=5,
                    what="the claim kept while the outcome is unknown")
    assert held.provider_sid is None and world.lead(phone).status == "dialing"
    # two empty lookups of the call log, DIALER_TWILIO_UNKNOWN_CONFIRM_S (10 s) apart, from 3 s after the send
    wait_for(lambda: world.call_to(phone) is None, timeout=25, what="the attempt recorded as not placed")
    lead = world.lead(phone)
    assert (lead.status, lead.attempts) == ("new", 0)  # the attempt does not count: no call was made
    assert (lead.next_attempt_at - world.clock.now()).total_seconds() > 10  # due again shortly, not at once
    assert world.fake.creates_lost == 1 and not creates_to(world, phone)


def test_only_a_create_that_may_have_reached_twilio_has_an_unknown_outcome(world):  # noqa: F811
    from dialer.carriers.telephony import PlaceOutcomeUnknown

    def tel(api_base: str) -> adapter.TwilioTelephony:
        config = load(env("https://127.0.0.1:9", api_base))
        client = adapter.Client(config.rest_username, config.rest_password, config.account_sid,
                                environment=dict(adapter.ISOLATED_ENVIRONMENT),
                                http_client=adapter.PinnedHttpClient(config.api_base, timeout=READ_TIMEOUT_S))
        return adapter.TwilioTelephony(config, client=client, sleep=lambda s: None, rng=random.Random(1))

    def request(to: str) -> DialRequest:
        return DialRequest(call_id=7, to=to, caller_id="+12125550100", campaign_id=1)

    world.fake.hold_creates(["+12125554613"])
    try:
        with pytest.raises(PlaceOutcomeUnknown) as timed_out:
            tel(world.fake.api_base).place(request("+12125554613"))
    finally:
        world.fake.release_creates()
    assert timed_out.value.sent_at is not None
    world.fake.lose_creates(["+12125554614"])
    with pytest.raises(PlaceOutcomeUnknown):
        tel(world.fake.api_base).place(request("+12125554614"))
    with pytest.raises(PlaceFailed) as refused:  # nothing listens there: the request never left this host
        tel("http://127.0.0.1:9").place(request("+12125554615"))
    assert not isinstance(refused.value, PlaceOutcomeUnknown)
