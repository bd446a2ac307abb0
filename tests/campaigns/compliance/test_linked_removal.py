"""Removing a number from the internal DNC list when a request reached the same person's other numbers
(docs/compliance.md §2.6, "Removing a request"): removing the number asked about lifts the request and every entry
linked to it, each with its own ``internal_remove`` ledger record saying why; removing a linked number alone is
refused with a message naming the number it is linked to (it was listed because that request stands), so a
person's numbers are never left suppressed for ever nor lifted one by one behind the request's back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.compliance.dnc_requests import record_request
from campaigns.leads.models import Lead, LeadList, LeadPhone
from dnc import internal
from dnc.errors import UserError
from dnc.gate import evaluate
from dnc.tables import InternalEntry, LedgerRecord

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
LATER = AT + timedelta(hours=1)
P1, P2, P3, P4 = (f"+1212555{n}" for n in (4121, 4122, 4123, 4124))


def person(session) -> int:
    """One lead holding P1 (its number), P2 and P3 (its other phones); P4 is somebody else's."""
    c = create_campaign(session, "x", "+12125554100", AT).id
    lst = LeadList(campaign_id=c, name="l", sha256="l" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    for phones in ((P1, P2, P3), (P4,)):
        lead = Lead(campaign_id=c, list_id=lst.id, phone=phones[0], custom={}, created_at=AT, updated_at=AT)
        session.add(lead)
        session.flush()
        session.add_all([LeadPhone(lead_id=lead.id, position=i, phone=p, added_at=AT)
                         for i, p in enumerate(phones[1:], 1)])
    session.flush()
    return c


def listed(session, number: str, campaign: int) -> bool:
    return "internal_dnc" in evaluate(session, number, campaign=campaign, at=LATER + timedelta(minutes=1)).codes


def removals(session) -> dict[str, dict]:
    return {r.e164: json.loads(r.body) for r in session.scalars(select(LedgerRecord).where(
        LedgerRecord.kind == "internal_remove").order_by(LedgerRecord.seq))}


def test_removing_the_number_asked_about_lifts_the_numbers_linked_to_it(session):
    c = person(session)
    request = record_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    record_request(session, P4, channel="phone", received_at=AT, added_by="desk")
    ended = internal.remove(session, P1, removed_by="cara", reason="entered on the wrong number", at=LATER)
    assert sorted(e.e164 for e in ended) == [P1, P2, P3]
    for n in (P1, P2, P3):
        assert not listed(session, n, c), n
    assert listed(session, P4, c)  # another person's request is untouched
    recs = removals(session)
    assert set(recs) == {P1, P2, P3}  # one ledger record per entry lifted
    assert recs[P1]["reason"] == "entered on the wrong number" and recs[P1].get("linked_to") is None
    for n in (P2, P3):
        assert recs[n]["linked_to"] == request.id
        assert P1 in recs[n]["reason"] and f"#{request.id}" in recs[n]["reason"]
        assert "entered on the wrong number" in recs[n]["reason"]
    linked = session.scalar(select(InternalEntry).where(InternalEntry.e164 == P2))
    assert (linked.removed_at, linked.removed_by) == (LATER, "cara") and P1 in linked.removal_reason


def test_removing_a_linked_number_alone_is_refused_naming_the_number_it_is_linked_to(session):
    c = person(session)
    request = record_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    with pytest.raises(UserError) as e:
        internal.remove(session, P2, removed_by="cara", reason="the customer asked", at=LATER)
    assert P1 in str(e.value) and f"#{request.id}" in str(e.value)
    assert all(listed(session, n, c) for n in (P1, P2, P3))
    assert removals(session) == {}


def test_a_linked_number_with_a_request_of_its_own_stays_listed_by_it(session):
    c = person(session)
    record_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    own = record_request(session, P2, channel="mail", received_at=AT + timedelta(minutes=5), added_by="mail room")
    internal.remove(session, P1, removed_by="cara", reason="wrong number", at=LATER)
    assert not listed(session, P1, c) and not listed(session, P3, c)
    assert listed(session, P2, c)  # its own request stands
    assert session.get(InternalEntry, own.id).removed_at is None


def test_a_linked_entry_whose_request_was_already_removed_can_be_removed_alone(session):
    """Entries left behind by a removal made before a removal lifted the linked ones."""
    c = person(session)
    request = record_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    request.removed_at, request.removed_by, request.removal_reason = LATER, "old", "removed alone"
    session.flush()
    assert listed(session, P2, c)
    ended = internal.remove(session, P2, removed_by="cara", reason="its request was removed", at=LATER)
    assert [e.e164 for e in ended] == [P2] and not listed(session, P2, c)


def test_the_cli_says_what_a_removal_lifted_and_why_a_linked_one_is_refused(dialer, sessions):
    with sessions() as s:
        person(s)
        request = record_request(s, P1, channel="phone", received_at=AT, added_by="desk")
        s.commit()
    r = dialer("dnc", "remove", P2, "--reason", "asked")
    assert r.code == 2 and P1 in r.err and f"#{request.id}" in r.err
    r = dialer("dnc", "remove", P1, "--reason", "wrong number")
    assert r.code == 0 and P2 in r.out and P3 in r.out and "same person" in r.out
    r = dialer("dnc", "remove", P4, "--reason", "x")
    assert r.code == 2
    with sessions() as s:
        record_request(s, P1, channel="phone", received_at=AT + timedelta(days=1), added_by="desk")
        s.commit()
    out = json.loads(dialer("dnc", "remove", P1, "--reason", "again", "--json").out)
    assert out["removed"] == 1 and sorted(x["e164"] for x in out["linked"]) == [P2, P3]
