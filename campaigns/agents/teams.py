"""Which agents may join which campaign (a campaign's team), and joining one.

A campaign with nobody on its team is open to every agent; once a manager puts agents on it, only they are offered
it and only they may join it. Whatever a page shows, the rule is checked here, on the server, when a seat joins a
campaign or goes ready on it (``check_may_take_calls``, called by ``campaigns.agents.service.set_state``): a seat
cannot take calls from a campaign it is not on the team of by posting a form the page did not offer.

Only an active campaign is offered and may be joined: a paused one dials nothing, so a person joining it would sit
ready for nothing (the agents already in it when it is paused stay, and take calls again when it is started).
Simulated seats (the demo's and the benchmarks') are the worker's own stand-ins and are not limited by teams.

Team changes are recorded in the campaign's history (who, when, old -> new). A seat taken off a campaign's team
while it is in that campaign leaves at once when it is ready or paused (state reason ``team``); a seat on a call or
in wrap-up finishes it and is logged out of the campaign when it would go ready again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent, AgentCampaign
from campaigns.campaign.history import record
from campaigns.campaign.models import Campaign
from dnc.errors import UserError

OPEN = "every agent"  # how the history and the pages name a campaign open to everyone
OFF_TEAM = "team"  # the state reason of a seat logged out because it was taken off the campaign's team


def team(session: Session, campaign_id: int) -> list[Agent]:
    """The agents on the campaign's team, by name; empty: the campaign is open to every agent."""
    return list(session.scalars(select(Agent).join(AgentCampaign, AgentCampaign.agent_id == Agent.id)
                                .where(AgentCampaign.campaign_id == campaign_id).order_by(Agent.name)))


def team_names(session: Session, campaign_id: int) -> str:
    """The team as the history shows it: names, comma-separated, or "every agent"."""
    names = [a.name for a in team(session, campaign_id)]
    return ", ".join(names) if names else OPEN


def teams_by_campaign(session: Session) -> dict[int, list[str]]:
    """Every campaign's team (campaigns open to everyone are absent)."""
    out: dict[int, list[str]] = {}
    rows = session.execute(select(AgentCampaign.campaign_id, Agent.name)
                           .join(Agent, Agent.id == AgentCampaign.agent_id).order_by(Agent.name))
    for cid, name in rows:
        out.setdefault(cid, []).append(name)
    return out


def on_team(session: Session, agent: Agent, campaign_id: int) -> bool:
    """May this seat take calls from the campaign? (simulated seats always may; an empty team lets everyone)"""
    if agent.simulated:
        return True
    rows = select(AgentCampaign).where(AgentCampaign.campaign_id == campaign_id)
    if not session.scalar(select(exists(rows))):
        return True
    return bool(session.scalar(select(exists(rows.where(AgentCampaign.agent_id == agent.id)))))


def offered(session: Session, agent: Agent) -> list[Campaign]:
    """The campaigns this seat may join now: active, and open to everyone or with this agent on the team."""
    any_team = exists(select(AgentCampaign.agent_id).where(AgentCampaign.campaign_id == Campaign.id))
    mine = exists(select(AgentCampaign.agent_id).where(AgentCampaign.campaign_id == Campaign.id,
                                                       AgentCampaign.agent_id == agent.id))
    q = select(Campaign).where(Campaign.status == "active")
    if not agent.simulated:
        q = q.where(or_(~any_team, mine))
    return list(session.scalars(q.order_by(Campaign.name)))


def check_may_join(session: Session, agent: Agent, campaign: Campaign) -> None:
    """Refuse, in words, a seat joining a campaign it may not: not active, or not on the campaign's team."""
    if campaign.status != "active":
        raise UserError(f"campaign {campaign.name} is {campaign.status}: agents join it once it is started")
    check_may_take_calls(session, agent, campaign)


