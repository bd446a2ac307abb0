"""Malformed webhooks: whatever a request carries, the answer is 4xx or the route's ordinary answer, never a 500
(Twilio retries a 5xx, and a 500 is a stack trace in the log for every retry). Unsigned ones never get past the
signature; these are signed, as a Twilio misbehaving or a leaked token would send them, on SQLite and PostgreSQL
(whose columns refuse what SQLite stores)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaigns.inbox import service as inbox
from dialer.carriers.twilio.config import load
from tests.dialer.carriers.twilio.support import env, make_app
from tests.web.twilio.test_webhooks import PUBLIC, SID, post

HUGE = "9" * 30  # over any integer column


@pytest.fixture
def client(sessions, clock):
    app = make_app(sessions, clock, load(env(PUBLIC)), lambda *a, **k: None)
    app.testing = False  # a crash answers 500, as served
    return app.test_client()


@pytest.mark.parametrize(("path", "form"), [
    ("/twilio/status", {"CallSid": SID, "CallStatus": "ringing", "SequenceNumber": HUGE}),
    ("/twilio/status", {"CallSid": SID, "CallStatus": "ringing", "SequenceNumber": "-5"}),
    (f"/twilio/agent/conference?agent={HUGE}", {"CallSid": SID, "StatusCallbackEvent": "participant-join"}),
    (f"/twilio/agent/status?agent={HUGE}", {"CallSid": SID, "CallStatus": "completed"}),
    ("/twilio/agent/join", {"CallSid": SID, "From": f"client:agent-{HUGE}"}),
])
def test_numbers_out_of_range_are_ignored_not_a_500(client, path, form):
    assert post(client, path, form).status_code in (200, 204)


@pytest.mark.parametrize(("path", "form"), [
    ("/twilio/status", {"CallSid": "CA" + "a" * 200, "CallStatus": "ringing"}),
    ("/twilio/amd", {"CallSid": SID, "AnsweredBy": "machine_" + "x" * 200}),
    ("/twilio/optout", {"CallSid": "CA" + "a" * 200, "Digits": "9"}),
    ("/twilio/agent/join", {"CallSid": "CA" + "a" * 200, "From": "client:agent-1"}),
])
def test_fields_longer_than_twilio_ever_sends_are_a_400_and_store_nothing(client, sessions, path, form):
    assert post(client, path, form).status_code == 400
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(inbox.CarrierCallback)) == 0


def test_a_flood_of_forged_requests_is_a_few_log_lines_not_one_each(client, caplog, monkeypatch):
    """The webhooks face the internet: anyone can send unsigned requests as fast as the link allows, and a warning
    per request would fill the disk. The first is logged; the rest are counted into one line a minute."""
    import web.twilio.signature as signature

    now = [500.0]
    monkeypatch.setattr(signature, "_monotonic", lambda: now[0], raising=False)
    with caplog.at_level("WARNING"):
        for _ in range(300):
            assert post(client, "/twilio/status", {"CallSid": SID}, signature="forged").status_code == 403
        now[0] += 61
        assert post(client, "/twilio/status", {"CallSid": SID}, signature="forged").status_code == 403
    lines = [r.getMessage() for r in caplog.records if "Twilio" in r.getMessage()]
    assert len(lines) <= 3, lines[:5]
    assert any("300" in line for line in lines), lines
