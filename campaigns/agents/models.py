"""Stored agents: who works the floor, their current state and its history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

AGENT_STATES = ("ready", "talking", "wrap", "paused", "offline")


class Agent(Base):
    __tablename__ = "agents"
    __table_args__ = (Index("ix_agents_ready", "campaign_id", "state", "state_since"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), default="offline")
    state_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)
    # the call the agent is on (set with talking, cleared when it ends): a late end of an earlier call never
    # moves an agent who is already on the next one (no foreign key: calls already points here)
    call_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # where the agent goes once the call in hand and its wrap-up are done ("paused" with after_call_reason, or
    # "offline"), said while still on it: the pacer counts them out at once (``campaigns.agents.after_call``)
    after_call: Mapped[str | None] = mapped_column(String(16), nullable=True)
    after_call_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AgentStateEvent(Base):
    """Agent state history: the source of occupancy, wait and agent-hour figures."""

    __tablename__ = "agent_state_events"
    __table_args__ = (Index("ix_agent_state_events_campaign_at", "campaign_id", "at"),
                      Index("ix_agent_state_events_agent_at", "agent_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentLine(Base):
    __tablename__ = "agent_lines"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # None: the agent uses the browser
    call_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the agent's leg, while there is one
    status: Mapped[str] = mapped_column(String(16), default="down")
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class AgentLeg(Base):
    """Every leg that ever joined (or was dialed to join) an agent's conference, by its CallSid: a join webhook is
    accepted once per leg, so a replayed, still validly signed join of a leg that has come and gone changes nothing
    (it used to hand the line to the dead leg: the agent showed ready and could never be routed a call)."""

    __tablename__ = "agent_legs"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CallAction(Base):
    """What an agent did to a live call beyond talking to the customer: hold and resume, a cold transfer to a
    number, a warm transfer's consult (with another agent, or a supervisor on a phone number) and how it ended
    (complete or cancel). The call's own row stays the one record of the customer's call: a completed warm transfer
    to an agent moves ``calls.agent_id`` to the agent who took over, so reports count the call once."""

    __tablename__ = "call_actions"
    __table_args__ = (Index("ix_call_actions_call", "call_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))  # who did it
    kind: Mapped[str] = mapped_column(String(16))  # CALL_ACTIONS
    to_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    to_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    leg_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)  # the consulted number's leg
    at: Mapped[datetime] = mapped_column(UTCDateTime)


CALL_ACTIONS = ("hold", "resume", "cold", "consult", "complete", "cancel", "manual")


class AgentCampaign(Base):
    """Which agent may join which campaign. A campaign with no row here is open to every agent; once a manager
    assigns agents, only they are offered it."""

    __tablename__ = "agent_campaigns"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True, index=True)
