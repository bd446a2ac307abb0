"""A texted START or UNSTOP (``opt_in_words`` in rules.toml) withdraws only what the sender's own texted STOP made
(docs/compliance.md §2.8): the internal DNC request a text from that number recorded is lifted, with the numbers it
listed as the same person, each with its ``internal_remove`` ledger record; a request made by phone, web, mail or
entered by the officer (even one marked "text message") stays, and so does an entry that lists the number because
of another number's text. A START with nothing to lift is recorded and changes nothing; consent a STOP revoked
stays revoked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import select

from campaigns.compliance import sms
from campaigns.compliance.dnc_requests import record_request
from dnc import consent
from dnc.gate import evaluate
from dnc.reports import history
from dnc.tables import Consent, InternalEntry, LedgerRecord
from tests.campaigns.compliance.test_linked_removal import P1, P2, P3, person

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
US = "+12125554100"


def text(session, body: str, sid: str, *, sender: str = P1, at: datetime = AT):
    msg, _ = sms.receive(session, provider="twilio", message_sid=sid, sender=sender, to=US, body=body, now=at)
    return msg


def listed(session, number: str, at: datetime = AT + timedelta(hours=2)) -> bool:
    return "internal_dnc" in evaluate(session, number, campaign=None, at=at).codes


def records(session, kind: str) -> list[tuple[str, dict]]:
    return [(r.e164, json.loads(r.body)) for r in session.scalars(select(LedgerRecord).where(
        LedgerRecord.kind == kind).order_by(LedgerRecord.seq))]


@pytest.mark.parametrize("body", ["START", "start", "  Start. ", "UNSTOP", "unstop"])
def test_a_start_lifts_the_request_the_senders_stop_made(session, body):
    consent.add(session, P1, kind="pewc", granted_at=AT - timedelta(days=3), evidence_ref="form", added_by="t",
                recorded_at=AT - timedelta(days=3))
    stop = text(session, "STOP", "SM1")
    assert listed(session, P1)
    start = text(session, body, "SM2", at=AT + timedelta(hours=1))
    assert (start.action, start.entry_id, start.word) == ("readmission", stop.entry_id, body.strip(" .").lower())
    assert not listed(session, P1)
    ((number, removed),) = records(session, "internal_remove")
    assert number == P1 and removed["entry_id"] == stop.entry_id and "SM2" in removed["reason"]
    assert body.strip() in removed["reason"]
    texted = records(session, "sms_inbound")[-1][1]
    assert (texted["action"], texted["lifted"]) == ("readmission", [stop.entry_id])
    assert session.scalar(select(Consent.revoked_at)) == AT  # the STOP's revocation of consent stands
    assert history(session, P1)[-1]["detail"] == \
        f"texted {body!r} to {US}: re-admitted (\"{start.word}\"), internal DNC entry #{stop.entry_id} lifted"


def test_a_start_lifts_the_numbers_the_stop_listed_as_the_same_person(session):
    person(session)
    stop = text(session, "stop", "SM1")
    assert all(listed(session, n) for n in (P1, P2, P3))
    text(session, "START", "SM2", at=AT + timedelta(hours=1))
    assert not any(listed(session, n) for n in (P1, P2, P3))
    linked = {n: b for n, b in records(session, "internal_remove") if n != P1}
    assert set(linked) == {P2, P3} and all(b["linked_to"] == stop.entry_id for b in linked.values())


def test_a_start_never_lifts_a_request_made_otherwise(session):
    """By phone, and one the officer entered by hand as received by text: neither was made by the sender's text."""
    record_request(session, P1, channel="phone", received_at=AT - timedelta(days=1), added_by="desk")
    record_request(session, P2, channel="sms", received_at=AT - timedelta(days=1), added_by="cara",
                   source_ref="console", reason="texted our office line")
    for n, sid in ((P1, "SM1"), (P2, "SM2")):
        msg = text(session, "START", sid, sender=n)
        assert (msg.action, msg.entry_id, msg.word) == ("none", None, "start")
        assert listed(session, n)
    assert records(session, "internal_remove") == []
    assert [b["action"] for _, b in records(session, "sms_inbound")] == ["none", "none"]
    assert "nothing lifted" in history(session, P1)[-1]["detail"]


def test_a_start_lifts_the_texted_request_and_leaves_the_one_by_phone(session):
    stop = text(session, "STOP", "SM1")
    by_phone = record_request(session, P1, channel="phone", received_at=AT + timedelta(minutes=5), added_by="desk")
    start = text(session, "start", "SM2", at=AT + timedelta(hours=1))
    assert start.action == "readmission"
    assert session.get(InternalEntry, stop.entry_id).removed_at == AT + timedelta(hours=1)
    assert session.get(InternalEntry, by_phone.id).removed_at is None and listed(session, P1)


def test_a_start_does_not_lift_an_entry_another_numbers_text_made(session):
    person(session)
    text(session, "STOP", "SM1", sender=P1)  # lists P2 as P1's same person
    msg = text(session, "START", "SM2", sender=P2, at=AT + timedelta(hours=1))
    assert msg.action == "none" and listed(session, P2) and listed(session, P1)


def test_a_start_with_nothing_to_lift_is_recorded_and_changes_nothing(session):
    msg = text(session, "START", "SM1")
    assert (msg.action, msg.entry_id) == ("none", None)
    assert session.scalar(select(InternalEntry.id)) is None and records(session, "internal_remove") == []
    assert records(session, "sms_inbound")[-1][1]["body"] == "START"


@pytest.mark.parametrize("body", ["don't start calling me", "Start?? who is this", "start stop"])
def test_start_among_other_words_lifts_nothing(session, body):
    """Only a text that is the word alone opts in (a STOP among other words revokes: the safe way round)."""
    stop = text(session, "STOP", "SM1")
    msg = text(session, body, "SM2", at=AT + timedelta(hours=1))
    assert msg.action in ("none", "revocation", "repeat") and msg.action != "readmission"
    assert session.get(InternalEntry, stop.entry_id).removed_at is None and listed(session, P1)
    assert records(session, "internal_remove") == []


def test_the_opt_in_words_are_data(session, setenv, tmp_path):
    raw = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
    assert "opt_in_words" in raw
    rules = tmp_path / "rules.toml"
    rules.write_text(raw.replace("opt_in_words = [", 'opt_in_words = ["resume", ', 1), encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(rules))
    text(session, "STOP", "SM1")
    assert text(session, "Resume", "SM2", at=AT + timedelta(hours=1)).action == "readmission"
    assert not listed(session, P1)
