"""What an agent's screen shows, read in one place: the seat, the call, the popped lead and its history, the
dispositions of the campaign, and the callbacks the agent scheduled.

Reads only; every change goes through ``campaigns.agents`` (state machine, dispositions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Agent, Call, Campaign, Disposition, Lead, LeadList

JOINABLE = ("active", "paused")  # campaigns an agent may log in to (a paused one dials once it is started)


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
    d.dispositions = list(session.scalars(select(Disposition).where(Disposition.campaign_id == call.campaign_id)
                                          .order_by(Disposition.sort, Disposition.id)))
    if call.lead_id is not None:
        d.lead = session.get(Lead, call.lead_id)
        d.list_name = session.scalar(select(LeadList.name).where(LeadList.id == d.lead.list_id)) if d.lead else None
        d.history = lead_history(session, call.lead_id, exclude_call_id=call.id)
    return d


def lead_history(session: Session, lead_id: int, exclude_call_id: int | None = None, limit: int = 50) -> list[dict]:
    """The lead's earlier calls, newest first: when, how it ended, who spoke, the disposition and the notes."""
    q = (select(Call, Agent.name).outerjoin(Agent, Agent.id == Call.agent_id).where(Call.lead_id == lead_id)
         .order_by(Call.placed_at.desc()).limit(limit))
    return [{"placed_at": c.placed_at, "attempt": c.attempt, "outcome": c.outcome or c.status, "agent": name,
             "disposition": c.disposition_code, "notes": c.notes, "callback_at": c.callback_at}
            for c, name in session.execute(q) if c.id != exclude_call_id]


def joinable_campaigns(session: Session) -> list[Campaign]:
    return list(session.scalars(select(Campaign).where(Campaign.status.in_(JOINABLE)).order_by(Campaign.name)))


def my_callbacks(session: Session, agent_id: int, now: datetime, limit: int = 200) -> list[dict]:
    """Callbacks this agent scheduled, soonest first, with where each stands now (waiting, due, done, cancelled)."""
    q = (select(Call, Lead, Campaign.name).join(Lead, Lead.id == Call.lead_id)
         .join(Campaign, Campaign.id == Call.campaign_id)
         .where(Call.agent_id == agent_id, Call.callback_at.is_not(None))
         .order_by(Call.callback_at.desc()).limit(limit))
    out = []
    for call, lead, campaign in session.execute(q):
        pending = lead.status == "callback" and lead.callback_at == call.callback_at
        if pending:
            status = "due" if call.callback_at <= now else "waiting"
        elif lead.status == "dnc":
            status = "cancelled: do not call"
        elif lead.status == "dialing":
            status = "calling now"
        else:
            status = "done"
        out.append({"callback_at": call.callback_at, "campaign": campaign, "phone": lead.phone,
                    "name": f"{lead.first_name} {lead.last_name}".strip(), "zones": lead.zone_list,
                    "notes": call.notes, "status": status, "lead_status": lead.status})
    out.sort(key=lambda r: (r["status"] not in ("due", "waiting"), r["callback_at"]))
    return out
