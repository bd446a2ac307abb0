"""What the compliance views need from the campaign tables: placed calls for reconciliation, and everything the
dialer holds about one number (its leads with their suppression reasons, its calls).

``dnc`` imports nothing of ours, so it cannot read calls or leads itself; this module reads them and hands
``dnc.reports`` plain ``CallRecord``s.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.compliance.persons import lead_numbers
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dnc.reasons import stored_codes
from dnc.reports import CallRecord


def call_records(session: Session, campaign_id: int | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> list[CallRecord]:
    """Placed calls with their lead's state, ZIP, zones and numbers (the state caps count per called person, as
    the gate does), oldest first."""
    q = (select(Call.id, Call.phone, Call.placed_at, Call.campaign_id, Lead.state, Lead.postal_code, Lead.timezones,
                Call.lead_id).outerjoin(Lead, Lead.id == Call.lead_id).order_by(Call.placed_at))
    if campaign_id is not None:
        q = q.where(Call.campaign_id == campaign_id)
    if since is not None:
        q = q.where(Call.placed_at >= since)
    if until is not None:
        q = q.where(Call.placed_at < until)
    rows = session.execute(q).all()
    numbers = lead_numbers(session, {r[7] for r in rows if r[7] is not None})
    return [CallRecord(phone, placed, cid, state, postal, tuple(z for z in zones.split(",") if z) if zones else None,
                       f"call:{i}", lead, numbers.get(lead, ()))
            for i, phone, placed, cid, state, postal, zones, lead in rows]


def leads_with_number(session: Session, e164: str) -> list[dict]:
    """Every lead holding ``e164``: campaign, list, status and, when suppressed at import, why."""
    q = (select(Lead, Campaign.name, LeadList.name).join(Campaign, Campaign.id == Lead.campaign_id)
         .join(LeadList, LeadList.id == Lead.list_id).where(Lead.phone == e164).order_by(Lead.id))
    return [{"lead_id": lead.id, "campaign": cname, "list": lname, "status": lead.status,
             "suppression": stored_codes(lead.suppression), "attempts": lead.attempts,
             "name": f"{lead.first_name} {lead.last_name}".strip(), "state": lead.state,
             "postal_code": lead.postal_code, "created_at": lead.created_at, "last_called_at": lead.last_called_at}
            for lead, cname, lname in session.execute(q)]


def calls_to_number(session: Session, e164: str, limit: int = 200) -> list[dict]:
    """The calls placed to ``e164``, newest first: when, campaign, how it ended, who took it, the disposition."""
    q = (select(Call, Campaign.name, Agent.name).join(Campaign, Campaign.id == Call.campaign_id)
         .outerjoin(Agent, Agent.id == Call.agent_id).where(Call.phone == e164)
         .order_by(Call.placed_at.desc()).limit(limit))
    return [{"call_id": c.id, "campaign": cname, "placed_at": c.placed_at, "outcome": c.outcome or c.status,
             "answered_by": c.answered_by, "agent": aname, "disposition": c.disposition_code,
             "caller_id": c.caller_id} for c, cname, aname in session.execute(q)]
