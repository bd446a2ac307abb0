"""Who a call was to, as the state caps count it: the called person (the number dialed, the lead's own calls, and
the lead's other numbers from when each became the lead's), read for the reconciliation and the reports, so they
count as the gate does (``campaigns.dispatch.service.call_times``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from campaigns.dispatch.models import Call
from campaigns.leads.models import LeadPhone
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
