"""A STOP texted again while the number's own texted STOP request is in force (docs/compliance.md §2.8): it is
honoured (a revocation may come any number of times and by any means, F14: the consent recorded since is revoked
again, at once) and recorded (the text, its ledger record naming the request it repeats), but it is the same
request, not a new one: the internal list holds one entry and the SLA report counts one request. A STOP after the
request was lifted, or while the number is listed only by another way (a phone request, another number's text),
is a request of its own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from campaigns.compliance import sms
from campaigns.compliance.dnc_requests import record_request
from dnc import consent, reports
from dnc.tables import Consent, InternalEntry, LedgerRecord
from tests.campaigns.compliance.test_linked_removal import P1, P2, person

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
US = "+12125554100"


def text(session, body: str, sid: str, *, sender: str = P1, at: datetime = AT):
    msg, _ = sms.receive(session, provider="twilio", message_sid=sid, sender=sender, to=US, body=body, now=at)
    return msg


def requests(session, number: str = P1) -> list[InternalEntry]:
    return list(session.scalars(select(InternalEntry).where(InternalEntry.e164 == number,
                                                            InternalEntry.linked_to.is_(None))))


def inbound(session) -> list[dict]:
    return [json.loads(r.body) for r in session.scalars(select(LedgerRecord).where(
        LedgerRecord.kind == "sms_inbound").order_by(LedgerRecord.seq))]


def test_a_repeated_stop_is_recorded_as_a_repeat_of_the_request_in_force(session):
    first = text(session, "STOP", "SM1")
    again = text(session, "stop!!", "SM2", at=AT + timedelta(hours=1))
    assert (again.action, again.entry_id) == ("repeat", first.entry_id)
    assert len(requests(session)) == 1
    assert [c["requests"] for c in reports.sla(session)["channels"]] == [1]  # counted once
    rec = inbound(session)[-1]
    assert (rec["action"], rec["repeat_of"], rec["body"]) == ("repeat", first.entry_id, "stop!!")
    assert reports.history(session, P1)[-1]["detail"] == \
        f"texted 'stop!!' to {US}: revocation (\"stop\") repeated, internal DNC entry #{first.entry_id} in force"


def test_a_repeat_is_still_honoured_consent_recorded_since_is_revoked(session):
    person(session)
    text(session, "STOP", "SM1")
    later = AT + timedelta(days=2)
    for n in (P1, P2):  # consent recorded after the first STOP (for the number and the same person's other one)
        consent.add(session, n, kind="pewc", granted_at=later, evidence_ref="form", added_by="t", recorded_at=later)
    text(session, "Stop calling", "SM2", at=later + timedelta(hours=1))
    assert [c.revoked_at for c in session.scalars(select(Consent).order_by(Consent.id))] == \
        [later + timedelta(hours=1)] * 2


def test_a_stop_after_the_request_was_lifted_is_a_new_request(session):
    first = text(session, "STOP", "SM1")
    text(session, "START", "SM2", at=AT + timedelta(hours=1))
    again = text(session, "STOP", "SM3", at=AT + timedelta(hours=2))
    assert again.action == "revocation" and again.entry_id != first.entry_id
    assert len(requests(session)) == 2


def test_a_stop_while_listed_another_way_is_a_request_of_its_own(session):
    record_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    msg = text(session, "STOP", "SM1", at=AT + timedelta(hours=1))
    assert msg.action == "revocation"
    assert sorted(e.channel for e in requests(session)) == ["phone", "sms"]


def test_a_start_lifts_the_request_once_and_every_stop_row_says_so(session):
    from campaigns.compliance.texts import received

    text(session, "STOP", "SM1")
    text(session, "STOP", "SM2", at=AT + timedelta(minutes=5))
    start = text(session, "START", "SM3", at=AT + timedelta(hours=1))
    assert start.action == "readmission" and requests(session)[0].removed_at == AT + timedelta(hours=1)
    rows = {r.message.message_sid: r for r in received(session).rows}
    assert rows["SM1"].ended.text.message_sid == "SM3" and rows["SM2"].ended.text.message_sid == "SM3"

