"""Campaign use cases: create, find, list, change status. SQL stays here and in the other services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import CAMPAIGN_STATUSES, DEDUPE_SCOPES, PACING_MODES, Campaign, Disposition
from campaigns.leads.models import Lead, LeadList
from campaigns.leads.phones import unreadable
from campaigns.names import name_problem, plain_name
from dnc.errors import UserError

# The dispositions every campaign starts with; a campaign adds its own rows next to these.
DEFAULT_DISPOSITIONS = (
    # code, label, contact, close, callback, dnc, final, completed
    ("SALE", "Sale / close", True, True, False, False, True, True),
    ("CALLBK", "Callback", True, False, True, False, False, False),
    ("NI", "Not interested", True, False, False, False, True, True),
    ("DNC", "Do not call", True, False, False, True, True, False),
    ("WRONG", "Wrong number", False, False, False, False, True, False),
    ("NOANS", "No answer / dead air", False, False, False, False, False, False),
)

TRANSITIONS = {
    "draft": {"active", "finished"},
    "active": {"paused", "finished"},
    "paused": {"active", "finished"},
    "finished": set(),
}


def normalize_caller_id(raw: str, region: str = "US") -> str:
    try:
        num = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as e:
        raise UserError(f"caller ID {raw!r} is not a phone number: {unreadable(e)}") from None
    if not phonenumbers.is_valid_number(num):
        raise UserError(f"caller ID {raw!r} is not a valid number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


@dataclass(frozen=True)
class CampaignSettings:
    """Optional settings at creation; names match the ``Campaign`` columns."""

    region: str = "US"
    timezone: str = "America/New_York"
    pacing_mode: str = "predictive"
    abandon_target: float = 0.03
    max_attempts: int = 5
    dedupe_scope: str = "campaign"
    seller_name: str = ""
    callback_number: str = ""


def validate_settings(s: CampaignSettings) -> None:
    if problem := name_problem("seller name", s.seller_name):  # spoken to the people called, a line of its own
        raise UserError(problem)
    if s.pacing_mode not in PACING_MODES:
        raise UserError(f"pacing mode {s.pacing_mode!r} is not one of {', '.join(PACING_MODES)}")
    if s.dedupe_scope not in DEDUPE_SCOPES:
        raise UserError(f"dedupe scope {s.dedupe_scope!r} is not one of {', '.join(DEDUPE_SCOPES)}")
    if not 0 < s.abandon_target <= 0.03:
        raise UserError(f"abandon target {s.abandon_target} must be above 0 and at most 0.03 (the legal cap)")
    if s.max_attempts < 1:
        raise UserError("max attempts must be at least 1")
    if len(s.region) != 2:
        raise UserError(f"region {s.region!r} is not a two-letter region code such as US")
    if phonenumbers.country_code_for_region(s.region.upper()) == 0:
        raise UserError(f"region {s.region!r} is no country's region code (such as US or CA)")
    try:
        ZoneInfo(s.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"time zone {s.timezone!r} is not an IANA zone such as America/New_York") from None


def create_campaign(session: Session, name: str, caller_id: str, now: datetime,
                    settings: CampaignSettings | None = None) -> Campaign:
    settings = settings or CampaignSettings()
    name = plain_name("campaign name", name)
    validate_settings(settings)
    if session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise UserError(f"a campaign named {name!r} already exists")
    callback = normalize_caller_id(settings.callback_number, settings.region) if settings.callback_number else ""
    campaign = Campaign(
        name=name, caller_id=normalize_caller_id(caller_id, settings.region), region=settings.region.upper(),
        timezone=settings.timezone, status="draft", pacing_mode=settings.pacing_mode,
        abandon_target=settings.abandon_target, max_attempts=settings.max_attempts,
        dedupe_scope=settings.dedupe_scope, seller_name=settings.seller_name or name,
        callback_number=callback or normalize_caller_id(caller_id, settings.region),
        created_at=now, updated_at=now,
    )
    session.add(campaign)
    session.flush()
    for i, (code, label, contact, close, cb, dnc, final, completed) in enumerate(DEFAULT_DISPOSITIONS):
        session.add(Disposition(campaign_id=campaign.id, code=code, label=label, is_contact=contact,
                                is_close=close, is_callback=cb, is_dnc=dnc, is_final=final,
                                is_completed=completed, sort=i))
    session.flush()
    return campaign


def update_campaign(session: Session, campaign: Campaign, name: str, caller_id: str, settings: CampaignSettings,
                    now: datetime) -> Campaign:
    """Change a campaign's name, caller ID and settings (validated like ``create_campaign``); lists and leads stay."""
    name = plain_name("campaign name", name)
    validate_settings(settings)
    if name != campaign.name and session.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
        raise UserError(f"a campaign named {name!r} already exists")
    if campaign.status == "finished":
        raise UserError(f"campaign {campaign.name!r} is finished; it cannot be changed")
    region = settings.region.upper()
    campaign.caller_id = normalize_caller_id(caller_id, region)
    campaign.callback_number = (normalize_caller_id(settings.callback_number, region) if settings.callback_number
                                else campaign.caller_id)
    campaign.name, campaign.region, campaign.timezone = name, region, settings.timezone
    campaign.pacing_mode, campaign.abandon_target = settings.pacing_mode, settings.abandon_target
    campaign.max_attempts, campaign.dedupe_scope = settings.max_attempts, settings.dedupe_scope
    campaign.seller_name = settings.seller_name or name
    campaign.updated_at = now
    session.flush()
    return campaign


def get_campaign(session: Session, name: str) -> Campaign:
    campaign = session.scalar(select(Campaign).where(Campaign.name == name))
    if campaign is None:
        known = session.scalars(select(Campaign.name).order_by(Campaign.name).limit(10)).all()
        hint = (f" (known: {', '.join(known)})" if known
                else " (no campaigns yet: create one with `dialer campaigns create`)")
        raise UserError(f"no campaign named {name!r}{hint}")
    return campaign


def set_status(session: Session, campaign: Campaign, status: str, now: datetime) -> Campaign:
    if status not in CAMPAIGN_STATUSES:
        raise UserError(f"status {status!r} is not one of {', '.join(CAMPAIGN_STATUSES)}")
    if status != campaign.status and status not in TRANSITIONS[campaign.status]:
        raise UserError(f"campaign {campaign.name!r} is {campaign.status}; it cannot become {status}")
    campaign.status = status
    campaign.updated_at = now
    return campaign


@dataclass(frozen=True)
class CampaignRow:
    name: str
    status: str
    caller_id: str
    pacing_mode: str
    lists: int
    leads: int
    id: int = 0


def list_campaigns(session: Session) -> list[CampaignRow]:
    lists = select(LeadList.campaign_id, func.count().label("n")).group_by(LeadList.campaign_id).subquery()
    leads = select(Lead.campaign_id, func.count().label("n")).group_by(Lead.campaign_id).subquery()
    q = (select(Campaign, func.coalesce(lists.c.n, 0), func.coalesce(leads.c.n, 0))
         .outerjoin(lists, lists.c.campaign_id == Campaign.id)
         .outerjoin(leads, leads.c.campaign_id == Campaign.id)
         .order_by(Campaign.name))
    return [CampaignRow(c.name, c.status, c.caller_id, c.pacing_mode, nl, nd, id=c.id)
            for c, nl, nd in session.execute(q)]
