"""A campaign's wrap-up limit: a person's seat left in wrap-up longer than the campaign allows moves on by itself,
ready for the next call or paused (reason ``wrap-limit``), as the campaign's settings say.

Simulated seats keep their own scripted wrap times (the simulator drives them); the call's disposition can still be
written afterwards, and a lead left without one goes back to the queue by the recycle job.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.agents.teams import OFF_TEAM, on_team
from campaigns.campaign.models import Campaign

PAUSE_REASON = "wrap-limit"


def end_overdue_wraps(session: Session, now: datetime) -> int:
    """Move every person's seat past its campaign's wrap-up limit; returns how many moved."""
    rows = session.execute(select(Agent.id, Agent.state_since, Campaign.wrap_limit_s, Campaign.wrap_limit_then)
                           .join(Campaign, Campaign.id == Agent.campaign_id)
                           .where(Agent.state == "wrap", Agent.simulated.is_(False),
                                  Campaign.wrap_limit_s.is_not(None))).all()
    moved = 0
    for agent_id, since, limit, then in rows:
        if since is None or since + timedelta(seconds=limit) > now:
            continue
        seat = session.get(Agent, agent_id)
        if not on_team(session, seat, seat.campaign_id):  # taken off the team during the call: leaves it
            moved += agents.go_offline(session, agent_id, now, OFF_TEAM)
        elif seat.after_call is not None:  # the agent said where they go after this call
            moved += agents.set_state(session, agent_id, seat.after_call, now, seat.after_call_reason)
        elif then == "paused":
            moved += agents.pause(session, agent_id, PAUSE_REASON, now)
        else:
            moved += agents.go_ready(session, agent_id, now)
    session.flush()
    return moved
