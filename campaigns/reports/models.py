"""Tables the reports own: the change log the triggers fill, the rollups built from it, and stored daily reports.

The schema is created by the ``reports`` Alembic branch (``r0001``); these mappings only let the services read
and write it. The rollups are derived data: ``campaigns.reports.rollup`` can rebuild them from calls and agent
state events at any time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

ROLLUP_COUNTS = ("dials", "live_answers", "contacts", "abandoned", "machines", "no_answers", "busies", "failures",
                 "closes", "callbacks", "dnc_requests", "keypress_optouts", "completed", "refusals", "handled")
# What a call_rollups row is keyed by (besides campaign and local hour); every call is counted once per grain.
GRAIN_TOTAL, GRAIN_LIST, GRAIN_AGENT, GRAIN_DISPOSITION = 0, 1, 2, 3
PASS_CAP = 6  # attempts from the 6th on share one "6+" row at the list grain (VICIdial's pass report stops at 5)


class ReportChange(Base):
    """One write to ``calls`` or ``agent_state_events`` the rollups have not absorbed yet (written by triggers)."""

    __tablename__ = "report_changes"
    __table_args__ = (Index("ix_report_changes_campaign_id", "campaign_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    lead_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(8))


class CallRollup(Base):
    """Call counts per campaign and local hour, at one grain: the whole campaign, list at call time x attempt
    (capped at ``PASS_CAP``), agent, or disposition."""

    __tablename__ = "call_rollups"
    __table_args__ = (Index("ix_call_rollups_campaign_grain_bucket", "campaign_id", "grain", "bucket"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    grain: Mapped[int] = mapped_column(Integer, default=GRAIN_LIST)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime)
    list_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer)
    disposition_code: Mapped[str | None] = mapped_column(String(32), nullable=True)
    dials: Mapped[int] = mapped_column(Integer, default=0)
    live_answers: Mapped[int] = mapped_column(Integer, default=0)
    contacts: Mapped[int] = mapped_column(Integer, default=0)
    abandoned: Mapped[int] = mapped_column(Integer, default=0)
    machines: Mapped[int] = mapped_column(Integer, default=0)
    no_answers: Mapped[int] = mapped_column(Integer, default=0)
    busies: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    closes: Mapped[int] = mapped_column(Integer, default=0)
    callbacks: Mapped[int] = mapped_column(Integer, default=0)
    dnc_requests: Mapped[int] = mapped_column(Integer, default=0)
    keypress_optouts: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    refusals: Mapped[int] = mapped_column(Integer, default=0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    talk_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrap_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class LeadCallStats(Base):
    """Per lead: its dials and contacts and its first contact ever (the source of first-call close and list close)."""

    __tablename__ = "lead_call_stats"
    __table_args__ = (Index("ix_lead_call_stats_first_contact", "campaign_id", "first_contact_at"),
                      Index("ix_lead_call_stats_list", "campaign_id", "list_id"))

    lead_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    campaign_id: Mapped[int] = mapped_column(Integer)
    list_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the lead's list now (follows moves)
    dials: Mapped[int] = mapped_column(Integer)
    contacts: Mapped[int] = mapped_column(Integer)
    first_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    first_contact_list_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_contact_agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_contact_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    first_close_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # the last moment one of its calls was settled (dispositioned, else ended, else placed): when a lead a call
    # made final became so, for a past range's list close (``campaigns.reports.queries.lead_outcomes``)
    last_settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AgentRollup(Base):
    """Seconds an agent spent in each state per campaign and local hour (closed intervals only)."""

    __tablename__ = "agent_rollups"
    __table_args__ = (Index("ix_agent_rollups_campaign_bucket", "campaign_id", "bucket"),
                      Index("ix_agent_rollups_agent_bucket", "agent_id", "bucket"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[datetime] = mapped_column(UTCDateTime)
    agent_id: Mapped[int] = mapped_column(Integer)
    ready_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    talking_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    wrap_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    paused_seconds: Mapped[float] = mapped_column(Float, default=0.0)


class ReportState(Base):
    """Per campaign: the disposition flags the rollups were built with (a change forces a rebuild), and a lock row."""

    __tablename__ = "report_state"

    campaign_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64))
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DailyReport(Base):
    """A campaign's day, computed once after the day ended and kept for viewing and download."""

    __tablename__ = "daily_reports"
    __table_args__ = (UniqueConstraint("campaign_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    day: Mapped[date] = mapped_column(Date)
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data: Mapped[dict] = mapped_column(JSON)


class ReportSchedule(Base):
    """A report mailed on a schedule: which report of which campaign, to whom, daily or on one weekday, at a local
    hour of the campaign's time zone. ``report`` is a report name or ``daily`` (the stored daily report)."""

    __tablename__ = "report_schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    report: Mapped[str] = mapped_column(String(40))
    recipients: Mapped[str] = mapped_column(String(1000))  # comma-separated addresses
    weekday: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 0 = Monday; None: every day
    hour: Mapped[int] = mapped_column(Integer, default=7)  # local hour it goes out
    last_sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)  # the local day it last went out
    last_error: Mapped[str | None] = mapped_column(String(400), nullable=True)
    created_by: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
