"""A campaign's dispositions: the defaults every campaign starts with plus the campaign's own.

Dispositions are data with flags (contact, close, callback, DNC request, final, completed) that reports and the
lead's next state read; a campaign adds its own (e.g. "Appointment set", a close) and may relabel or re-flag them.
The flags must agree with each other, so a disposition can never mean two contradictory things.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Disposition
from dnc.errors import UserError

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,31}$")


@dataclass(frozen=True)
class Flags:
    is_contact: bool = True
    is_close: bool = False
    is_callback: bool = False
    is_dnc: bool = False
    is_final: bool = False
    is_completed: bool = False


def check_flags(f: Flags) -> None:
    """Refuse contradictions: what a disposition does to the lead and to the reports must be one thing."""
    if f.is_close and not f.is_contact:
        raise UserError("a close is a conversation with the customer: it must also count as a contact")
    if f.is_close and not f.is_final:
        raise UserError("a close ends the lead: it must also be final")
    if f.is_dnc and not f.is_final:
        raise UserError("a do-not-call request ends the lead: it must also be final")
    if f.is_callback and (f.is_final or f.is_close or f.is_dnc):
        raise UserError("a callback keeps the lead open: it cannot be final, a close or a DNC request")


def list_dispositions(session: Session, campaign_id: int) -> list[Disposition]:
    return list(session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id)
                                .order_by(Disposition.sort, Disposition.id)))


def add_disposition(session: Session, campaign_id: int, code: str, label: str, flags: Flags) -> Disposition:
    code = code.strip().upper()
    label = label.strip()
    if not CODE.match(code):
        raise UserError("code must be 1-32 capital letters, digits or _ (e.g. APPT)")
    if not label:
        raise UserError("label is empty")
    check_flags(flags)
    if session.scalar(select(Disposition.id).where(Disposition.campaign_id == campaign_id,
                                                   Disposition.code == code)) is not None:
        raise UserError(f"code {code} is already a disposition of this campaign")
    last = session.scalar(select(func.max(Disposition.sort)).where(Disposition.campaign_id == campaign_id))
    row = Disposition(campaign_id=campaign_id, code=code, label=label[:120], sort=(last or 0) + 1,
                      **flags.__dict__)
    session.add(row)
    session.flush()
    return row


def update_disposition(session: Session, campaign_id: int, code: str, label: str, flags: Flags) -> Disposition:
    row = session.scalar(select(Disposition).where(Disposition.campaign_id == campaign_id, Disposition.code == code))
    if row is None:
        raise UserError(f"no disposition {code!r} in this campaign")
    label = label.strip()
    if not label:
        raise UserError("label is empty")
    check_flags(flags)
    row.label = label[:120]
    for k, v in flags.__dict__.items():
        setattr(row, k, v)
    session.flush()
    return row
