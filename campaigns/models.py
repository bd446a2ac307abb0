"""Stored facts about campaigns, lists, leads, calls, agents and users.

The database is the source of truth; these mapped classes carry no behaviour beyond small derived properties.
Rules live in services (``campaigns.service``, ``campaigns.leadimport``) and in ``dnc``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

CAMPAIGN_STATUSES = ("draft", "active", "paused", "finished")
PACING_MODES = ("preview", "progressive", "power", "predictive")
DEDUPE_SCOPES = ("list", "campaign", "system")
LEAD_STATUSES = (
    "new",  # never dialed
    "retry",  # dialed, waits for next_attempt_at
    "callback",  # a scheduled callback waits for callback_at
    "dialing",  # claimed by the dial loop: one live attempt
    "closed",  # final: a close/sale disposition
    "done",  # final: another final disposition (not interested, wrong number ...)
    "exhausted",  # final: max attempts reached
    "dnc",  # final: the lead asked not to be called
    "suppressed",  # never dialable: scrubbed at import (reasons in ``suppression``)
)
_CALLABLE = "status IN ('new', 'retry', 'callback')"  # partial-index predicate: leads a claim may pick
FINAL_LEAD_STATUSES = ("closed", "done", "exhausted", "dnc", "suppressed")
AGENT_STATES = ("ready", "talking", "wrap", "paused", "offline")
ROLES = ("admin", "manager", "agent", "compliance", "sales")


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
    calling_hours: Mapped[str] = mapped_column(String(32), default="strictest")
    dedupe_scope: Mapped[str] = mapped_column(String(16), default="campaign")
    seller_name: Mapped[str] = mapped_column(String(120), default="")
    callback_number: Mapped[str] = mapped_column(String(20), default="")
    machine_action: Mapped[str] = mapped_column(String(16), default="hangup")
    voicemail_message: Mapped[str] = mapped_column(Text, default="")
    max_lines: Mapped[int | None] = mapped_column(Integer, nullable=True)
    local_presence: Mapped[bool] = mapped_column(Boolean, default=False)
    caller_id_daily_cap: Mapped[int] = mapped_column(Integer, default=150)
    spam_flag_threshold: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    lists: Mapped[list[LeadList]] = relationship(back_populates="campaign", order_by="LeadList.id")


class LeadList(Base):
    __tablename__ = "lead_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    source_filename: Mapped[str] = mapped_column(String(400), default="")
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by: Mapped[str] = mapped_column(String(120), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    suppressed: Mapped[int] = mapped_column(Integer, default=0)
    header: Mapped[list | None] = mapped_column(JSON, nullable=True)
    mapping: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    campaign: Mapped[Campaign] = relationship(back_populates="lists")


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_campaign_phone", "campaign_id", "phone"),
        Index("ix_leads_dialable", "campaign_id", "status", "next_attempt_at"),
        Index("ix_leads_campaign_list_status", "campaign_id", "list_id", "status"),  # reports: list close
        # the claim's orders walk these with LIMIT instead of sorting every due lead (migrations l0001, f0003)
        Index("ix_leads_due", "campaign_id", text("priority DESC"), text("COALESCE(next_attempt_at, created_at)"), "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
        Index("ix_leads_order_oldest", "campaign_id", text("priority DESC"), "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
        Index("ix_leads_order_newest", "campaign_id", "priority", "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    list_id: Mapped[int] = mapped_column(ForeignKey("lead_lists.id"), index=True)
    line: Mapped[int] = mapped_column(Integer, default=0)
    phone: Mapped[str] = mapped_column(String(20))
    phone_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    first_name: Mapped[str] = mapped_column(String(200), default="")
    last_name: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str | None] = mapped_column(String(2), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    timezones: Mapped[str] = mapped_column(String(200), default="")
    custom: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="new")
    suppression: Mapped[str | None] = mapped_column(String(400), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    callback_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    last_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    last_called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # shown to a preview agent, who decides to dial it or skip it: nobody else takes it until then
    reserved_agent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reserved_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    @property
    def zone_list(self) -> list[str]:
        return [z for z in self.timezones.split(",") if z]


class RejectedRow(Base):
    """An input row that did not become a lead, kept so it can be exported, fixed and re-imported."""

    __tablename__ = "rejected_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("lead_lists.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16), default="rejected")  # rejected | duplicate
    reason: Mapped[str] = mapped_column(String(400))
    raw: Mapped[list] = mapped_column(JSON)


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


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
