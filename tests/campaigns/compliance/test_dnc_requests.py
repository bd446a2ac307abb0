"""A do-not-call request binds the person, not only the number it came from: the leads that hold the number among
their other phones stop as well."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.compliance.dnc_requests import record_request
from campaigns.leads.models import Lead, LeadList, LeadPhone

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
FIRST, SECOND = "+12125554123", "+12125554124"


def test_a_request_from_a_leads_earlier_number_stops_the_lead_on_its_next_one(session):
    """64.1200(d)(3) and TSR 310.4(b)(1)(iii)(A) (docs/compliance.md §2.6): a person who asked not to be called is
    not called again; a letter naming the number the lead was first dialed on arrives after the lead moved on to
    its second number (same person), and the lead must not be dialed there."""
    c = create_campaign(session, "dnc", "+12125554100", AT)
    lst = LeadList(campaign_id=c.id, name="l", sha256="a" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    lead = Lead(campaign_id=c.id, list_id=lst.id, phone=SECOND, custom={}, created_at=AT, updated_at=AT)
    bystander = Lead(campaign_id=c.id, list_id=lst.id, phone="+12125554125", custom={}, created_at=AT, updated_at=AT)
    session.add_all([lead, bystander])
    session.flush()
    session.add_all([LeadPhone(lead_id=lead.id, position=1, phone=FIRST, added_at=AT),
                     LeadPhone(lead_id=lead.id, position=2, phone=SECOND, added_at=AT)])
    session.flush()
    record_request(session, FIRST, channel="mail", received_at=AT, added_by="mail room")
    statuses = dict(session.execute(select(Lead.id, Lead.status)).all())
    assert statuses[lead.id] == "dnc" and "internal_dnc" in session.get(Lead, lead.id).suppression
    assert statuses[bystander.id] == "new"
