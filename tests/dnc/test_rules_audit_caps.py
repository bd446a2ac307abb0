"""Audit of the state call caps as the dial loop meets them: every cap of every candidate state (the number's area
code, the lead's state and ZIP code) holds at once, counted over every call to the number in the calls table, and
a refusal says when the number may be called again (and it may be, exactly then)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList, LeadPhone
from tests.dnc.audit_helpers import ask, check, load_registry, pewc

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
NY = "+12125554123"


def _campaign(session, phone: str, name: str = "audit") -> int:
    c = create_campaign(session, name, "+12125554100", AT)
    lst = LeadList(campaign_id=c.id, name="audit", sha256="a" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    session.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": phone, "custom": {},
                                    "created_at": AT, "updated_at": AT}])
    return c.id


def _calls(session, campaign: int, phone: str, *hours_before: float) -> None:
    for h in hours_before:
        placed = AT - timedelta(hours=h)
        session.add(Call(campaign_id=campaign, phone=phone, placed_at=placed, status="ended", outcome="no_answer",
                         ended_at=placed + timedelta(seconds=30)))
    session.flush()


CAP_CASES = [  # (what, phone, lead state, hours before AT of the earlier calls, allowed)
    ("FL: two calls in 24 h", "+13055554123", None, (23, 10), True),
    ("FL: three calls in 24 h", "+13055554123", None, (23, 10, 1), False),
    ("FL: the oldest of three just left the 24 h", "+13055554123", None, (24, 10, 1), True),
    ("OK: three calls in 24 h", "+14055554123", None, (20, 10, 2), False),
    ("MD: three calls in 24 h", "+14105554123", None, (20, 10, 2), False),
    ("NY number, FL lead: three calls in 24 h", NY, "FL", (20, 10, 2), False),
    ("ME: one call 7 h ago", "+12075554123", None, (7,), False),
    ("ME: one call 8 h ago", "+12075554123", None, (8,), True),
    ("ME number, FL lead: three calls in 24 h, none in 8 h", "+12075554123", "FL", (23, 16, 9), False),
    ("FL number, ME lead: three calls in 24 h, none in 8 h", "+13055554123", "ME", (23, 16, 9), False),
    ("ME number, FL lead: one call 7 h ago", "+12075554123", "FL", (7,), False),
    ("NY: no cap", NY, None, (5, 4, 3, 2, 1), True),
]


@pytest.mark.parametrize(("what", "phone", "state", "before", "allowed"), CAP_CASES, ids=[c[0] for c in CAP_CASES])
def test_every_state_cap_holds(session, store, tmp_path, what, phone, state, before, allowed):
    load_registry(session, store, tmp_path, AT)
    campaign = _campaign(session, phone)
    pewc(session, phone, AT)
    _calls(session, campaign, phone, *before)
    d = ask(session, phone, AT, state=state, campaign=campaign)
    check(session, d, allowed, () if allowed else ("state_cap",))
    if not allowed:
        assert d.temporary and d.opens_at is not None and d.opens_at > AT
        assert not ask(session, phone, d.opens_at - timedelta(seconds=1), state=state, campaign=campaign).allowed
        check(session, ask(session, phone, d.opens_at, state=state, campaign=campaign), True)


def _lead_with_phones(session, campaign: int, state: str, *phones: str) -> int:
    """A lead of ``campaign`` dialing the last of ``phones`` (it moved on from the earlier ones)."""
    lead = Lead(campaign_id=campaign, list_id=session.scalar(select(LeadList.id).where(
        LeadList.campaign_id == campaign)), phone=phones[-1], state=state, custom={}, created_at=AT, updated_at=AT)
    session.add(lead)
    session.flush()
    session.add_all([LeadPhone(lead_id=lead.id, position=i, phone=p, added_at=AT) for i, p in enumerate(phones, 1)])
    session.flush()
    return lead.id


@pytest.mark.parametrize(("what", "by_this_lead", "before", "allowed"), [
    ("three calls to its first number in 24 h", True, (20, 10, 2), False),
    ("three calls to its first number, by another campaign's lead", False, (20, 10, 2), False),
    ("two calls to its first number in 24 h", True, (20, 2), True),
    ("the oldest of three just left the 24 h", True, (24, 10, 2), True),
])
def test_a_state_cap_counts_the_called_persons_calls_on_all_their_numbers(session, store, tmp_path, what,
                                                                             by_this_lead, before, allowed):
    """FL, OK and MD cap the calls to the called *person* (Fla. Stat. 501.616(6): 3 calls "to the same called
    person" in 24 h; docs/compliance.md §3, reference §2): a lead that moved on to its next number after failed
    attempts is the same person, so the calls to its earlier numbers count, whoever placed them."""
    first, second = "+13055554123", "+13055554124"
    load_registry(session, store, tmp_path, AT)
    campaign = _campaign(session, first)
    other = _campaign(session, first, "other")
    lead = _lead_with_phones(session, campaign, "FL", first, second)
    for p in (first, second):
        pewc(session, p, AT)
    for h in before:
        placed = AT - timedelta(hours=h)
        session.add(Call(campaign_id=campaign if by_this_lead else other, phone=first, placed_at=placed,
                         lead_id=lead if by_this_lead else None, status="ended", outcome="no_answer",
                         ended_at=placed + timedelta(seconds=30)))
    session.flush()
    d = ask(session, second, AT, state="FL", campaign=campaign, lead=lead)
    check(session, d, allowed, () if allowed else ("state_cap",))
    if not allowed:
        assert d.temporary and d.opens_at == AT + timedelta(hours=24 - max(before))
        check(session, ask(session, second, d.opens_at, state="FL", campaign=campaign, lead=lead), True)
