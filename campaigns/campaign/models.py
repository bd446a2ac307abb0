"""Stored facts about campaigns, lists, leads, calls, agents and users.

The database is the source of truth; these mapped classes carry no behaviour beyond small derived properties.
Rules live in services (``campaigns.campaign.service``, ``campaigns.leadimport``) and in ``dnc``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from campaigns.leads.models import LeadList

CAMPAIGN_STATUSES = ("draft", "active", "paused", "finished")
PACING_MODES = ("preview", "progressive", "power", "predictive")
DEDUPE_SCOPES = ("list", "campaign", "system")


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    caller_id: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(2), default="US")
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    pacing_mode: Mapped[str] = mapped_column(String(16), default="predictive")
    power_ratio: Mapped[float] = mapped_column(Float, default=2.0)
    abandon_target: Mapped[float] = mapped_column(Float, default=0.03)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    retry_no_answer_s: Mapped[int] = mapped_column(Integer, default=4 * 3600)
    retry_busy_s: Mapped[int] = mapped_column(Integer, default=30 * 60)
    retry_machine_s: Mapped[int] = mapped_column(Integer, default=6 * 3600)
    calling_hours: Mapped[str] = mapped_column(String(32), default="strictest")  # or "09:00-20:00", lead's time
    calling_days: Mapped[str] = mapped_column(String(16), default="1234567")  # ISO weekdays, in the lead's time
    dedupe_scope: Mapped[str] = mapped_column(String(16), default="campaign")
    seller_name: Mapped[str] = mapped_column(String(120), default="")
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    machine_action: Mapped[str] = mapped_column(String(16), default="hangup")
    voicemail_message: Mapped[str] = mapped_column(Text, default="")
    max_lines: Mapped[int | None] = mapped_column(Integer, nullable=True)
    local_presence: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_id_daily_cap: Mapped[int] = mapped_column(Integer, default=150)
    spam_flag_threshold: Mapped[int] = mapped_column(Integer, default=3)
    wrap_limit_s: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: wrap-up as long as it takes
    wrap_limit_then: Mapped[str] = mapped_column(String(8), default="ready")  # ready | paused
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    lists: Mapped[list[LeadList]] = relationship(back_populates="campaign", order_by="LeadList.id")


class Disposition(Base):
    """A disposition an agent may record; flags say what it means for reports and for the lead."""

    __tablename__ = "dispositions"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(120))
    is_contact: Mapped[bool] = mapped_column(Boolean, default=True)
    is_close: Mapped[bool] = mapped_column(Boolean, default=False)
    is_callback: Mapped[bool] = mapped_column(Boolean, default=False)
    is_dnc: Mapped[bool] = mapped_column(Boolean, default=False)
    is_final: Mapped[bool] = mapped_column(Boolean, default=False)
    is_completed: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[int] = mapped_column(Integer, default=0)


class DialSettings(Base):
    __tablename__ = "dial_settings"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    lead_order: Mapped[str] = mapped_column(String(16), default="due")
    new_lead_every: Mapped[int] = mapped_column(Integer, default=0)
    phone_switch_after: Mapped[int] = mapped_column(Integer, default=0)
    min_recall_gap_s: Mapped[int] = mapped_column(Integer, default=0)
    lead_daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    phone_daily_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    retry_shift_s: Mapped[int] = mapped_column(Integer, default=0)
    callbacks_personal: Mapped[bool] = mapped_column(Boolean, default=True)
    callback_grace_s: Mapped[int] = mapped_column(Integer, default=900)
    callback_miss_s: Mapped[int] = mapped_column(Integer, default=3600)
    abandon_warn_1: Mapped[float] = mapped_column(Float, default=0.025)
    abandon_warn_2: Mapped[float] = mapped_column(Float, default=0.028)
    abandon_fallback: Mapped[bool] = mapped_column(Boolean, default=True)
    alert_min_live_answers: Mapped[int] = mapped_column(Integer, default=100)
    alert_webhook_url: Mapped[str] = mapped_column(String(500), default="")
    callerid_min_answer_rate: Mapped[float | None] = mapped_column(Float, nullable=True)
    callerid_min_dials: Mapped[int] = mapped_column(Integer, default=200)
    dial_seq: Mapped[int] = mapped_column(Integer, default=0)  # dials claimed so far: the interleave's position
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CampaignScript(Base):
    __tablename__ = "campaign_scripts"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(120), default="")


class CampaignChange(Base):
    """One change a person made to a campaign, a list, a lead or who may join: who, when, what, old and new.

    Kept for the manager's history (the campaign page) and for "who changed the retry delay last Tuesday"."""

    __tablename__ = "campaign_changes"
    __table_args__ = (Index("ix_campaign_changes_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    by: Mapped[str] = mapped_column(String(120), default="")
    subject: Mapped[str] = mapped_column(String(64), default="campaign")  # campaign | list:ID | lead:ID | agent:ID
    field: Mapped[str] = mapped_column(String(64))
    old: Mapped[str] = mapped_column(Text, default="")
    new: Mapped[str] = mapped_column(Text, default="")
