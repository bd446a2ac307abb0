"""The internal (entity-specific) DNC list: requests made to the seller, effective at once, removals audited.

A request binds the whole company (``scope="company"``) or one campaign; it is effective immediately for every
call in scope, must be honored within 10 business days (the deadline is stored so the SLA report can show
breaches when a request is entered late) and is kept at least 5 years. It also ends any EBR and revokes consent
for the number (F10, F14). Nothing is deleted: a removal stamps who, when and why, and is written to the ledger.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dnc import consent, ledger
from dnc.days import earliest_us_date
from dnc.errors import UserError
from dnc.numbers import check_e164
from dnc.rules import current_rules
from dnc.tables import InternalEntry

CHANNELS = ("agent", "keypress", "web", "sms", "email", "mail", "phone", "import")
SCOPES = ("company", "campaign")


def _us_holidays(year: int) -> dict:
    import holidays

    return holidays.US(years=year)


def add_business_days(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` business days (Monday-Friday, not a US federal holiday), same time of day, counted
    from the earliest US day of ``start`` (``dnc.days``): a request of a Thursday evening counts Friday as its
    first business day, though it is Friday in UTC."""
    first: date = earliest_us_date(start)
    d, left = first, days
    while left:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in _us_holidays(d.year):
            left -= 1
    return start + timedelta(days=(d - first).days)


def _plus_years(t: datetime, years: int) -> datetime:
    try:
        return t.replace(year=t.year + years)
    except ValueError:  # 29 February: kept to 1 March, never a day short of the years
        return t.replace(year=t.year + years, month=3, day=1)


def _check_scope(scope: str, campaign: int | None) -> None:
    if scope not in SCOPES:
        raise UserError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if scope == "campaign" and campaign is None:
        raise UserError("a campaign-scope DNC entry needs a campaign")
    if scope == "company" and campaign is not None:
        raise UserError("a company-scope DNC entry applies to every campaign; do not name one")


def add_request(session: Session, e164: str, *, scope: str = "company", campaign: int | None = None,
                channel: str, received_at: datetime, added_by: str, source_ref: str = "", reason: str = "",
                recorded_at: datetime | None = None, effective_at: datetime | None = None,
                linked_to: int | None = None) -> InternalEntry:
    """Record a do-not-call request; the gate refuses the number from ``effective_at`` on.

    ``linked_to`` names the request this entry follows from when the number is another of the same person's
    (``campaigns.compliance.dnc_requests``): listed like the request, but not counted as one in the SLA report.

    It revokes the number's consent and EBRs in its scope, and in every scope once the rules' ``revoke_all_from``
    day has come (F14: one revocation then covers every call the caller makes on consent).

    ``effective_at`` is ``received_at`` when the request is entered as it arrives; a request entered later (a
    letter typed in days after) is effective from ``recorded_at``, and the SLA report compares that with the
    honor deadline. History brought from another system that already honoured the request gives its own
    ``effective_at`` (not before ``received_at``).
    """
    check_e164(e164)
    _check_scope(scope, campaign)
    if channel not in CHANNELS:
        raise UserError(f"channel must be one of {', '.join(CHANNELS)}, not {channel!r}")
    if not added_by:
        raise UserError("a DNC request needs who added it (added_by)")
    recorded_at = recorded_at or received_at
    if effective_at is not None and effective_at < received_at:
        raise UserError("a DNC request cannot take effect before it was received")
    rules = current_rules()
    entry = InternalEntry(e164=e164, scope=scope, campaign_id=campaign, channel=channel, received_at=received_at,
                          recorded_at=recorded_at, effective_at=effective_at or max(received_at, recorded_at),
                          honor_deadline=add_business_days(received_at, rules.internal_honor_business_days),
                          retain_until=_plus_years(received_at, rules.internal_retention_years),
                          added_by=added_by[:120], source_ref=source_ref[:200], reason=reason[:400],
                          linked_to=linked_to)
    session.add(entry)
    session.flush()
    ledger.append(session, "internal_add", at=entry.effective_at, actor=added_by, e164=e164, campaign=campaign,
                  payload={"entry_id": entry.id, "scope": scope, "channel": channel,
                           "received_at": ledger._iso(received_at), "recorded_at": ledger._iso(recorded_at),
                           "honor_deadline": ledger._iso(entry.honor_deadline), "source_ref": entry.source_ref,
                           "reason": entry.reason, "linked_to": linked_to})
    revoke_all = rules.revoke_all_from is not None and entry.effective_at.date() >= rules.revoke_all_from
    consent.revoke(session, e164, at=entry.effective_at, by=added_by, campaign=None if revoke_all else campaign,
                   reason=f"do-not-call request #{entry.id} ({channel})", missing_ok=True)
    return entry


