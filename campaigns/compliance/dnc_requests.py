"""A do-not-call request as the campaigns see it: onto the internal DNC list, and out of every queue at once.

``dnc.internal.add_request`` records the request (the gate refuses the number from then on). This service adds what
the campaigns owe the person besides. The request binds the person, not only the number (64.1200(d)(3), TSR
310.4(b)(1)(iii)(A)), and our lead records say which numbers are one person's (``persons.same_person``: the numbers
a lead holds, and those of every lead holding one of them): each of those gets an internal DNC entry of its own in
the request's scope, linked to it (``linked_to``) and with its ledger record, so the gate, the import scrub, the
funnel and the reconciliation refuse it as they refuse the number named. Then every open callback to any of the
person's numbers is cancelled and listed with the reason, and the leads holding any of them (as their number or
among their other phones) that were still waiting close as ``dnc`` in the request's scope. Every path that takes a
DNC request (an agent's DNC disposition, the press-9 opt-out, a texted STOP, the console, the CLI) goes through
here. A lead found later to hold a listed number (an alternate number the scrub refused for it) binds its own
numbers from that moment (``bind_lead``), and a revocation of consent reaches the person's other numbers too
(``revoke_consent``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from campaigns.callbacks.service import cancel_for_number
from campaigns.compliance.persons import holding, same_person
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.leads.models import Lead, LeadPhone
from dnc import consent, internal
from dnc.reasons import Reason, stored
from dnc.tables import Consent, InternalEntry


def record_request(session: Session, e164: str, *, scope: str = "company", campaign: int | None = None,
                   channel: str, received_at: datetime, added_by: str, source_ref: str = "", reason: str = "",
                   recorded_at: datetime | None = None, effective_at: datetime | None = None) -> InternalEntry:
    """``dnc.internal.add_request`` (same arguments) for the number and, linked, for the person's other numbers;
    then cancel their callbacks and close their waiting leads in scope. Returns the request's own entry."""
    entry = internal.add_request(session, e164, scope=scope, campaign=campaign, channel=channel,
                                 received_at=received_at, added_by=added_by, source_ref=source_ref, reason=reason,
                                 recorded_at=recorded_at, effective_at=effective_at)
    numbers = [e164, *_link(session, entry, same_person(session, [e164]), entry.effective_at, e164,
                            received_at=received_at, recorded_at=entry.recorded_at)]
    _stop(session, numbers, entry, entry.effective_at, f"do-not-call request #{entry.id} ({channel})")
    return entry


def repeat_request(session: Session, entry: InternalEntry, e164: str, *, at: datetime, by: str,
                   why: str) -> None:
    """The person asked again while ``entry`` (their request) is in force: honour it again without a new request.
    Consent and EBRs recorded since are revoked (for the number and the same person's numbers: each revocation is
    the person's), open callbacks cancelled and waiting leads closed, in the request's scope."""
    numbers = [e164, *same_person(session, [e164])]
    for number in numbers:
        consent.revoke(session, number, at=at, by=by, missing_ok=True,
                       reason=f"{why}: repeats do-not-call request #{entry.id}"
                              + ("" if number == e164 else f" (same person as {e164})"))
    _stop(session, numbers, entry, at, f"do-not-call request #{entry.id} ({entry.channel}), asked again")


def _link(session: Session, entry: InternalEntry, person: dict[str, tuple[int, str]], at: datetime, named: str,
          *, received_at: datetime, recorded_at: datetime, added_by: str | None = None) -> list[str]:
    """List each of the person's numbers not listed in ``entry``'s scope yet, linked to the request ``entry``
    follows from; returns every number of ``person``."""
    root = entry.linked_to or entry.id
    in_scope = entry.campaign_id if entry.scope == "campaign" else None
    for number, (lead, via) in sorted(person.items()):
        if internal.active(session, number, in_scope, at):
            continue  # already listed wherever this request reaches
        internal.add_request(session, number, scope=entry.scope, campaign=entry.campaign_id, channel=entry.channel,
                             received_at=received_at, recorded_at=recorded_at, effective_at=at,
                             added_by=added_by or entry.added_by, source_ref=entry.source_ref,
                             reason=f"same person as {named} (request #{root}): lead #{lead} lists {number} and "
                                    f"{via}", linked_to=root)
    return list(person)


def _stop(session: Session, numbers: Iterable[str], entry: InternalEntry, at: datetime, why: str) -> None:
    """Cancel the numbers' open callbacks and close the waiting leads holding any of them, in ``entry``'s scope,
    at ``at``."""
    numbers = sorted(set(numbers))
    for number in numbers:
        cancel_for_number(session, number, why, at, campaign_id=entry.campaign_id if entry.scope == "campaign"
                          else None)
    # the person asked, not the number: a lead holding one among its other phones stops too (it would move on to it)
    same_person_leads = or_(holding(session, numbers), Lead.id.in_(select(LeadPhone.lead_id).where(
        LeadPhone.phone.in_(numbers))))
    q = select(Lead).where(same_person_leads, Lead.status.in_(CALLABLE_STATUSES))
    if entry.scope == "campaign":
        q = q.where(Lead.campaign_id == entry.campaign_id)
    for lead in session.scalars(q.with_for_update()):
        lead.status, lead.last_outcome, lead.next_attempt_at = "dnc", "dnc", None
        lead.callback_at, lead.callback_agent_id, lead.updated_at = None, None, at
        lead.suppression = stored([Reason("internal_dnc", why)])
    session.flush()


def bind_lead(session: Session, lead: Lead, listed: str, at: datetime, added_by: str) -> list[InternalEntry]:
    """``lead`` turned out to hold ``listed``, a number on the internal DNC list where the lead is called (an
    alternate number the scrub refused): it is the person who asked, so its numbers, and theirs by our records,
    are listed from ``at``, linked to the request, and the leads holding them close. Returns the requests found."""
    requests = internal.active(session, listed, lead.campaign_id, at)
    mine = {lead.phone, *session.scalars(select(LeadPhone.phone).where(LeadPhone.lead_id == lead.id))}
    person = {n: (lead.id, listed) for n in mine} | same_person(session, mine)
    person.pop(listed, None)
    for entry in requests:
        numbers = _link(session, entry, person, at, listed, received_at=at, recorded_at=at, added_by=added_by)
        _stop(session, [*numbers, listed], entry, at, f"do-not-call request #{entry.linked_to or entry.id} "
                                                      f"({entry.channel}): same person as {listed}")
    return requests


def revoke_consent(session: Session, e164: str, *, at: datetime, by: str, reason: str,
                   campaign: int | None = None) -> list[Consent]:
    """Revoke the consent and EBRs in force for ``e164`` (one campaign's only, when given) and, since a revocation
    is the person's, those of the person's other numbers (``same_person``), each with its ledger record naming the
    link. A UserError when none of them has any in force."""
    from dnc.errors import UserError

    gone = consent.revoke(session, e164, at=at, by=by, reason=reason, campaign=campaign, missing_ok=True)
    for number, (lead, via) in sorted(same_person(session, [e164]).items()):
        gone += consent.revoke(session, number, at=at, by=by, campaign=campaign, missing_ok=True,
                               reason=f"{reason} (same person as {e164}: lead #{lead} lists {number} and {via})")
    if not gone:
        raise UserError(f"{e164} has no consent or EBR in force, nor any other number of the same person")
    return gone
