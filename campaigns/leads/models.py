"""Stored lead lists and leads: what was imported, each lead's state in the queue, and the rows that were not."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime

if TYPE_CHECKING:
    from campaigns.campaign.models import Campaign

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
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # a disabled list's leads are not dialed
    mix_rank: Mapped[int] = mapped_column(Integer, default=0)  # the list mix: lower ranks are dialed first
    # the list mix by weights (``campaigns.dispatch.listmix``): a share of the dials; None = not in a weighted mix
    mix_weight: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mix_credit: Mapped[float] = mapped_column(Float, default=0.0)  # the weighted draw's running credit

    campaign: Mapped[Campaign] = relationship(back_populates="lists")


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        Index("ix_leads_campaign_phone", "campaign_id", "phone"),
        Index("ix_leads_dialable", "campaign_id", "status", "next_attempt_at"),
        Index("ix_leads_campaign_list_status", "campaign_id", "list_id", "status"),  # reports: list close
        Index("ix_leads_campaign_created", "campaign_id", "created_at"),  # a past list close: leads created since
        # the claim's orders walk these with LIMIT instead of sorting every due lead (migrations l0001, f0003)
        Index("ix_leads_due", "campaign_id", text("priority DESC"), text("COALESCE(next_attempt_at, created_at)"), "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
        Index("ix_leads_order_oldest", "campaign_id", text("priority DESC"), "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
        Index("ix_leads_order_newest", "campaign_id", "priority", "id",
              sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
        # the list mix reads each list's callable leads in claim order (``campaigns.dispatch.listmix``)
        Index("ix_leads_list_due", "list_id", text("priority DESC"), text("COALESCE(next_attempt_at, created_at)"),
              "id", sqlite_where=text(_CALLABLE), postgresql_where=text(_CALLABLE)),
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


class LeadPhone(Base):
    __tablename__ = "lead_phones"
    __table_args__ = (UniqueConstraint("lead_id", "position"), UniqueConstraint("lead_id", "phone"),
                      Index("ix_lead_phones_phone", "phone"))  # lead search by any of a lead's numbers

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    position: Mapped[int] = mapped_column(Integer)  # 1 = the number the lead was loaded with
    phone: Mapped[str] = mapped_column(String(20))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LeadReset(Base):
    """A lead a list reset put back in the queue: the final status it took away and since when the lead had it, so a
    past range's list close still counts the lead as final then (``campaigns.reports.queries.lead_outcomes``).
    ``lead_id`` has no foreign key, like the report tables: the record outlives nothing it must hold back."""

    __tablename__ = "lead_resets"
    __table_args__ = (Index("ix_lead_resets_campaign_at", "campaign_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # the status before the reset (exhausted, done)
    final_at: Mapped[datetime] = mapped_column(UTCDateTime)  # its last settled call then, else its last write
