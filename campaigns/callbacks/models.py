"""Stored callbacks: a promise to call a lead back at a time, and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class Callback(Base):
    __tablename__ = "callbacks"
    __table_args__ = (Index("ix_callbacks_campaign_status_due", "campaign_id", "status", "due_at"),
                      # at most one open (pending or missed) callback per lead, whatever two writers believe
                      Index("uq_callbacks_open_lead", "lead_id", unique=True,
                            sqlite_where=text("status IN ('pending', 'missed')"),
                            postgresql_where=text("status IN ('pending', 'missed')")))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)  # personal when set
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)  # what was agreed with the customer
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first legal instant at or after it
    status: Mapped[str] = mapped_column(String(16), default="pending")
    note: Mapped[str] = mapped_column(String(400), default="")
    cancelled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
