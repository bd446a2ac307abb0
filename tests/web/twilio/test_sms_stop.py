"""A texted STOP is a do-not-call request and a revocation of consent (F14; docs/compliance.md §2.8): Twilio posts
each inbound text to ``/twilio/sms`` (docs/twilio.md), which records it once per MessageSid, and for STOP, STOPALL,
UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE or OPT OUT (the words of ``revocation_words`` in rules.toml, in any case
and spacing) puts the sender's number on the company's internal DNC list with its ledger record, revokes its
consent, closes its waiting leads, and answers empty TwiML (Twilio sends the one confirmation). Served over real
HTTP, signed with the twilio library's own RequestValidator."""

from __future__ import annotations

import json
from datetime import timedelta
from importlib import resources
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from campaigns.compliance.dnc_requests import record_request
from campaigns.leads.models import Lead
from dialer.carriers.twilio.config import load
from dnc import consent
from dnc.gate import evaluate
from dnc.tables import Consent, InternalEntry, LedgerRecord
from tests.dialer.carriers.twilio.support import AUTH_TOKEN, CALLER_ID, env, make_app, seed_call, serve

PUBLIC = "https://dialer.example.com"
SENDER = "+12125554111"  # outside 555-0100..0199, which the gate refuses as fictional


@pytest.fixture
def base(sessions, clock):
    with serve(make_app(sessions, clock, load(env(PUBLIC)), record_request)) as url:
        yield url


def text_in(base: str, body: str, sid: str = "SM" + "1" * 32, sender: str = SENDER, signature: str | None = "sign"
            ) -> tuple[int, str]:
    form = {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": CALLER_ID,
            "Body": body, "NumMedia": "0"}
    if signature == "sign":
        signature = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + "/twilio/sms", form)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    try:
        with urlopen(Request(base + "/twilio/sms", data=urlencode(form).encode(), headers=headers), timeout=10) as r:
            return r.status, r.read().decode()
    except HTTPError as e:
        return e.code, ""


def entries(sessions) -> list[InternalEntry]:
    with sessions() as s:
        return list(s.scalars(select(InternalEntry).order_by(InternalEntry.id)))


def ledger(sessions, kind: str) -> list[dict]:
    with sessions() as s:
        return [json.loads(r.body) for r in s.scalars(select(LedgerRecord).where(LedgerRecord.kind == kind)
                                                      .order_by(LedgerRecord.seq))]


def empty_twiml(body: str) -> bool:
    return body.replace(" ", "").endswith("<Response/>")


@pytest.mark.parametrize("body", ["STOP", "stop", "  Stop \n", "Stop.", "STOPALL", "unsubscribe", "Cancel", "END",
                                  "quit", "revoke", "Opt out", "OPT-OUT", "please stop calling me"])
def test_a_texted_stop_puts_the_number_on_the_internal_dnc_list(base, sessions, clock, body):
    with sessions() as s:
        call = seed_call(s, clock.now() - timedelta(hours=1), sid="CA" + "a" * 32, phone=SENDER)
        s.get(Lead, call.lead_id).status = "retry"
        consent.add(s, SENDER, kind="pewc", granted_at=clock.now() - timedelta(days=3), evidence_ref="form",
                    added_by="t", recorded_at=clock.now() - timedelta(days=3))
        s.commit()
    status, reply = text_in(base, body)
    assert status == 200 and empty_twiml(reply), (status, reply)
    (entry,) = entries(sessions)
    assert (entry.e164, entry.scope, entry.channel, entry.source_ref) == (SENDER, "company", "sms",
                                                                          "twilio-sms:SM" + "1" * 32)
    assert entry.effective_at == clock.now() and body.strip()[:40] in entry.reason
    (added,) = ledger(sessions, "internal_add")
    assert added["entry_id"] == entry.id and added["channel"] == "sms"
    (texted,) = ledger(sessions, "sms_inbound")
    assert texted["action"] == "revocation" and texted["entry_id"] == entry.id and texted["e164"] == SENDER
    with sessions() as s:
        assert s.scalar(select(Lead.status).where(Lead.phone == SENDER)) == "dnc"
        assert s.scalar(select(Consent.revoked_at)) == clock.now()
        d = evaluate(s, SENDER, campaign=None, at=clock.now() + timedelta(seconds=1))
        assert "internal_dnc" in d.codes


def test_a_retried_message_is_recorded_once(base, sessions):
    for _ in range(3):
        status, reply = text_in(base, "STOP")
        assert status == 200 and empty_twiml(reply)
    assert len(entries(sessions)) == 1
    assert len(ledger(sessions, "internal_add")) == 1 and len(ledger(sessions, "sms_inbound")) == 1
    text_in(base, "STOP", sid="SM" + "2" * 32)  # another message: its own record, the number already listed
    assert len(ledger(sessions, "sms_inbound")) == 2


@pytest.mark.parametrize("body", ["What is this about?", "stopwatch", "Call me tomorrow", "", "START"])
def test_other_texts_are_kept_and_change_nothing(base, sessions, body):
    status, reply = text_in(base, body)
    assert status == 200 and empty_twiml(reply)
    assert entries(sessions) == []
    (texted,) = ledger(sessions, "sms_inbound")
    assert texted["action"] == "none" and texted["body"] == body and texted["entry_id"] is None


def test_a_sender_that_is_not_a_north_american_number_is_kept_without_a_listing(base, sessions):
    status, _ = text_in(base, "STOP", sender="+442071234567")
    assert status == 200 and entries(sessions) == []
    (texted,) = ledger(sessions, "sms_inbound")
    assert texted["action"] == "unreadable_sender" and texted["from"] == "+442071234567"


@pytest.mark.parametrize("signature", [None, "", RequestValidator("wrong").compute_signature(PUBLIC + "/twilio/sms",
                                                                                           {})])
def test_unsigned_or_forged_texts_are_refused_and_change_nothing(base, sessions, signature):
    status, _ = text_in(base, "STOP", signature=signature)
    assert status == 403
    assert entries(sessions) == [] and ledger(sessions, "sms_inbound") == []


def test_the_words_are_data(base, sessions, setenv, tmp_path):
    """Counsel adds a word to ``revocation_words`` in a reviewed rules file; no code changes."""
    text = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
    assert "revocation_words" in text
    rules = tmp_path / "rules.toml"
    rules.write_text(text.replace('revocation_words = [', 'revocation_words = ["arrete", ', 1), encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(rules))
    assert text_in(base, "ARRETE")[0] == 200
    assert [e.e164 for e in entries(sessions)] == [SENDER]
