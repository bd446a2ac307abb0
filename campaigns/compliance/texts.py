"""The texts people sent to our numbers, as the compliance officer reads them: newest first, a page at a time.

A number's history (``dnc.reports.history``) shows the texts of a North American sender; a text from a short code,
another country or a name has no such number and would be seen nowhere, yet the officer must be able to show every
text and what was done with it (F14: a revocation "by reasonable means" may come in any words, from any sender). So
this listing reads ``inbound_messages`` itself, every sender, and says why a sender could not be acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.compliance.models import InboundMessage
from dnc.tables import InternalEntry

PER_PAGE = 50


@dataclass(frozen=True)
class TextRow:
    message: InboundMessage
    sender_note: str  # why the sender has no North American number ("" when it has one)
    lifted: list[int] = field(default_factory=list)  # the requests a START lifted


@dataclass(frozen=True)
class TextsPage:
    rows: list[TextRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def sender_note(sender: str, e164: str | None) -> str:
    """Why a text's sender is not a North American number we act on, in words; "" when it is one."""
    if e164:
        return ""
    raw = sender.strip()
    digits = raw.removeprefix("+")
    if raw.isdigit() and 3 <= len(raw) <= 8:
        return "short code"
    if digits.isdigit():
        return "not a valid North American number" if raw.startswith("+1") else "outside North America"
    return "not a phone number"


def received(session: Session, page: int = 1, per_page: int = PER_PAGE) -> TextsPage:
    """One page of the texts received, newest first (every sender)."""
    total = session.scalar(select(func.count()).select_from(InboundMessage)) or 0
    page = max(1, page)
    msgs = session.scalars(select(InboundMessage).order_by(InboundMessage.received_at.desc(),
                                                           InboundMessage.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    rows = [TextRow(m, sender_note(m.sender, m.e164), _lifted(session, m) if m.action == "readmission" else [])
            for m in msgs]
    return TextsPage(rows, total, page, per_page)


def _lifted(session: Session, msg: InboundMessage) -> list[int]:
    """The requests (not their linked entries) the START lifted: ended by the caller at the moment it arrived."""
    return list(session.scalars(select(InternalEntry.id).where(
        InternalEntry.e164 == msg.e164, InternalEntry.removed_at == msg.received_at,
        InternalEntry.removed_by == "caller", InternalEntry.linked_to.is_(None)).order_by(InternalEntry.id)))
