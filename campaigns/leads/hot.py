"""Hot leads: a lead that must be called next (a web form just came in, a customer asked to be called now).

A hot lead gets a high priority (Talkdesk's "hot lead" is priority 11 of 1-10 ordinary ones) and is due at once,
so the claim's ``priority DESC`` order puts it first; it still passes every rule (the pre-dial gate, the window,
the re-call gap and the daily caps) like any other lead. A number the campaign does not have yet is inserted
into the campaign's "Hot leads" list, scrubbed first like an import: a suppressed number is stored as suppressed
with its reasons and never dialed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadList
from campaigns.leads.phones import ScrubCandidate, normalize
from dnc.errors import UserError
from dnc.reasons import stored
from dnc.zones import candidate_zones

HOT_PRIORITY = 11
HOT_LIST = "Hot leads"


@dataclass(frozen=True)
class HotLead:
    lead_id: int
    phone: str
    priority: int
    status: str
    created: bool  # inserted now (the campaign did not have the number)
    suppression: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _hot_list(session: Session, campaign: Campaign, now: datetime, by: str) -> LeadList:
    lst = session.scalar(select(LeadList).where(LeadList.campaign_id == campaign.id, LeadList.name == HOT_LIST))
    if lst is None:
        digest = hashlib.sha256(f"hot-leads:{campaign.id}".encode()).hexdigest()
        lst = LeadList(campaign_id=campaign.id, name=HOT_LIST, source_filename="", sha256=digest, uploaded_by=by,
                       uploaded_at=now, rows=0, accepted=0, duplicates=0, rejected=0, suppressed=0)
        session.add(lst)
        session.flush()
    return lst


def make_hot(session: Session, campaign: Campaign, now: datetime, *, lead_id: int | None = None,
             phone: str | None = None, priority: int = HOT_PRIORITY, first_name: str = "", last_name: str = "",
             state: str | None = None, postal_code: str | None = None, by: str = "api") -> HotLead:
    """Make a lead of ``campaign`` hot (by id, or by number), inserting the number as a new lead when the campaign
    does not have it. Returns what became of it."""
    if (lead_id is None) == (phone is None):
        raise UserError("give either a lead id or a phone number")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 1 <= priority <= 100:
        raise UserError(f"priority must be a whole number from 1 to 100, got {priority!r}")
    if state is not None and not (len(state) == 2 and state.isalpha()):
        raise UserError(f"state must be a two-letter code such as NY, got {state!r}")
    lead = None
    if lead_id is not None:
        lead = session.get(Lead, lead_id, with_for_update=True)
        if lead is None or lead.campaign_id != campaign.id:
            raise UserError(f"campaign {campaign.name!r} has no lead {lead_id}")
    else:
        phone = normalize(phone, campaign.region)
        lead = session.scalar(select(Lead).where(Lead.campaign_id == campaign.id, Lead.phone == phone)
                              .order_by(Lead.id.desc()).limit(1).with_for_update())
    if lead is None:
        return _insert(session, campaign, now, phone, priority, first_name, last_name, state, postal_code, by)
    if lead.status in FINAL_LEAD_STATUSES:
        raise UserError(f"lead {lead.id} ({lead.phone}) is {lead.status}: a final lead is not dialed again")
    lead.priority, lead.updated_at = priority, now
    if lead.status in ("new", "retry") and (lead.next_attempt_at is None or lead.next_attempt_at > now):
        lead.next_attempt_at = now  # due at once; a callback keeps its agreed time, a lead on a call its call
    session.flush()
    return HotLead(lead.id, lead.phone, lead.priority, lead.status, False, lead.suppression)


def _insert(session: Session, campaign: Campaign, now: datetime, phone: str, priority: int, first: str, last: str,
            state: str | None, postal: str | None, by: str) -> HotLead:
    from dnc.scrub import DncScrubber

    zones = candidate_zones(phone, postal)
    scrubber = DncScrubber(None, campaign=campaign.id, at=now, operator=by or "api")
    reasons = scrubber.scrub(session, [ScrubCandidate(phone, state.upper() if state else None, postal, zones)])[0]
    lst = _hot_list(session, campaign, now, by)
    lead = Lead(campaign_id=campaign.id, list_id=lst.id, line=0, phone=phone, first_name=first[:200],
                last_name=last[:200], state=state.upper() if state else None, postal_code=postal,
                timezones=",".join(zones), custom={}, status="suppressed" if reasons else "new",
                suppression=stored(reasons) if reasons else None, priority=priority, attempts=0,
                next_attempt_at=None if reasons else now, created_at=now, updated_at=now)
    session.add(lead)
    lst.rows += 1
    if reasons:
        lst.suppressed += 1
    else:
        lst.accepted += 1
    session.flush()
    scrubber.record(session, list_ref=f"hot lead {phone} in campaign {campaign.name}")
    return HotLead(lead.id, phone, priority, lead.status, True, lead.suppression)
