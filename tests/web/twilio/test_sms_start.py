"""A texted START over the real webhook (docs/compliance.md §2.8): after a texted STOP, START from the same number
lifts the internal DNC request that STOP made (with its ledger record) and the gate calls the number again; the
answer stays empty TwiML (Twilio confirms opt-ins itself)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.compliance.dnc_requests import record_request
from dialer.carriers.twilio.config import load
from dnc.gate import evaluate
from tests.dialer.carriers.twilio.support import make_app, serve
from tests.web.twilio.test_sms_stop import PUBLIC, SENDER, empty_twiml, entries, env, ledger, text_in


@pytest.fixture
def base(sessions, clock):
    with serve(make_app(sessions, clock, load(env(PUBLIC)), record_request)) as url:
        yield url


def test_start_after_stop_lifts_the_texted_request(base, sessions, clock):
    assert text_in(base, "STOP", sid="SM" + "1" * 32)[0] == 200
    clock.advance(600)
    status, reply = text_in(base, "Start", sid="SM" + "2" * 32)
    assert status == 200 and empty_twiml(reply)
    (entry,) = entries(sessions)
    assert entry.removed_at == clock.now() and entry.removed_by == "caller"
    (removed,) = ledger(sessions, "internal_remove")
    assert removed["entry_id"] == entry.id and "SM" + "2" * 32 in removed["reason"]
    assert [t["action"] for t in ledger(sessions, "sms_inbound")] == ["revocation", "readmission"]
    with sessions() as s:
        assert "internal_dnc" not in evaluate(s, SENDER, campaign=None, at=clock.now() + timedelta(seconds=1)).codes
