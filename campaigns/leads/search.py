"""Find a lead the way people ask for one, and tell its story.

**Search** takes what a manager has in hand: a phone number in any format (``(212) 555-0123``, ``+1 212.555.0123``,
``212-555-0123 ext 4``: parsed by phonenumbers against the campaign's region, matched on the lead's number and on
its other phones), the last digits of a number (``0123``), or a name (every word must match the first or last
name), narrowed by status and list, a page at a time.

**History** is everything that happened to the lead, newest first: its calls (attempt, outcome, agent,
disposition, notes), its callbacks, what people changed on it (who, when, old -> new), and the suppression
decisions about its number (the pre-dial gate's refusals, DNC requests, consent re-evaluations: the audit ledger's
records for the number in its campaign or company-wide).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.models import Callback
from campaigns.campaign.history import Change, changes
from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.leads.models import LEAD_STATUSES, Lead, LeadPhone
from dnc.errors import UserError
from dnc.reasons import words
from dnc.tables import LedgerRecord

PER_PAGE = 25
MIN_DIGITS = 3  # fewer digits than this is no number: searched as a name


@dataclass
class Page:
    leads: list[Lead]
    total: int
    page: int
    per_page: int
    phone: str | None  # the number the query was read as (E.164), or None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def read_phone(text: str, region: str) -> str | None:
    """The E.164 number ``text`` is, in any format people write one, or None when it is not a whole number."""
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return None
    try:
        num = phonenumbers.parse(text, region or "US")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(num):
        return None
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def search(session: Session, campaign: Campaign | None, query: str = "", *, status: str | None = None,
           list_id: int | None = None, page: int = 1, per_page: int = PER_PAGE) -> Page:
    """Leads matching ``query`` (a number, the end of one, or a name) in ``campaign`` (None: every campaign),
    lowest id first."""
    if status and status not in LEAD_STATUSES:
        raise UserError(f"status: must be one of {', '.join(LEAD_STATUSES)}, got {status!r}")
    if not 1 <= per_page <= 500:
        raise UserError("per page: from 1 to 500")
    where = []
    if campaign is not None:
        where.append(Lead.campaign_id == campaign.id)
    if status:
        where.append(Lead.status == status)
    if list_id is not None:
        where.append(Lead.list_id == list_id)
    query = (query or "").strip()[:200]
    phone = read_phone(query, campaign.region if campaign is not None else "US") if query else None
    digits = re.sub(r"\D", "", query)
    if phone is not None:  # two indexed look-ups (an OR of both would read every lead of the campaign)
        camps = [campaign.id] if campaign is not None else list(session.scalars(select(Campaign.id)))
        ids = set(session.scalars(select(Lead.id).where(Lead.campaign_id.in_(camps), Lead.phone == phone)))
        ids |= set(session.scalars(select(LeadPhone.lead_id).where(LeadPhone.phone == phone)))
        where.append(Lead.id.in_(ids))
    elif len(digits) >= MIN_DIGITS and not re.search(r"[^\d\s().+\-]", query):
        where.append(Lead.phone.like(f"%{digits}"))  # the last digits of a number
    elif query:
        for word in query.lower().split():
            pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append(or_(func.lower(Lead.first_name).like(pattern, escape="\\"),
                             func.lower(Lead.last_name).like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(Lead).where(*where)) or 0
    page = max(1, page)
    rows = list(session.scalars(select(Lead).where(*where).order_by(Lead.id)
                                .offset((page - 1) * per_page).limit(per_page)))
    return Page(rows, total, page, per_page, phone)


@dataclass(frozen=True)
class CallRow:
    id: int
    placed_at: datetime
    attempt: int
    phone: str
    caller_id: str
    outcome: str | None  # None while the call is live
    talked: bool
    agent: str
    disposition: str  # "SALE (Sale)" or ""
    notes: str
    ended_at: datetime | None
    imported: bool


@dataclass(frozen=True)
class Decision:
    at: datetime
    kind: str
    allowed: bool | None
    reasons: list[str]  # in words
    actor: str


@dataclass
class History:
    calls: list[CallRow]
    callbacks: list[Callback]
    changes: list[Change]
    decisions: list[Decision]
    phones: list[LeadPhone]


KIND_WORDS = {"gate": "Pre-dial check", "internal_add": "Added to the internal DNC list",
              "internal_remove": "Removed from the internal DNC list", "lead_reevaluated": "Re-evaluated (consent)",
              "consent_add": "Consent recorded", "consent_revoke": "Consent revoked",
              "send_refused": "Call not sent: the pre-dial check had expired", "sms_inbound": "Text received"}


def history(session: Session, lead: Lead, limit: int = 200) -> History:
    labels = {d.code: d.label for d in session.scalars(select(Disposition)
                                                       .where(Disposition.campaign_id == lead.campaign_id))}
    rows = session.execute(select(Call, Agent.name).outerjoin(Agent, Agent.id == Call.agent_id)
                           .where(Call.lead_id == lead.id).order_by(Call.placed_at.desc(), Call.id.desc())
                           .limit(limit)).all()
    calls = [CallRow(c.id, c.placed_at, c.attempt, c.phone, c.caller_id, c.outcome, c.connected_at is not None,
                     name or "", f"{c.disposition_code} ({labels.get(c.disposition_code, '?')})"
                     if c.disposition_code else "", c.notes or "", c.ended_at, bool(c.imported))
             for c, name in rows]
    cbs = list(session.scalars(select(Callback).where(Callback.lead_id == lead.id)
                               .order_by(Callback.created_at.desc()).limit(limit)))
    numbers = {lead.phone, *(c.phone for c in calls)}
    phones = list(session.scalars(select(LeadPhone).where(LeadPhone.lead_id == lead.id).order_by(LeadPhone.position)))
    numbers |= {p.phone for p in phones}
    recs = session.scalars(select(LedgerRecord).where(
        LedgerRecord.e164.in_(numbers), or_(LedgerRecord.campaign_id == lead.campaign_id,
                                            LedgerRecord.campaign_id.is_(None)))
        .order_by(LedgerRecord.seq.desc()).limit(limit))
    decisions = [Decision(r.at, KIND_WORDS.get(r.kind, r.kind.replace("_", " ")), r.allowed,
                          [words(c) for c in r.reasons.split(",") if c], r.actor) for r in recs]
    return History(calls, cbs, changes(session, lead.campaign_id, subject=f"lead:{lead.id}", limit=limit),
                   decisions, phones)
