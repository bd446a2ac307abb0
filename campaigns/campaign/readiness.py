"""Why a campaign that was just started would not dial, said when it starts rather than found on a silent floor.

Only what the campaign's own data decide: its lists and their leads. Agents who have not logged in yet, or a
calling window not open yet, are the normal state of a campaign started ahead of its day (the floor shows both).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadList


def start_warnings(session: Session, campaign: Campaign) -> list[str]:
    """Sentences for the manager who starts ``campaign``; empty when it has leads to call."""
    why = no_lead_reason(session, campaign)
    return [f"It has no lead left to call, so it will not dial: {why}."] if why else []


def no_lead_reason(session: Session, campaign: Campaign) -> str | None:
    """What to do when ``campaign`` has no lead left to call (None when it has one): said when it starts, and on its
    floor for as long as it lasts."""
    to_call = (select(Lead.id).join(LeadList, LeadList.id == Lead.list_id)
               .where(Lead.campaign_id == campaign.id, LeadList.active.is_(True),
                      Lead.status.not_in(FINAL_LEAD_STATUSES)))
    if session.scalar(select(exists(to_call))):
        return None
    lists = select(LeadList.id).where(LeadList.campaign_id == campaign.id)
    if not session.scalar(select(exists(lists))):
        why = "upload a list of leads"
    elif not session.scalar(select(exists(lists.where(LeadList.active.is_(True))))):
        why = "every list is disabled; enable one on the Lists page"
    else:
        why = "every lead of its enabled lists is finished; reset a list for another pass or upload a new one"
    return why