def check_may_take_calls(session: Session, agent: Agent, campaign: Campaign | int) -> None:
    """Refuse a seat going ready on a campaign whose team it is not on."""
    cid = campaign if isinstance(campaign, int) else campaign.id
    if not on_team(session, agent, cid):
        name = campaign.name if isinstance(campaign, Campaign) else session.get(Campaign, cid).name
        raise UserError(f"agent {agent.name} is not on campaign {name}'s team: a campaign manager decides who may "
                        "join it")


def join(session: Session, agent: Agent, campaign: Campaign, now: datetime) -> bool:
    """Log the seat in to ``campaign`` and make it ready, if it may join (checked here, whatever the page offered).
    A seat already in another campaign leaves it first (only from offline, so no call is left half-counted)."""
    from campaigns.agents import service as agents

    check_may_join(session, agent, campaign)
    if agent.campaign_id != campaign.id:
        agents.assign(session, agent, campaign)
    return agents.go_ready(session, agent.id, now)


def set_team(session: Session, campaign: Campaign, agent_ids: set[int], by: str, now: datetime) -> bool:
    """Make the campaign's team exactly ``agent_ids`` (empty: open to every agent). Returns whether it changed.

    Recorded in the campaign's history; seats of the campaign that are no longer allowed and are ready or paused
    are logged out of it at once (on a call or in wrap-up: when they would go ready again)."""
    known = set(session.scalars(select(Agent.id).where(Agent.id.in_(agent_ids)))) if agent_ids else set()
    if missing := agent_ids - known:
        raise UserError(f"no agent with id {', '.join(str(i) for i in sorted(missing))}")
    before_ids = set(session.scalars(select(AgentCampaign.agent_id).where(AgentCampaign.campaign_id == campaign.id)))
    if before_ids == agent_ids:
        return False
    before = team_names(session, campaign.id)
    gone = delete(AgentCampaign).where(AgentCampaign.campaign_id == campaign.id)
    session.execute(gone.where(AgentCampaign.agent_id.not_in(agent_ids)) if agent_ids else gone)
    session.add_all(AgentCampaign(agent_id=a, campaign_id=campaign.id) for a in sorted(agent_ids - before_ids))
    session.flush()
    record(session, campaign.id, now, by, "Agents who may join", before, team_names(session, campaign.id),
           subject="team")
    _send_off(session, campaign, now)
    return True


def change_team(session: Session, campaign: Campaign, *, add: list[str] = (), remove: list[str] = (),
                only: list[str] | None = None, everyone: bool = False, by: str, now: datetime) -> bool:
    """The command line's form of ``set_team``: agents named by seat or by their user's login."""
    if everyone and (only is not None or add or remove):
        raise UserError("--everyone opens the campaign to every agent: give it alone")
    current = set(session.scalars(select(AgentCampaign.agent_id).where(AgentCampaign.campaign_id == campaign.id)))
    wanted = set() if everyone else ({find_agent(session, n).id for n in only} if only is not None else current)
    wanted |= {find_agent(session, n).id for n in add}
    wanted -= {find_agent(session, n).id for n in remove}
    return set_team(session, campaign, wanted, by, now)


def find_agent(session: Session, ref: str) -> Agent:
    """An agent seat by its name, or by the login of the user who has it."""
    from campaigns.accounts.models import User

    ref = ref.strip()
    agent = session.scalar(select(Agent).where(Agent.name == ref))
    if agent is None:
        agent = session.scalar(select(Agent).join(User, User.agent_id == Agent.id)
                               .where(func.lower(User.username) == ref.lower()))
    if agent is None:
        raise UserError(f"no agent {ref!r} (give a seat's name or an agent's login)")
    return agent


def _send_off(session: Session, campaign: Campaign, now: datetime) -> None:
    from campaigns.agents import service as agents

    seats = session.scalars(select(Agent).where(Agent.campaign_id == campaign.id, Agent.simulated.is_(False),
                                                Agent.state.in_(("ready", "paused")))).all()
    for seat in seats:
        if not on_team(session, seat, campaign.id):
            agents.set_state(session, seat.id, "offline", now, reason=OFF_TEAM)