def remove(session: Session, e164: str, *, scope: str = "company", campaign: int | None = None, removed_by: str,
           reason: str, at: datetime) -> list[InternalEntry]:
    """End the active entries of that scope (a reason is required) and the entries linked to them; the request rows
    themselves stay. Returns every entry ended, the number's own first.

    An entry that lists another number of a person who asked (``linked_to``) is there because that request stands:
    removing it alone is refused with a message naming the number asked about, and removing that number lifts the
    linked entries with it, each with its own ledger record saying why (docs/compliance.md §2.6).
    """
    check_e164(e164)
    _check_scope(scope, campaign)
    if not reason or not reason.strip():
        raise UserError("removing a number from the internal DNC needs a reason")
    if not removed_by:
        raise UserError("removing a number from the internal DNC needs who removes it")
    q = select(InternalEntry).where(InternalEntry.e164 == e164, InternalEntry.scope == scope,
                                    InternalEntry.removed_at.is_(None))
    if campaign is not None:
        q = q.where(InternalEntry.campaign_id == campaign)
    found = list(session.scalars(q.order_by(InternalEntry.id).with_for_update()))
    if not found:
        where = f"campaign {campaign}" if scope == "campaign" else "the company"
        raise UserError(f"{e164} is not on the internal DNC list of {where}")
    for entry in found:
        request = session.get(InternalEntry, entry.linked_to) if entry.linked_to is not None else None
        if request is not None and request.removed_at is None:
            raise UserError(f"{e164} is on the internal DNC list as the same person as {request.e164} (request "
                            f"#{request.id}); remove {request.e164} to lift the request and every number linked to "
                            "it")
    return end(session, found, removed_by=removed_by, reason=reason, at=at)


def end(session: Session, entries: list[InternalEntry], *, removed_by: str, reason: str,
        at: datetime) -> list[InternalEntry]:
    """End ``entries`` at ``at`` and the active entries linked to them, each with its ``internal_remove`` record
    (a linked one's reason names the request it follows from); returns every entry ended, ``entries`` first."""
    reason = reason.strip()
    ended = []
    for entry in entries:
        ended.append(_end(session, entry, removed_by, reason, at, None))
        for linked in session.scalars(select(InternalEntry).where(
                InternalEntry.linked_to == entry.id, InternalEntry.removed_at.is_(None))
                .order_by(InternalEntry.id).with_for_update()):
            ended.append(_end(session, linked, removed_by, f"request #{entry.id} for {entry.e164} removed, same "
                                                           f"person: {reason}", at, entry.id))
    session.flush()
    return ended


def _end(session: Session, entry: InternalEntry, removed_by: str, reason: str, at: datetime,
         linked_to: int | None) -> InternalEntry:
    entry.removed_at, entry.removed_by, entry.removal_reason = at, removed_by[:120], reason[:400]
    payload: dict = {"entry_id": entry.id, "scope": entry.scope, "reason": entry.removal_reason}
    if linked_to is not None:
        payload["linked_to"] = linked_to
    ledger.append(session, "internal_remove", at=at, actor=removed_by, e164=entry.e164, campaign=entry.campaign_id,
                  payload=payload)
    return entry


def active(session: Session, e164: str, campaign: int | None, at: datetime) -> list[InternalEntry]:
    """Entries in force at ``at`` for a call of ``campaign``: company-wide ones and that campaign's own."""
    scope = InternalEntry.scope == "company"
    if campaign is not None:
        scope = or_(scope, InternalEntry.campaign_id == campaign)
    return list(session.scalars(select(InternalEntry).where(
        InternalEntry.e164 == e164, InternalEntry.effective_at <= at, scope,
        or_(InternalEntry.removed_at.is_(None), InternalEntry.removed_at > at)).order_by(InternalEntry.id)))
