"""Stored abandon alerts: each campaign's guard state, the alerts raised and their webhook deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

_PENDING = "delivered_at IS NULL AND gave_up_at IS NULL"  # partial-index predicate: deliveries still to try


class AbandonGuard(Base):
    """Where a campaign stands now (one row per campaign, written by the guard job)."""

    __tablename__ = "abandon_guard"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    fallback: Mapped[bool] = mapped_column(Boolean)
    rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    live_answers: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    machines: Mapped[int] = mapped_column(Integer)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AbandonAlert(Base):
    """One change of level (or of the fallback), kept as history and posted to the webhook."""

    __tablename__ = "abandon_alerts"
    __table_args__ = (Index("ix_abandon_alerts_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    level: Mapped[str] = mapped_column(String(16))
    previous: Mapped[str] = mapped_column(String(16))
    rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    live_answers: Mapped[int] = mapped_column(Integer)
    abandoned: Mapped[int] = mapped_column(Integer)
    machines: Mapped[int] = mapped_column(Integer)
    fallback: Mapped[bool] = mapped_column(Boolean)
    message: Mapped[str] = mapped_column(String(400))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertDelivery(Base):
    """A webhook POST to make (the outbox): retried with backoff until delivered or given up."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (Index("ix_alert_deliveries_pending", "next_try_at",
                            sqlite_where=text(_PENDING), postgresql_where=text(_PENDING)),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("abandon_alerts.id"))
    url: Mapped[str] = mapped_column(String(500))
    payload: Mapped[dict] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    gave_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
