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
