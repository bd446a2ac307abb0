"""Lead recycling: leads left in ``dialing`` with no live call go back into the queue.

A lead is ``dialing`` from its claim until its call's outcome (or the agent's disposition) moves it on. Two things
can strand it there: an agent who talked to the customer and never recorded a disposition (logged out, browser
closed), or a process that died between steps. Without this job such a lead is never dialed again and never
counted as finished. The periodic job (``dialer.jobs.scheduler``) returns each one to the queue by the campaign's own
retry rules, the same ``campaigns.dispatch.rules`` the dial loop applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import LeadChange, RetryRules, after_outcome, apply
from campaigns.leads.models import Lead

UNDISPOSITIONED_AFTER_S = 30 * 60  # an agent's wrap never lasts this long: the disposition is not coming


@dataclass
class RecycleReport:
    undispositioned: int = 0  # talked to an agent, no disposition: retried like a contact without result
    orphaned: int = 0  # no call at all (a process died between claim and dial): attempt given back
    ended: int = 0  # the call ended but the lead was never moved on: the call's outcome decides
    leads: list[int] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"undispositioned": self.undispositioned, "orphaned": self.orphaned, "ended": self.ended,
                "leads": self.leads[:100]}


def stranded(session: Session, limit: int = 1000) -> list[int]:
    """Leads in ``dialing`` with no live call: the candidates (reads only; ``recycle`` checks each again)."""
    return list(session.scalars(select(Lead.id).where(Lead.status == "dialing", ~_live()).order_by(Lead.id)
                                .limit(limit)))


def _live():
    return exists().where(Call.lead_id == Lead.id, Call.ended_at.is_(None))


def recycle(session: Session, now: datetime, stale_after_s: float = UNDISPOSITIONED_AFTER_S,
            limit: int = 1000, among: list[int] | None = None) -> RecycleReport:
    """Return stranded ``dialing`` leads (no live call, last call over for ``stale_after_s``) to the queue.
    ``among``: only these leads (found by ``stranded`` without a lock), each checked again here."""
    report = RecycleReport()
    q = select(Lead).where(Lead.status == "dialing", ~_live())
    if among is not None:
        q = q.where(Lead.id.in_(among))
    leads = session.scalars(q.order_by(Lead.id).limit(limit).with_for_update(skip_locked=True, of=Lead)).all()
    cutoff = now - timedelta(seconds=stale_after_s)
    rules_of: dict[int, RetryRules] = {}
    for lead in leads:
        last = session.scalar(select(Call).where(Call.lead_id == lead.id).order_by(Call.id.desc()).limit(1))
        if last is not None and (last.ended_at is None or last.ended_at > cutoff or last.disposition_code):
            continue  # still in wrap, or moved on by a disposition being written right now
        if last is None and lead.updated_at > cutoff:
            continue
        if lead.campaign_id not in rules_of:
            rules_of[lead.campaign_id] = RetryRules.of(session.get(Campaign, lead.campaign_id))
        rules = rules_of[lead.campaign_id]
        if last is None:
            change = LeadChange("retry" if lead.attempts > 1 else "new", now, lead.last_outcome, attempts_delta=-1)
            report.orphaned += 1
        elif last.connected_at is not None:
            change = after_outcome(rules, lead.attempts, "completed", lead.last_outcome, now, connected=False)
            report.undispositioned += 1
        else:
            change = after_outcome(rules, lead.attempts, last.outcome or "no_answer", lead.last_outcome, now)
            report.ended += 1
        if change is not None:
            apply(lead, change, now)
            report.leads.append(lead.id)
    session.flush()
    return report
