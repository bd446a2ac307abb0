"""The webhooks app faces the internet and is served under the console's own host (``/twilio/`` behind the same
proxy): whatever it answers (TwiML, an empty 204, a refusal, a 404) is nothing a browser may sniff into a page,
frame, run or keep in a cache."""

from __future__ import annotations

import urllib.error
import urllib.request

from twilio.request_validator import RequestValidator

from tests.dialer.carriers.twilio.support import AUTH_TOKEN, env, serve

PUBLIC = "https://dialer.example.com"


def _fetch(url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.headers


def test_every_webhooks_answer_carries_the_headers_that_keep_it_out_of_a_page(db_url, setenv):
    from web.wsgi import webhook_app

    setenv(DIALER_DATABASE_URL=db_url, **env(PUBLIC))
    signed = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/answer", {})
    with serve(webhook_app(db_url)) as base:
        answers = {
            "twiml": _fetch(base + "/twilio/answer", b"", {"X-Twilio-Signature": signed}),
            "forged": _fetch(base + "/twilio/status", b"CallSid=CA1", {"X-Twilio-Signature": "x"}),
            "missing": _fetch(base + "/nothing-here"),
            "health": _fetch(base + "/healthz"),
        }
    assert answers["twiml"][0] == 200 and answers["forged"][0] == 403 and answers["missing"][0] == 404
    for name, (_status, headers) in answers.items():
        assert headers.get("X-Content-Type-Options") == "nosniff", name
        csp = headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, (name, csp)
        assert headers.get("Cache-Control") == "no-store", name
        assert headers.get("Referrer-Policy") == "no-referrer", name
