"""A do-not-call request as the campaigns see it: onto the internal DNC list, and out of every queue at once.

``dnc.internal.add_request`` records the request (the gate refuses the number from then on). This service adds what
the campaigns owe the person besides: every open callback to the number is cancelled and listed with the reason,
and the leads with that number that were still waiting to be dialed close as ``dnc`` in the request's scope (the
company's campaigns, or one campaign), so the funnel shows them as done rather than "blocked"; so do the leads
that hold the number among their other phones (the request is the person's, and such a lead would move on to
another of their numbers). Every path that
takes a DNC request (an agent's DNC disposition, the press-9 opt-out, the console, the CLI) goes through here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.callbacks.service import cancel_for_number
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.leads.models import Lead, LeadPhone
from dnc import internal
from dnc.reasons import Reason, stored
from dnc.tables import InternalEntry


def record_request(session: Session, e164: str, *, scope: str = "company", campaign: int | None = None,
                   channel: str, received_at: datetime, added_by: str, source_ref: str = "", reason: str = "",
                   recorded_at: datetime | None = None, effective_at: datetime | None = None) -> InternalEntry:
    """``dnc.internal.add_request`` (same arguments), then cancel the number's callbacks and close its waiting
    leads in scope. Returns the internal DNC entry."""
    entry = internal.add_request(session, e164, scope=scope, campaign=campaign, channel=channel,
                                 received_at=received_at, added_by=added_by, source_ref=source_ref, reason=reason,
                                 recorded_at=recorded_at, effective_at=effective_at)
    at = entry.effective_at
    why = f"do-not-call request #{entry.id} ({channel})"
    cancel_for_number(session, e164, why, at, campaign_id=campaign if scope == "campaign" else None)
    # the person asked, not the number: a lead holding it among its other phones stops too (it would move on to them)
    same_person = or_(Lead.phone == e164, Lead.id.in_(select(LeadPhone.lead_id).where(LeadPhone.phone == e164)))
    q = select(Lead).where(same_person, Lead.status.in_(CALLABLE_STATUSES))
    if scope == "campaign":
        q = q.where(Lead.campaign_id == campaign)
    for lead in session.scalars(q.with_for_update()):
        lead.status, lead.last_outcome, lead.next_attempt_at = "dnc", "dnc", None
        lead.callback_at, lead.callback_agent_id, lead.updated_at = None, None, at
        lead.suppression = stored([Reason("internal_dnc", why)])
    session.flush()
    return entry
