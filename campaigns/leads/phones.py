"""Several phones per lead: work, mobile, home. The lead dials one number at a time (``leads.phone``, the number the
one-live-call rule, the gate and the reports see); after N failed attempts on it the lead moves to its next phone.

Alternate numbers come from the list file's own columns (kept as custom fields by the import, e.g. "Phone 2") or
are added one by one. They are scrubbed like an import (``dnc.scrub``): a suppressed alternate is not attached, so
a lead never moves onto a number it may not call, and the scrub leaves its ledger record. An alternate refused
because it is on the internal DNC list says the lead is the person who asked: its own numbers are listed from
then and it closes (``campaigns.compliance.dnc_requests.bind_lead``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.rules import LeadChange
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadPhone
from dnc.errors import UserError
from dnc.zones import candidate_zones

FAILURES = ("no_answer", "busy", "failed", "machine")  # attempts that did not reach the person
MAX_PHONES = 6


# Why the phone library could not read a number, in words (its own text, "(1) The string supplied did not seem to
# be a phone number.", reached the console's pages).
UNREADABLE = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "no country's calling code follows the +",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "it has no digits to read",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too few digits follow the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "it has too few digits",
    phonenumbers.NumberParseException.TOO_LONG: "it has too many digits",
}


def unreadable(e: phonenumbers.NumberParseException) -> str:
    """Why a number could not be read, in words."""
    return UNREADABLE.get(e.error_type, "it cannot be read as one")


def normalize(raw: str, region: str) -> str:
    try:
        num = phonenumbers.parse(str(raw), region)
    except phonenumbers.NumberParseException as e:
        raise UserError(f"{raw!r} is not a phone number: {unreadable(e)}") from None
    if not phonenumbers.is_valid_number(num):
        raise UserError(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def phones_of(session: Session, lead_id: int) -> list[LeadPhone]:
    return list(session.scalars(select(LeadPhone).where(LeadPhone.lead_id == lead_id).order_by(LeadPhone.position)))


@dataclass
class AttachResult:
    leads: int = 0  # leads that got at least one new number
    attached: int = 0
    already: int = 0  # the lead already had that number
    invalid: list[str] = field(default_factory=list)  # "lead 12: '555-12' is not a phone number"
    suppressed: dict[str, int] = field(default_factory=dict)  # scrub reason -> numbers not attached

    def as_dict(self) -> dict:
        return {"leads": self.leads, "attached": self.attached, "already": self.already,
                "invalid": len(self.invalid), "invalid_examples": self.invalid[:10], "suppressed": self.suppressed}


@dataclass(frozen=True)
class ScrubCandidate:
    """What the import's scrubber reads of a number (``campaigns.leadimport.scrub.LeadCandidate`` shape)."""

    e164: str
    state: str | None
    postal_code: str | None
    zones: tuple[str, ...]
    line: int = 0


