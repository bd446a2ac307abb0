"""Tables of the dial loop beyond the core ones: the last pacing decision per campaign, for the console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class PacingStatus(Base):
    """What the campaign's pacer decided last and why (``pacer.explain()``), refreshed every few seconds by the
    worker that dials the campaign: the console's answer to "why is it dialing like this?"."""

    __tablename__ = "pacing_status"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[dict] = mapped_column(JSON, default=dict)


class Call(Base):
    """One dial attempt, from placement to disposition."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_campaign_placed", "campaign_id", "placed_at"),
        Index("ix_calls_campaign_phone", "campaign_id", "phone", "placed_at"),
        Index("ix_calls_phone_placed", "phone", "placed_at"),  # state call caps: every call to a number
        Index("ix_calls_placed_phone", "placed_at", "phone"),  # the funnel: numbers called often in the last day
        Index("ix_calls_caller_id_placed", "caller_id", "placed_at"),
        Index("ix_calls_lead", "lead_id"),
        Index("ix_calls_agent", "agent_id"),
        # at most one live attempt per lead and per number: the database refuses a second (two workers, one
        # PostgreSQL); "live" = not ended yet
        Index("uq_calls_live_lead", "lead_id", unique=True,
              sqlite_where=text("ended_at IS NULL AND lead_id IS NOT NULL"),
              postgresql_where=text("ended_at IS NULL AND lead_id IS NOT NULL")),
        Index("uq_calls_live_phone", "phone", unique=True, sqlite_where=text("ended_at IS NULL"),
              postgresql_where=text("ended_at IS NULL")),
        Index("ix_calls_live_campaign", "campaign_id", sqlite_where=text("ended_at IS NULL"),
              postgresql_where=text("ended_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), nullable=True)
    list_id: Mapped[int | None] = mapped_column(ForeignKey("lead_lists.id"), nullable=True)
    phone: Mapped[str] = mapped_column(String(20))
    caller_id: Mapped[str] = mapped_column(String(20), default="")
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    provider: Mapped[str] = mapped_column(String(16), default="sim")
    provider_sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(16), nullable=True)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    disposition_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dispositioned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    hangup_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # agent ended it
