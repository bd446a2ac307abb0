"""Texts people send to our numbers: a STOP is a do-not-call request and a revocation of consent (F14).

The carrier's webhook (``web/twilio``, ``/twilio/sms``) hands each inbound text here. It is kept once per carrier
message id (a retried webhook changes nothing twice) with a ledger record of what it caused, so the compliance
officer can show every text and what was done with it. A text using a revocation word (``dnc.revocation``) is
recorded as a company-wide do-not-call request on the sender's number through ``record_request`` (channel "sms"):
the internal DNC entry and its ledger record, the consent and EBRs revoked (every scope: a company request is
wider than revoke-all needs on any date), open callbacks cancelled and waiting leads closed. Anything else changes
nothing; a person reads it (it may still be a revocation "by reasonable means" in other words).

A STOP while the number's own texted STOP request is in force is a repeat of that request (action ``repeat``, its
``entry_id`` the request): honoured again at once (``repeat_request``: the consent recorded since is revoked, on
the same person's numbers too, callbacks cancelled, waiting leads closed) and recorded with its ledger record
(``repeat_of``), but not a second request: the list holds one entry and the SLA report counts it once.

A START (``opt_in_words``, the word alone) withdraws what the sender's own texted STOPs made, and only that: the
requests recorded from texts of the same number (``InboundMessage.entry_id``), with the same person's numbers they
listed, are lifted through ``dnc.internal.end``, each with its ``internal_remove`` record. A request made by phone,
web, mail or entered by the officer (even one marked as received by text) is not the text's to undo, nor is an
entry listing the number because another number texted STOP. The consent a STOP revoked stays revoked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.compliance.dnc_requests import record_request, repeat_request
from campaigns.compliance.models import InboundMessage
from dnc import internal, ledger
from dnc.errors import UserError
from dnc.numbers import to_e164
from dnc.revocation import opt_in_word, revocation_word
from dnc.tables import InternalEntry

BODY_MAX = 1600  # the longest text a carrier delivers (ten concatenated segments)


def _sender_e164(sender: str) -> str | None:
    """The sender as E.164 when it is a North American number (the carrier sends "+1..."; a short code, another
    country's number or a name is not one, and our lists hold only North American numbers)."""
    if not sender.startswith("+1"):
        return None
    try:
        return to_e164(sender)
    except UserError:
        return None


def receive(session: Session, *, provider: str, message_sid: str, sender: str, to: str, body: str,
            now: datetime, add_to_dnc: Callable[..., object] = record_request) -> tuple[InboundMessage, bool]:
    """Keep one inbound text and act on it (in the caller's transaction); (the message, whether it was new)."""
    found = session.scalar(select(InboundMessage).where(InboundMessage.provider == provider,
                                                        InboundMessage.message_sid == message_sid))
    if found is not None:
        return found, False
    e164 = _sender_e164(sender.strip())
    word = revocation_word(body)
    opt_in = None if word else opt_in_word(body)
    action = "unreadable_sender" if (word or opt_in) and not e164 else "revocation" if word else "none"
    msg = InboundMessage(provider=provider, message_sid=message_sid, sender=sender[:64], e164=e164,
                         to_number=to[:64], body=body[:BODY_MAX], received_at=now, action=action,
                         word=(word or opt_in or "")[:40])
    try:
        with session.begin_nested():
            session.add(msg)
            session.flush()
    except IntegrityError:  # the same message, posted again at the same moment, was kept first
        return session.scalar(select(InboundMessage).where(InboundMessage.provider == provider,
                                                           InboundMessage.message_sid == message_sid)), False
    standing = _texted_request(session, e164) if msg.action == "revocation" else None
    if standing is not None:  # the same request again: honoured again, recorded, not counted as a new request
        msg.action, msg.entry_id = "repeat", standing.id
        repeat_request(session, standing, e164, at=now, by="caller",
                       why=f"texted {body.strip()[:200]!r} to {to} again ({provider} message {message_sid})")
    elif msg.action == "revocation":
        entry = add_to_dnc(session, e164, scope="company", campaign=None, channel="sms", received_at=now,
                           added_by="caller", source_ref=f"{provider}-sms:{message_sid}"[:200],
                           reason=f"texted {body.strip()[:200]!r} to {to}")
        msg.entry_id = getattr(entry, "id", None)
    lifted: list[int] = []
    if opt_in and e164:
        lifted = _readmit(session, msg, e164)
    ledger.append(session, "sms_inbound", at=now, actor="caller", e164=e164,
                  payload={"message_sid": message_sid, "from": sender[:64], "to": to[:64], "body": msg.body,
                           "action": msg.action, "word": msg.word, "entry_id": msg.entry_id,
                           **({"repeat_of": msg.entry_id} if msg.action == "repeat" else {}),
                           **({"lifted": lifted} if opt_in else {})})
    session.flush()
    return msg, True


def _texted_request(session: Session, e164: str | None) -> InternalEntry | None:
    """The company-wide request in force that a text of ``e164`` itself made (not a phone or officer request, not
    an entry listing it for another number's text), if any: a new STOP from it is a repeat of that request."""
    if e164 is None:
        return None
    made_by_texts = select(InboundMessage.entry_id).where(InboundMessage.e164 == e164,
                                                          InboundMessage.action == "revocation",
                                                          InboundMessage.entry_id.is_not(None))
    return session.scalar(select(InternalEntry).where(
        InternalEntry.id.in_(made_by_texts), InternalEntry.e164 == e164, InternalEntry.channel == "sms",
        InternalEntry.scope == "company", InternalEntry.linked_to.is_(None), InternalEntry.removed_at.is_(None))
        .order_by(InternalEntry.id).limit(1).with_for_update())


def _readmit(session: Session, msg: InboundMessage, e164: str) -> list[int]:
    """Lift the requests in force that texts from ``e164`` made (and what they listed as the same person); the
    ids of the requests lifted, the first kept on ``msg``."""
    made_by_texts = select(InboundMessage.entry_id).where(InboundMessage.e164 == e164,
                                                          InboundMessage.action == "revocation",
                                                          InboundMessage.entry_id.is_not(None))
    requests = list(session.scalars(select(InternalEntry).where(
        InternalEntry.id.in_(made_by_texts), InternalEntry.e164 == e164, InternalEntry.channel == "sms",
        InternalEntry.removed_at.is_(None)).order_by(InternalEntry.id).with_for_update()))
    if not requests:
        return []
    internal.end(session, requests, removed_by="caller", at=msg.received_at,
                 reason=f"texted {msg.body.strip()[:200]!r} to {msg.to_number} ({msg.provider} message "
                        f"{msg.message_sid}): withdraws the do-not-call request the number's own text made")
    msg.action, msg.entry_id = "readmission", requests[0].id
    return [e.id for e in requests]
