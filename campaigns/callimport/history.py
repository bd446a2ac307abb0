"""What imported calls do besides being counted: the lead changes and DNC requests of calls placed here.

A team that switches dialers imports its history and must get the suppression, caps, lead states and reports it
would have had if this product had placed those calls:

- a DNC disposition puts the number on the company's internal DNC list (``campaigns.compliance.dnc_requests``,
  which also closes the number's waiting leads and cancels its callbacks), effective from the call: the other dialer
  honoured it then. The channel is ``agent`` (the person asked an agent) and the source names the file and line;
- every imported call is an attempt of its lead;
- a lead still waiting (``new`` or ``retry``) moves on through its imported calls newer than its last call here,
  by the rules the dial loop and the agents apply (``campaigns.dispatch.rules``): a sale closes it, another final
  disposition ends it, a DNC disposition makes it ``dnc``, no answer schedules a retry, the campaign's maximum
  attempts exhausts it. A connected call without a disposition is a contact without result, as the recycling
  job treats one here. Calls older than the lead's last call here only add attempts: the newer history decides.

The state call caps need nothing from here: they count every row of ``calls``, imported ones included.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign, Disposition
from campaigns.compliance.dnc_requests import record_request
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import DispositionFlags, RetryRules, after_disposition, after_outcome, apply
from campaigns.leads.models import Lead
from dnc import internal

WAITING = ("new", "retry")
CHUNK = 1000


@dataclass
class HistoryEffects:
    """What the import changed outside the calls table (part of the receipt)."""

    attempts: int = 0  # attempts added to matched leads
    leads_moved: dict[str, int] = field(default_factory=dict)  # new lead status -> leads
    dnc_requests: int = 0  # internal DNC entries recorded from DNC dispositions


def apply_history(session: Session, campaign: Campaign, after_id: int, source: str,
                  lines: dict[tuple[str, datetime], int], now: datetime) -> HistoryEffects:
    """Apply the campaign's calls imported in this run (ids above ``after_id``), a thousand leads at a time.

    ``lines`` maps (number, placed at) -> the file's line for the DNC dispositions (the request's source)."""
    flags = {d.code: DispositionFlags.of(d) for d in session.scalars(
        select(Disposition).where(Disposition.campaign_id == campaign.id))}
    mine = and_(Call.campaign_id == campaign.id, Call.imported.is_(True), Call.id > after_id)
    effects = HistoryEffects()
    moved: Counter[str] = Counter()
    rules = RetryRules.of(campaign)
    lead_ids = list(session.scalars(select(Call.lead_id).where(mine, Call.lead_id.is_not(None)).distinct()
                                    .order_by(Call.lead_id)))
    for i in range(0, len(lead_ids), CHUNK):  # id order: two imports never lock the same leads in crossed order
        chunk = lead_ids[i:i + CHUNK]
        calls: dict[int, list[Call]] = defaultdict(list)
        for c in session.scalars(select(Call).where(mine, Call.lead_id.in_(chunk))
                                 .order_by(Call.placed_at, Call.id)):
            calls[c.lead_id].append(c)
        leads = session.scalars(select(Lead).where(Lead.id.in_(chunk)).order_by(Lead.id).with_for_update()).all()
        for lead in leads:
            before = lead.status
            _replay(lead, calls[lead.id], flags, rules, now)
            effects.attempts += len(calls[lead.id])
            if lead.status != before:
                moved[lead.status] += 1
        session.flush()
        for obj in [*leads, *(c for cs in calls.values() for c in cs)]:
            session.expunge(obj)  # a history of millions of calls need not stay in memory
    dnc_codes = [code for code, f in flags.items() if f.is_dnc]
    if dnc_codes:
        for c in session.scalars(select(Call).where(mine, Call.disposition_code.in_(dnc_codes))
                                 .order_by(Call.placed_at, Call.id)):
            effects.dnc_requests += _dnc_request(session, c, c.disposition_code, source,
                                                 lines.get((c.phone, c.placed_at)), now)
    effects.leads_moved = dict(sorted(moved.items()))
    session.flush()
    return effects


def _replay(lead: Lead, calls: list[Call], flags: dict[str, DispositionFlags], rules: RetryRules,
            now: datetime) -> None:
    """Count the calls as the lead's attempts and, while it waits, move it on as each call would have here."""
    last_here = lead.last_called_at
    attempts = lead.attempts
    for c in calls:
        attempts += 1
        if lead.status in WAITING and (last_here is None or c.placed_at > last_here):
            at = c.dispositioned_at or c.ended_at or c.placed_at
            f = flags.get(c.disposition_code) if c.disposition_code else None
            if f is not None:  # no callback time comes with history: a callback disposition is a plain retry
                change = after_disposition(rules, attempts, replace(f, is_callback=False), None, at)
            else:
                change = after_outcome(rules, attempts, c.outcome or "no_answer", lead.last_outcome, at)
            lead.attempts = attempts
            apply(lead, change, now)
        if lead.last_called_at is None or c.placed_at > lead.last_called_at:
            lead.last_called_at = c.placed_at
    lead.attempts = attempts
    lead.updated_at = now


def _dnc_request(session: Session, call: Call, code: str, source: str, line: int | None, now: datetime) -> int:
    """The internal DNC entry of one imported DNC disposition, unless the company list already has the number."""
    at = call.dispositioned_at or call.ended_at or call.placed_at
    if any(e.scope == "company" for e in internal.active(session, call.phone, None, at)):
        return 0
    where = f"{source} line {line}" if line else source
    record_request(session, call.phone, scope="company", channel="agent", received_at=at, recorded_at=now,
                   effective_at=at, added_by=f"call import ({source})"[:120],
                   source_ref=f"import:{where}; call:{call.id}",
                   reason=f"disposition {code} on a call placed by another dialer ({where})")
    return 1
