"""The texts people sent to our numbers, as the compliance officer reads them: newest first, a page at a time.

A number's history (``dnc.reports.history``) shows the texts of a North American sender; a text from a short code,
another country or a name has no such number and would be seen nowhere, yet the officer must be able to show every
text and what was done with it (F14: a revocation "by reasonable means" may come in any words, from any sender). So
this listing reads ``inbound_messages`` itself, every sender, and says why a sender could not be acted on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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
    ended: Ended | None = None  # a STOP's request lifted since: when, and by which text or by whom


@dataclass(frozen=True)
class Ended:
    """How a texted STOP's request was lifted: at ``at``, by the START ``text`` of the same number, or else by the
    officer ``by`` with ``reason``."""

    at: datetime
    text: InboundMessage | None
    by: str
    reason: str


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
    rows = [TextRow(m, sender_note(m.sender, m.e164), _lifted(session, m) if m.action == "readmission" else [],
                    _ended(session, m) if m.action in ("revocation", "repeat") else None) for m in msgs]
    return TextsPage(rows, total, page, per_page)


def _lifted(session: Session, msg: InboundMessage) -> list[int]:
    """The requests (not their linked entries) the START lifted: ended by the caller at the moment it arrived."""
    return list(session.scalars(select(InternalEntry.id).where(
        InternalEntry.e164 == msg.e164, InternalEntry.removed_at == msg.received_at,
        InternalEntry.removed_by == "caller", InternalEntry.linked_to.is_(None)).order_by(InternalEntry.id)))


def _ended(session: Session, msg: InboundMessage) -> Ended | None:
    """Whether the request a STOP made was lifted since, when, and by what: the START of the same number that
    arrived at that moment (``sms._readmit`` ends the requests at the START's own time), else the officer."""
    entry = session.get(InternalEntry, msg.entry_id) if msg.entry_id else None
    if entry is None or entry.removed_at is None:
        return None
    start = session.scalar(select(InboundMessage).where(
        InboundMessage.e164 == entry.e164, InboundMessage.action == "readmission",
        InboundMessage.received_at == entry.removed_at).order_by(InboundMessage.id).limit(1))
    return Ended(entry.removed_at, start, entry.removed_by or "", entry.removal_reason or "")
