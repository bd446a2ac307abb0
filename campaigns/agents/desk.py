"""What an agent's screen shows, read in one place: the seat, the call, the popped lead and its history, the
dispositions of the campaign, and the callbacks the agent scheduled.

Reads only; every change goes through ``campaigns.agents.service`` (state machine, dispositions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.models import Callback
from campaigns.callbacks.service import REPLACED
from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList


@dataclass
class Desk:
    agent: Agent
    campaign: Campaign | None
    call: Call | None = None
    lead: Lead | None = None
    list_name: str | None = None
    history: list[dict] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)


def desk(session: Session, agent_id: int) -> Desk:
    """The seat; while talking or in wrap, the call it is about with its lead, history and dispositions."""
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise LookupError(f"no agent {agent_id}")
    campaign = session.get(Campaign, agent.campaign_id) if agent.campaign_id else None
    d = Desk(agent, campaign)
    if agent.state not in ("talking", "wrap"):
        return d
    call = session.get(Call, agent.call_id) if agent.call_id else None
    if call is None and agent.state == "wrap":  # wrap is about the last call connected to the agent
        call = session.scalar(select(Call).where(Call.agent_id == agent.id, Call.connected_at.is_not(None))
                              .order_by(Call.connected_at.desc(), Call.id.desc()).limit(1))
    if call is None:
        return d
    d.call = call
    d.dispositions = dispositions_of(session, call.campaign_id)
    if call.lead_id is not None:
        d.lead = session.get(Lead, call.lead_id)
        d.list_name = session.scalar(select(LeadList.name).where(LeadList.id == d.lead.list_id)) if d.lead else None
        d.history = lead_history(session, call.lead_id, exclude_call_id=call.id)
    return d


def dispositions_of(session: Session, campaign_id: int) -> list[Disposition]:
    """The campaign's dispositions in the order the agent's form shows them."""
    return list(session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id)
                                .order_by(Disposition.sort, Disposition.id)))


def last_call(session: Session, agent_id: int) -> Call | None:
    """The call the agent is on, else the last one connected to them: what a "caller ID shown as spam" flag is
    about (the customer often says so at the end of the call, or the agent hears it after)."""
    agent = session.get(Agent, agent_id)
    if agent is not None and agent.call_id is not None:
        current = session.get(Call, agent.call_id)
        if current is not None:
            return current
    return session.scalar(select(Call).where(Call.agent_id == agent_id, Call.connected_at.is_not(None))
                          .order_by(Call.connected_at.desc(), Call.id.desc()).limit(1))


def unfinished(session: Session, agent_id: int, now: datetime, limit: int = 5) -> list[tuple[Call, Lead]]:
    """The calls this seat left without a disposition when it moved on (the campaign's wrap-up limit, the manager
    taking it off the floor), newest first, while a disposition still moves their lead on: the lead is still
    ``dialing`` on that very call (not recycled nor dialed again). Not the seat's current call, nor the one its
    wrap-up is about: those have the seat's own form. Why: the agent had the customer's words half typed; the
    disposition and the notes belong on that call, not in the agent's memory (``web.agent_unfinished``). Only the
    last day's calls are looked at: the recycle job returns a stranded lead to the queue long before."""
    agent = session.get(Agent, agent_id)
    if agent is None or agent.simulated:
        return []
    on_desk = desk(session, agent_id).call
    newer = Call.__table__.alias("newer")
    q = (select(Call, Lead).join(Lead, Lead.id == Call.lead_id)
         .where(Call.agent_id == agent_id, Call.connected_at >= now - timedelta(days=1),
                Call.disposition_code.is_(None),
                Lead.status == "dialing",
                ~select(newer.c.id).where(newer.c.lead_id == Call.lead_id, newer.c.id > Call.id).exists())
         .order_by(Call.connected_at.desc(), Call.id.desc()).limit(limit + 2))
    skip = {agent.call_id, on_desk.id if on_desk is not None else None}
    return [(c, lead) for c, lead in session.execute(q).all() if c.id not in skip][:limit]


