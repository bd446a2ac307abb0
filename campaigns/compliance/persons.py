"""Who a number or a call belongs to, as far as our lead records say.

- The state caps count calls to the called person (the number dialed, the lead's own calls, and the lead's other
  numbers from when each became the lead's): read here for the reconciliation and the reports, so they count as the
  gate does (``campaigns.dispatch.service.call_times``).
- A do-not-call request or a revocation binds the person (``same_person``): a lead record is one person, so the
  numbers a lead holds are one person's, and a number two leads hold makes them one person.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadPhone
from dnc.reconcile import CallRecord, PersonCalls


def lead_numbers(session: Session, leads: Iterable[int]) -> dict[int, tuple[tuple[str, datetime], ...]]:
    """Each lead's numbers with when each became the lead's (``CallRecord.numbers``)."""
    out: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    wanted = sorted(set(leads))
    for k in range(0, len(wanted), 1000):
        for lead, phone, added in session.execute(select(LeadPhone.lead_id, LeadPhone.phone, LeadPhone.added_at)
                                                  .where(LeadPhone.lead_id.in_(wanted[k:k + 1000]))):
            out[lead].append((phone, added))
    return {lead: tuple(v) for lead, v in out.items()}


def person_calls(session: Session, capped: Sequence[CallRecord], lo: datetime, hi: datetime
                  ) -> tuple[PersonCalls, dict[int, tuple]]:
    """Every call in [lo, hi] to the called persons of the capped calls (their numbers, their leads' own calls and
    their leads' other numbers), and those leads' numbers."""
    person = PersonCalls()
    leads = sorted({c.lead for c in capped if c.lead is not None})
    numbers = lead_numbers(session, leads)
    wanted = sorted({c.e164 for c in capped} | {n for v in numbers.values() for n, _ in v})
    window = and_(Call.placed_at >= lo, Call.placed_at <= hi)
    for column, keys in ((Call.phone, wanted), (Call.lead_id, leads)):
        for k in range(0, len(keys), 1000):
            for phone, lead, placed, cid in session.execute(select(Call.phone, Call.lead_id, Call.placed_at, Call.id)
                                                            .where(column.in_(keys[k:k + 1000]), window)):
                person.add(phone, lead, placed, cid)
    return person, numbers


def holding(session: Session, numbers: Sequence[str]):
    """SQL: a lead whose number is one of ``numbers``, in any campaign. Leads are indexed by campaign and number
    only, so the campaigns are named: the look-up then walks that index instead of reading every lead."""
    return and_(Lead.campaign_id.in_(list(session.scalars(select(Campaign.id)))), Lead.phone.in_(numbers))


def same_person(session: Session, numbers: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Every other number our leads say belongs to the person at ``numbers``: number -> (the lead that holds it,
    a number of the person that lead also holds). Followed to the end: a lead holding any of the person's numbers
    is the person, so its numbers are theirs too, in every list and campaign (a lead's number, or one of its other
    phones)."""
    known = set(numbers)
    found: dict[str, tuple[int, str]] = {}
    seen_leads: set[int] = set()
    frontier = sorted(known)
    while frontier:
        via: dict[int, str] = {}
        for k in range(0, len(frontier), 1000):
            part = frontier[k:k + 1000]
            for lead, phone in session.execute(select(Lead.id, Lead.phone).where(holding(session, part)).union(
                    select(LeadPhone.lead_id, LeadPhone.phone).where(LeadPhone.phone.in_(part)))):
                if lead not in seen_leads:
                    via.setdefault(lead, phone)
        seen_leads.update(via)
        leads = sorted(via)
        nxt: set[str] = set()
        for k in range(0, len(leads), 1000):
            part = leads[k:k + 1000]
            for lead, phone in session.execute(select(Lead.id, Lead.phone).where(Lead.id.in_(part)).union(
                    select(LeadPhone.lead_id, LeadPhone.phone).where(LeadPhone.lead_id.in_(part)))):
                if phone not in known:
                    known.add(phone)
                    found[phone] = (lead, via[lead])
                    nxt.add(phone)
        frontier = sorted(nxt)
    return found
