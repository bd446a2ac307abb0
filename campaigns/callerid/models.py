"""Stored caller-ID pools: the numbers a campaign shows, and the spam flags against them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class CallerIdNumber(Base):
    __tablename__ = "caller_ids"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    area_code: Mapped[str] = mapped_column(String(3))
    state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the campaign's default
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    flags_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # put back into service


class CallerIdFlag(Base):
    """Somebody saw this number shown as spam (or otherwise burned)."""

    __tablename__ = "caller_id_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    caller_id_id: Mapped[int] = mapped_column(ForeignKey("caller_ids.id"), index=True)
    flagged_by: Mapped[str] = mapped_column(String(120))
    reason: Mapped[str] = mapped_column(String(200), default="shown as spam")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
