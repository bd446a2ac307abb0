"""The reports count a state call cap the way the gate does: per called person (the lead's own calls and every call
to any of its numbers), not per number, so what a compliance officer shows proves what the gate did
(docs/compliance.md §3, "Caps"). A lead that moved on to its second number after three calls to its first in 24 h
is at Florida's cap: the gate refuses a fourth call, the dialable funnel counts the lead under ``state_cap``, and
the reconciliation (stored verdicts, the full report, the window report) names a fourth call that was placed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.campaign.service import create_campaign
from campaigns.compliance import verdicts
from campaigns.compliance.feed import call_records
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import Candidate
from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from campaigns.leads.models import Lead, LeadList, LeadPhone
from dnc.reconcile import reconcile, window_exceptions
from dnc.registry import Store
from tests.dnc.audit_helpers import load_registry, pewc

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York and Miami
FIRST, SECOND, STRANGER = "+13055554123", "+13055554124", "+13055554125"


@pytest.fixture
def store(tmp_path, setenv):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    return Store(root)


def _floor(session, store, tmp_path, hours=(22, 20, 2)):
    load_registry(session, store, tmp_path, AT - timedelta(days=2))  # in force before the first call
    c = create_campaign(session, "caps", "+12125554100", AT)
    c.status = "active"
    lst = LeadList(campaign_id=c.id, name="caps", sha256="c" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    lead = Lead(campaign_id=c.id, list_id=lst.id, phone=SECOND, state="FL", custom={}, status="retry",
                attempts=3, next_attempt_at=AT - timedelta(hours=1), created_at=AT - timedelta(days=2),
                updated_at=AT, timezones="America/New_York")
    session.add(lead)
    session.flush()
    session.add_all([LeadPhone(lead_id=lead.id, position=i, phone=p, added_at=AT - timedelta(days=2))
                     for i, p in enumerate((FIRST, SECOND), 1)])
    for p in (FIRST, SECOND, STRANGER):
        pewc(session, p, AT)
    for h in hours:  # unanswered calls to its first number; then it moved on to the second
        placed = AT - timedelta(hours=h)
        session.add(Call(campaign_id=c.id, lead_id=lead.id, phone=FIRST, placed_at=placed, status="ended",
                         outcome="no_answer", ended_at=placed + timedelta(seconds=30)))
    session.flush()
    return c, lead


def test_the_funnel_counts_a_person_at_the_cap_as_the_gate_refuses_them(session, store, tmp_path):
    forget()
    campaign, lead = _floor(session, store, tmp_path)
    f = funnel(session, campaign, AT, registry=store)
    d = dispatch.dnc_gate(session, Candidate(lead.id, campaign.id, SECOND, "FL", None, (), "predictive"), AT)
    assert not d.allowed and d.codes == ("state_cap",)
    assert f.blocked.get("state_cap") == 1 and f.dialable == 0, (f.blocked, f.dialable)


def test_the_reconciliation_names_a_fourth_call_to_the_person_on_another_number(session, store, tmp_path):
    campaign, lead = _floor(session, store, tmp_path)
    fourth = Call(campaign_id=campaign.id, lead_id=lead.id, phone=SECOND, placed_at=AT, status="ended",
                  outcome="no_answer", ended_at=AT + timedelta(seconds=30))
    other = Call(campaign_id=campaign.id, phone=STRANGER, placed_at=AT, status="ended", outcome="no_answer",
                 ended_at=AT + timedelta(seconds=30))  # somebody else's number, first call: complies
    session.add_all([fourth, other])
    session.commit()
    verdicts.refresh(session, store, AT + timedelta(minutes=5))
    stored = {v.call_id: v.codes for v in verdicts.findings(session, AT - timedelta(days=1), AT + timedelta(days=1))}
    assert stored == {fourth.id: "state_cap"}
    full = {r["call"]: r["codes"] for r in reconcile(session, call_records(session), store)}
    assert full == {f"call:{fourth.id}": "state_cap"}
    window = {r["call"]: r["codes"] for r in window_exceptions(session, call_records(session), store)}
    assert window == {f"call:{fourth.id}": "state_cap"}


def test_a_number_added_to_the_lead_later_counts_from_then_only(session, store, tmp_path):
    """The reconciliation judges a call by what was known when it was placed: a number attached to the lead after
    calls to it were placed by someone else does not make those earlier calls the lead's (the gate could not
    count them); the lead's own calls always count."""
    campaign, lead = _floor(session, store, tmp_path, hours=(20,))
    pewc(session, third := "+13055554126", AT)
    for h in (21, 3):  # somebody dialed ``third``; it became the lead's number only later
        placed = AT - timedelta(hours=h)
        session.add(Call(campaign_id=campaign.id, phone=third, placed_at=placed, status="ended",
                         outcome="no_answer", ended_at=placed + timedelta(seconds=30)))
    session.add(LeadPhone(lead_id=lead.id, position=3, phone=third, added_at=AT + timedelta(hours=1)))
    session.add(Call(campaign_id=campaign.id, lead_id=lead.id, phone=SECOND, placed_at=AT - timedelta(hours=1),
                     status="ended", outcome="no_answer", ended_at=AT))
    after = Call(campaign_id=campaign.id, lead_id=lead.id, phone=SECOND, placed_at=AT + timedelta(hours=2),
                 status="ended", outcome="no_answer", ended_at=AT + timedelta(hours=2, seconds=30))
    session.add(after)  # once ``third`` is the lead's: its two calls, FIRST's and the call an hour ago make four
    session.commit()
    verdicts.refresh(session, store, AT + timedelta(hours=3))
    stored = {v.call_id: v.codes for v in verdicts.findings(session, AT - timedelta(days=1), AT + timedelta(days=1))}
    assert stored == {after.id: "state_cap"}
    full = {r["call"]: r["codes"] for r in reconcile(session, call_records(session), store)}
    assert full == {f"call:{after.id}": "state_cap"}
