"""Manual dial: the agent types a number and calls it, still through the pre-dial gate (as a click-to-dial).

The number is looked up among the campaign's leads; a number the campaign does not have is added to its
"Manual dials" list. The claim is the preview dial's (``campaigns.agents.preview.claim_for_agent``): the gate's
audit record, the call row and the agent on the call in one transaction; the worker places it and bridges the
answer to this agent. A refused number is explained in words; a number added only for this dial and refused is
kept as suppressed with its reasons, so the dialer never calls it later by itself.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.models import CallAction
from campaigns.agents.preview import PreviewDial, claim_for_agent
from campaigns.agents.service import get_agent
from campaigns.campaign.models import Campaign
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.dispatch.service import dnc_gate
from campaigns.leads.models import Lead, LeadList
from campaigns.leads.phones import normalize
from dnc.errors import UserError
from dnc.reasons import stored
from dnc.zones import candidate_zones

MANUAL_LIST = "Manual dials"
NOT_CALLABLE = {"dnc": "the customer asked not to be called", "closed": "the lead is closed (a sale)",
                "done": "the lead is finished", "exhausted": "the lead has used all its attempts",
                "suppressed": "the number was suppressed when it was loaded", "dialing": "the number is on a call now"}


def _manual_list(session: Session, campaign: Campaign, now: datetime, by: str) -> LeadList:
    lst = session.scalar(select(LeadList).where(LeadList.campaign_id == campaign.id, LeadList.name == MANUAL_LIST))
    if lst is None:
        lst = LeadList(campaign_id=campaign.id, name=MANUAL_LIST, source_filename="", uploaded_by=by,
                       sha256=hashlib.sha256(f"manual-dials:{campaign.id}".encode()).hexdigest(), uploaded_at=now,
                       rows=0, accepted=0, duplicates=0, rejected=0, suppressed=0)
        session.add(lst)
        session.flush()
    return lst


def manual_dial(session: Session, agent_ref: int | str, raw_number: str, now: datetime,
                gate: Callable | None = dnc_gate) -> PreviewDial:
    """Dial ``raw_number`` for a ready or paused agent of a running campaign."""
    agent = get_agent(session, agent_ref, lock=True)
    campaign = session.get(Campaign, agent.campaign_id) if agent.campaign_id is not None else None
    if campaign is None:
        raise UserError("join a campaign first: a call is always made for a campaign")
    if campaign.status not in ("active", "paused"):
        raise UserError(f"campaign {campaign.name} is {campaign.status}: no calls are made for it")
    try:
        phone = normalize(raw_number, campaign.region)
    except UserError:
        raise UserError(f"{raw_number.strip() or 'an empty number'} is not a phone number we can call "
                        "(write it like +1 212 555 0123)") from None
    if agent.state not in ("ready", "paused"):
        raise UserError("finish the current call first")
    lead = session.scalar(select(Lead).where(Lead.campaign_id == campaign.id, Lead.phone == phone)
                          .order_by(Lead.id.desc()).limit(1).with_for_update())
    added = lead is None
    if added:
        zones = candidate_zones(phone, None)
        lst = _manual_list(session, campaign, now, agent.name)
        lead = Lead(campaign_id=campaign.id, list_id=lst.id, line=0, phone=phone, first_name="", last_name="",
                    timezones=",".join(zones), custom={}, status="new", priority=0, attempts=0,
                    next_attempt_at=None, created_at=now, updated_at=now)
        session.add(lead)
        lst.rows += 1
        lst.accepted += 1
        session.flush()
    elif lead.status not in CALLABLE_STATUSES:
        raise UserError(f"{phone} is not called: {NOT_CALLABLE.get(lead.status, lead.status)}")

    def keep_suppressed(row: Lead, decision) -> None:
        row.status, row.suppression, row.updated_at = "suppressed", stored(decision.reasons), now

    lead.reserved_agent_id = lead.reserved_until = None
    out = claim_for_agent(session, agent, campaign, lead, now, gate, keep_suppressed if added else None)
    if out.call is not None:
        session.add(CallAction(call_id=out.call.id, agent_id=agent.id, kind="manual", to_number=phone, at=now))
        session.flush()
    return out