def attach(session: Session, campaign: Campaign, pairs: list[tuple[Lead, list[str]]], now: datetime,
           operator: str, scrub: bool = True) -> AttachResult:
    """Give leads more numbers (after the ones they have), scrubbed first; all or nothing for the caller's
    transaction. ``pairs`` holds each lead with the raw numbers to add, in the order to try them."""
    from dnc.scrub import DncScrubber

    result = AttachResult()
    wanted: list[tuple[Lead, str]] = []
    for lead, raws in pairs:
        if lead.campaign_id != campaign.id:
            raise UserError(f"lead {lead.id} is not in campaign {campaign.name!r}")
        for raw in raws:
            if raw is None or not str(raw).strip():
                continue
            try:
                wanted.append((lead, normalize(str(raw).strip(), campaign.region)))
            except UserError as e:
                result.invalid.append(f"lead {lead.id}: {e}")
    scrubber = DncScrubber(None, campaign=campaign.id, at=now, operator=operator) if scrub and wanted else None
    candidates = [ScrubCandidate(p, lead.state, lead.postal_code, candidate_zones(p, lead.postal_code))
                  for lead, p in wanted]
    verdicts = scrubber.scrub(session, candidates) if scrubber else [()] * len(wanted)
    touched: set[int] = set()
    listed: list[tuple[Lead, str]] = []
    for (lead, phone), reasons in zip(wanted, verdicts, strict=True):
        if reasons:
            for r in reasons:
                result.suppressed[r] = result.suppressed.get(r, 0) + 1
            if "internal_dnc" in reasons:
                listed.append((lead, phone))
            continue
        rows = phones_of(session, lead.id)
        if not rows:
            rows = [LeadPhone(lead_id=lead.id, position=1, phone=lead.phone, failures=0, added_at=now)]
            session.add(rows[0])
        if phone in {r.phone for r in rows}:
            result.already += 1
            continue
        if len(rows) >= MAX_PHONES:
            result.invalid.append(f"lead {lead.id}: more than {MAX_PHONES} phones")
            continue
        session.add(LeadPhone(lead_id=lead.id, position=rows[-1].position + 1, phone=phone, failures=0,
                              added_at=now))
        session.flush()
        result.attached += 1
        touched.add(lead.id)
    result.leads = len(touched)
    if scrubber is not None:
        scrubber.record(session, list_ref=f"alternate phones for campaign {campaign.name}")
    if listed:
        from campaigns.compliance.dnc_requests import bind_lead

        for lead, phone in listed:
            bind_lead(session, lead, phone, now, operator)
    session.flush()
    return result


def attach_from_field(session: Session, campaign: Campaign, field_name: str, now: datetime, operator: str,
                      list_id: int | None = None) -> AttachResult:
    """Take alternate numbers from a custom field the import kept (a column such as "Phone 2"; matched without
    regard to case, spaces or underscores) for every waiting lead of the campaign (or one list)."""
    def key(s: str) -> str:
        return "".join(c for c in s.lower() if c.isalnum())

    want = key(field_name)
    if not want:
        raise UserError("--field: name the column that holds the other number, e.g. 'Phone 2'")
    q = select(Lead).where(Lead.campaign_id == campaign.id, Lead.status.not_in(FINAL_LEAD_STATUSES))
    if list_id is not None:
        q = q.where(Lead.list_id == list_id)
    pairs = []
    for lead in session.scalars(q.order_by(Lead.id).execution_options(yield_per=5000)):
        value = next((v for k, v in (lead.custom or {}).items() if key(k) == want), None)
        if value:
            pairs.append((lead, [str(value)]))
    if not pairs:
        raise UserError(f"no waiting lead of campaign {campaign.name!r} has a field {field_name!r}")
    return attach(session, campaign, pairs, now, operator)


def after_failure(session: Session, lead: Lead, reason: str, change: LeadChange, switch_after: int,
                  now: datetime) -> LeadChange:
    """Count a failed attempt on the lead's current phone; at ``switch_after`` failures (or when the carrier
    called the number invalid) move the lead to its next phone that still has attempts left. A lead already out
    of attempts (``exhausted``) stays so."""
    rows = phones_of(session, lead.id)
    if len(rows) < 2 or change.status == "exhausted":
        return change
    current = next((r for r in rows if r.phone == lead.phone), None)
    if current is None:
        return change
    current.failures += 1
    dead = change.status == "done" and reason == "failed"  # refused twice by the carrier: an invalid number
    if current.failures < switch_after and not dead:
        return change
    if dead:
        current.failures = max(current.failures, switch_after)  # never come back to it
    nxt = next((r for r in rows if r.position > current.position and r.failures < switch_after), None)
    if nxt is None:
        return change
    lead.phone = nxt.phone
    lead.timezones = ",".join(candidate_zones(nxt.phone, lead.postal_code))
    # a new number: what the carrier said about the old one ("failed" twice = invalid) must not carry over
    if dead:  # a number never tried: due now, not "done"
        return LeadChange("retry", now, "switched")
    return replace(change, last_outcome="switched")


def count_with_alternates(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count(func.distinct(LeadPhone.lead_id))).join(Lead, Lead.id == LeadPhone.lead_id)
                          .where(Lead.campaign_id == campaign_id)) or 0
