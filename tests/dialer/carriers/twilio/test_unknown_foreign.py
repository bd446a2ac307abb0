"""A create whose answer was lost is settled by the token its status callback URL carries, not by the number and the
moment alone: a call someone else placed to the same number in the same second is never taken for ours (the call
log cannot tell them apart), and a call placed without a token (before an upgrade) is still adopted from the log.

Through the real worker, adapter and twilio library against the fake server (``test_unknown_create``'s setup)."""

from __future__ import annotations

import threading

from dialer.carriers.twilio import adapter
from dialer.carriers.twilio.fake import CallScript
from tests.dialer.carriers.twilio.support import CALLER_ID, wait_for
from tests.dialer.carriers.twilio.test_e2e import world  # noqa: F401 - the fixture
from tests.dialer.carriers.twilio.test_unknown_create import creates_to, impatient  # noqa: F401 - the fixture

PERSON = CallScript(answer="human", ring_s=1.5, amd_s=0.3, talk_s=1.0)


def _foreign_call_beside_ours(world, phone: str) -> dict:  # noqa: F811
    """As soon as our create reaches Twilio, another system on the account calls the same number from the same
    caller ID (its callbacks go elsewhere); Twilio logs both in the same whole second, the other one newest."""
    out: dict = {}

    def place() -> None:
        ours = wait_for(lambda: creates_to(world, phone), timeout=20, what="our create at Twilio")[0]
        world.fake.drop_create_answers([])  # their create is answered
        client = adapter.build_client(world.config)
        sid = client.calls.create(to=phone, from_=CALLER_ID, twiml="<Response><Pause length=\"20\"/></Response>").sid
        theirs = world.fake.calls[sid]
        theirs.created_rfc, theirs.created_utc = ours.created_rfc, ours.created_utc  # the same second
        out["ours"], out["theirs"] = ours, theirs

    t = threading.Thread(target=place, daemon=True)
    t.start()
    out["thread"] = t
    return out


def test_a_call_someone_else_placed_to_the_number_in_the_same_second_is_not_taken_for_ours(world, impatient):  # noqa: F811
    phone = "+12125554711"
    world.fake.drop_create_answers([phone])  # Twilio makes our call; its answer to the create is lost
    cid = world.campaign({phone: PERSON}, mode="progressive")
    agent = world.agent(cid, "fay", "+12125554777")
    placed = _foreign_call_beside_ours(world, phone)
    world.start(cid)
    placed["thread"].join(25)
    ours, theirs = placed["ours"], placed["theirs"]
    call = wait_for(lambda: (c := world.call_to(phone)) is not None and c.provider_sid is not None and c,
                    timeout=15, what="our call adopted")
    assert call.provider_sid == ours.sid, "adopted the other system's call to the same number"
    done = wait_for(lambda: world.ended(phone), timeout=20, what="our call over")
    assert done.provider_sid == ours.sid and done.agent_id == agent and done.connected_at is not None
    assert f"agent-{agent}" in ours.rooms_joined
    assert theirs.rooms_joined == [] and len(theirs.twiml_log) <= 1  # nobody touched the other system's call
    assert "attempt=" in ours.params["StatusCallback"] and len(creates_to(world, phone)) == 2


def test_callbacks_with_the_attempts_token_pass_the_signature_check(world):  # noqa: F811
    phone = "+12125554712"
    cid = world.campaign({phone: PERSON}, mode="progressive")
    world.agent(cid, "gus", "+12125554778")
    world.start(cid)
    wait_for(lambda: world.ended(phone), timeout=20, what="the call over")
    leg = world.fake_call(phone)
    sent = [d for d in world.fake.hooks.deliveries if d.params.get("CallSid") == leg.sid and "/twilio/status" in d.url]
    assert sent and all("attempt=" in d.url and d.status == 204 for d in sent), [(d.url, d.status) for d in sent]


def test_a_call_placed_without_a_token_before_an_upgrade_is_still_adopted_from_the_call_log():
    from datetime import UTC, datetime, timedelta

    from dialer.carriers.twilio.adapter import CallSnapshot
    from dialer.carriers.twilio.unknown import own_call

    sent = datetime(2030, 1, 8, 15, 0, 7, 900000, tzinfo=UTC)
    created = datetime(2030, 1, 8, 15, 0, 7, tzinfo=UTC) + timedelta(seconds=1)
    ours = CallSnapshot("CAours", "ringing", None, None, created, "+12125550100")
    assert own_call([ours], sent, "+12125550100", set()) == ours
