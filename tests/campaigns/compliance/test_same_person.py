"""A do-not-call request or a revocation binds the person wherever our data say the numbers are one person's
(docs/compliance.md §2.6, "The same person"): a lead record is one person, so every number a lead holding the
named number also holds (as its number or among its other phones) is the person's, and so, in turn, are the
numbers of the leads holding those (across lists and campaigns). Each such number gets its own internal DNC
entry, linked to the request and with its ledger record, so the gate, the import scrub, the funnel and the
reconciliation refuse it as they refuse the named number; a lead that later turns out to hold a listed number
(an alternate number refused for internal_dnc) binds its own numbers from that moment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.compliance.dnc_requests import record_request, revoke_consent
from campaigns.leads.models import Lead, LeadList, LeadPhone
from campaigns.leads.phones import attach
from dnc import consent, reports
from dnc.gate import evaluate
from dnc.registry import Store
from dnc.tables import Consent, InternalEntry, LedgerRecord
from tests.dnc.audit_helpers import load_registry

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
P1, P2, P3, P4, P5 = (f"+1212555{n}" for n in (4121, 4122, 4123, 4124, 4125))


@pytest.fixture
def store(tmp_path, setenv):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    return Store(root)


def _lead(session, campaign: int, *phones: str) -> Lead:
    lst = session.scalar(select(LeadList).where(LeadList.campaign_id == campaign)) or LeadList(
        campaign_id=campaign, name="l", sha256=f"{campaign:064d}", uploaded_at=AT)
    session.add(lst)
    session.flush()
    lead = Lead(campaign_id=campaign, list_id=lst.id, phone=phones[0], custom={}, created_at=AT, updated_at=AT)
    session.add(lead)
    session.flush()
    if len(phones) > 1:
        session.add_all([LeadPhone(lead_id=lead.id, position=i, phone=p, added_at=AT)
                         for i, p in enumerate(phones, 1)])
    session.flush()
    return lead


def _floor(session):
    x = create_campaign(session, "x", "+12125554100", AT).id
    y = create_campaign(session, "y", "+12125554100", AT).id
    a = _lead(session, x, P1, P2)  # the person: dialed on P1, P2 their other phone
    b = _lead(session, y, P2)  # another list, another campaign: P2 alone (the same person, by a's record)
    c = _lead(session, y, P3, P2)  # holds P2 too: P3 is the same person's
    d = _lead(session, x, P4)  # somebody else
    return x, y, a, b, c, d


def _entries(session) -> dict[str, InternalEntry]:
    return {e.e164: e for e in session.scalars(select(InternalEntry).order_by(InternalEntry.id))}


def _adds(session) -> dict[str, dict]:
    return {r.e164: json.loads(r.body) for r in session.scalars(select(LedgerRecord).where(
        LedgerRecord.kind == "internal_add"))}


def test_a_request_lists_every_number_of_the_person(session):
    x, y, a, b, c, d = _floor(session)
    entry = record_request(session, P1, channel="mail", received_at=AT, added_by="mail room")
    status = dict(session.execute(select(Lead.id, Lead.status)).all())
    assert (status[a.id], status[b.id], status[c.id], status[d.id]) == ("dnc", "dnc", "dnc", "new")
    entries = _entries(session)
    assert set(entries) == {P1, P2, P3}
    for n in (P2, P3):
        e = entries[n]
        assert (e.scope, e.campaign_id, e.linked_to, e.effective_at, e.honor_deadline) == \
            ("company", None, entry.id, entry.effective_at, entry.honor_deadline)
        assert "same person" in e.reason and f"#{entry.id}" in e.reason
        assert _adds(session)[n]["linked_to"] == entry.id  # each has its own ledger record
    for n in (P1, P2, P3):
        assert "internal_dnc" in evaluate(session, n, campaign=y, at=AT + timedelta(seconds=1)).codes
    assert "internal_dnc" not in evaluate(session, P4, campaign=x, at=AT + timedelta(seconds=1)).codes
    sla = reports.sla(session)  # one request, by mail; the numbers it reached are listed, not counted as requests
    assert [(ch["channel"], ch["requests"]) for ch in sla["channels"]] == [("mail", 1)]
    assert sorted((r["e164"], r["linked_to"]) for r in sla["requests"]) == \
        [(P1, None), (P2, entry.id), (P3, entry.id)]


def test_a_campaign_request_binds_the_person_in_that_campaign_only(session):
    x, y, a, b, c, d = _floor(session)
    entry = record_request(session, P1, scope="campaign", campaign=x, channel="agent", received_at=AT,
                           added_by="ann")
    entries = _entries(session)
    assert {n: (e.scope, e.campaign_id) for n, e in entries.items()} == \
        {P1: ("campaign", x), P2: ("campaign", x), P3: ("campaign", x)}
    assert entries[P2].linked_to == entry.id
    status = dict(session.execute(select(Lead.id, Lead.status)).all())
    assert (status[a.id], status[b.id], status[c.id]) == ("dnc", "new", "new")
    assert "internal_dnc" in evaluate(session, P2, campaign=x, at=AT + timedelta(seconds=1)).codes
    assert "internal_dnc" not in evaluate(session, P2, campaign=y, at=AT + timedelta(seconds=1)).codes


def test_a_number_already_listed_in_scope_gets_no_second_entry(session):
    x, y, a, b, c, d = _floor(session)
    record_request(session, P2, channel="phone", received_at=AT - timedelta(days=1), added_by="desk")
    assert session.scalar(select(func.count()).select_from(InternalEntry)) == 3  # P2, and P1 and P3 linked
    record_request(session, P1, channel="mail", received_at=AT, added_by="mail room")  # P1's own request is kept
    counts = dict(session.execute(select(InternalEntry.e164, func.count()).group_by(InternalEntry.e164)).all())
    assert counts == {P1: 2, P2: 1, P3: 1}


def test_a_lead_found_later_to_hold_a_listed_number_binds_its_own(session, store, tmp_path):
    """A lead of a list loaded after the request, whose alternate number is the one the person asked about: the
    alternate is refused (internal_dnc) and the lead is the same person: its own number is listed from then, with
    the link in its record, and the lead closes."""
    load_registry(session, store, tmp_path, AT)
    x, y, a, b, c, d = _floor(session)
    entry = record_request(session, P1, channel="mail", received_at=AT, added_by="mail room")
    later = AT + timedelta(days=2)
    e = _lead(session, x, P5)
    result = attach(session, session.get(Campaign, x), [(e, [P1])], later, "importer")
    assert result.attached == 0 and result.suppressed.get("internal_dnc") == 1
    assert session.get(Lead, e.id).status == "dnc"
    linked = _entries(session)[P5]
    assert (linked.linked_to, linked.effective_at, linked.scope) == (entry.id, later, "company")
    assert "internal_dnc" in evaluate(session, P5, campaign=y, at=later + timedelta(seconds=1)).codes
    assert "internal_dnc" not in evaluate(session, P5, campaign=y, at=later - timedelta(seconds=1)).codes


def test_a_revoked_consent_is_revoked_on_every_number_of_the_person(session):
    x, y, a, b, c, d = _floor(session)
    for n in (P1, P2, P3, P4):
        consent.add(session, n, kind="pewc", granted_at=AT - timedelta(days=9), evidence_ref=f"form {n}",
                    added_by="t", recorded_at=AT - timedelta(days=9))
    gone = revoke_consent(session, P1, at=AT, by="desk", reason="asked on the phone")
    assert sorted(c.e164 for c in gone) == [P1, P2, P3]
    revoked = dict(session.execute(select(Consent.e164, Consent.revoked_at)).all())
    assert revoked == {P1: AT, P2: AT, P3: AT, P4: None}
    reasons = {r.e164: json.loads(r.body)["reason"] for r in session.scalars(select(LedgerRecord).where(
        LedgerRecord.kind == "consent_revoke"))}
    assert set(reasons) == {P1, P2, P3} and "same person" in reasons[P3]


def test_the_cli_revokes_the_persons_consent(dialer, sessions):
    with sessions() as s:
        _floor(s)
        granted = datetime(2025, 1, 6, tzinfo=UTC)  # before the CLI's own clock, whatever day the test runs
        for n in (P1, P3):
            consent.add(s, n, kind="pewc", granted_at=granted, evidence_ref="form", added_by="t", recorded_at=granted)
        s.commit()
    r = dialer("dnc", "consent", P1, "--kind", "pewc", "--evidence", "-", "--revoke", "asked", "--json")
    assert r.code == 0, r.err
    assert len(json.loads(r.out)["revoked"]) == 2