def lead_history(session: Session, lead_id: int, exclude_call_id: int | None = None, limit: int = 50) -> list[dict]:
    """The lead's earlier calls, newest first: when, how it ended, who spoke, the disposition and the notes."""
    q = (select(Call, Agent.name).outerjoin(Agent, Agent.id == Call.agent_id).where(Call.lead_id == lead_id)
         .order_by(Call.placed_at.desc()).limit(limit))
    return [{"placed_at": c.placed_at, "attempt": c.attempt, "outcome": c.outcome or c.status, "agent": name,
             "disposition": c.disposition_code, "notes": c.notes, "callback_at": c.callback_at}
            for c, name in session.execute(q) if c.id != exclude_call_id]


def my_callbacks(session: Session, agent_id: int, now: datetime, limit: int = 200) -> list[dict]:
    """The callbacks this agent scheduled (personal or for anyone) and those kept for them personally, with where
    each stands now: due, waiting, missed (in the campaign's missed queue), dialed or cancelled (with why). A
    callback a manager moved shows as its newer row. Open ones first, soonest first; then the closed ones."""
    scheduled = (select(Callback.id).join(Call, and_(Call.lead_id == Callback.lead_id,
                                                     Call.dispositioned_at == Callback.created_at))
                 .where(Call.agent_id == agent_id))
    ids = set(session.scalars(select(Callback.id).where(Callback.agent_id == agent_id)
                              .order_by(Callback.id.desc()).limit(limit)))
    ids |= set(session.scalars(scheduled.order_by(Callback.id.desc()).limit(limit)))
    rows = {cb.id: cb for cb in session.scalars(select(Callback).where(Callback.id.in_(ids)))} if ids else {}
    replaced = [cb for cb in rows.values() if cb.status == "cancelled" and cb.cancelled_reason == REPLACED]
    while replaced:  # follow each moved callback to the row that replaced it (same lead, created as it closed)
        found = []
        for old in replaced:
            new = session.scalar(select(Callback).where(Callback.lead_id == old.lead_id,
                                                        Callback.created_at == old.closed_at,
                                                        Callback.id > old.id).order_by(Callback.id).limit(1))
            rows.pop(old.id, None)
            if new is not None and new.id not in rows and new.agent_id in (None, agent_id):
                rows[new.id] = new
                if new.status == "cancelled" and new.cancelled_reason == REPLACED:
                    found.append(new)
        replaced = found
    leads = {x.id: x for x in session.scalars(select(Lead).where(Lead.id.in_({c.lead_id for c in rows.values()})))}
    names = dict(session.execute(select(Campaign.id, Campaign.name)
                                 .where(Campaign.id.in_({c.campaign_id for c in rows.values()}))).all())
    out = []
    for cb in rows.values():
        lead = leads[cb.lead_id]
        if cb.status == "pending":
            status = "due" if cb.due_at <= now else "waiting"
        elif cb.status == "fired":
            status = "dialed"
        elif cb.status == "cancelled":
            status = f"cancelled: {cb.cancelled_reason}" if cb.cancelled_reason else "cancelled"
        else:
            status = cb.status
        out.append({"id": cb.id, "callback_at": cb.due_at, "requested_at": cb.requested_at,
                    "campaign": names.get(cb.campaign_id, ""), "phone": lead.phone,
                    "name": f"{lead.first_name} {lead.last_name}".strip(), "zones": lead.zone_list,
                    "notes": cb.note, "status": status, "open": cb.status in ("pending", "missed"),
                    "personal": cb.agent_id == agent_id, "lead_status": lead.status})
    out.sort(key=lambda r: r["callback_at"].timestamp() * (1 if r["open"] else -1))
    out.sort(key=lambda r: not r["open"])
    return out[:limit]
