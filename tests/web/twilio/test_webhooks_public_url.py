"""Behind a proxy, a webhook's signature is checked against ``DIALER_PUBLIC_BASE_URL`` alone: a wrong address fails
closed (403, nothing stored) even when the proxy's trusted ``X-Forwarded-*`` headers name the host Twilio really
called, and the right address lets the same request in. Real HTTP against the webhooks app."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from campaigns.inbox.models import CarrierCallback
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, AUTH_TOKEN, env, serve

CALLED = "https://dialer.example.com"  # where Twilio sent the callback (and what it signed)
FORM = {"CallSid": "CA" + "cd" * 16, "AccountSid": ACCOUNT_SID, "CallStatus": "ringing", "SequenceNumber": "1"}


def _post(base: str) -> int:
    body = urllib.parse.urlencode(FORM).encode()
    req = urllib.request.Request(base + "/twilio/status", data=body, headers={
        "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(CALLED + "/twilio/status", FORM),
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "dialer.example.com", "X-Forwarded-For": "203.0.113.9"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize(("configured", "status", "stored"), [
    ("https://old-name.example.com", 403, 0),  # renamed host, setting not updated
    ("http://dialer.example.com", 403, 0),  # the scheme the app sees, not the one Twilio called
    ("https://dialer.example.com/dialer", 403, 0),  # a path prefix the proxy does not have
    (CALLED, 204, 1),
])
def test_only_the_configured_public_address_validates(db_url, setenv, sessions, configured, status, stored):
    from web.wsgi import webhook_app

    setenv(DIALER_DATABASE_URL=db_url, DIALER_PROXY_HOPS="1", DIALER_PROXY_ADDRESSES="127.0.0.1",
           **env(configured))
    with serve(webhook_app(db_url)) as base:
        assert _post(base) == status
    with sessions() as s:
        assert s.query(CarrierCallback).count() == stored
