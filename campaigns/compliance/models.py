"""Reconciliation kept current: every placed call judged once (``campaigns.compliance.verdicts``), the calls that
broke a rule stored with their reasons, and the count of calls judged per UTC day and campaign.

Derived data, like the report rollups: ``verdicts.refresh(..., rebuild=True)`` rebuilds it from the calls and the
ledger at any time, and a change of the rules file's version rebuilds it by itself.

Also the texts people send us (``InboundMessage``, ``campaigns.compliance.sms``): kept, not derived.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class CallVerdict(Base):
    """A placed call that broke a rule in force when it was placed (expected: no rows)."""

    __tablename__ = "call_verdicts"
    __table_args__ = (Index("ix_call_verdicts_placed_at", "placed_at"),)

    call_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    e164: Mapped[str] = mapped_column(String(20))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    zones: Mapped[str] = mapped_column(String(400), default="")
    states: Mapped[str] = mapped_column(String(200), default="")
    codes: Mapped[str] = mapped_column(String(400), default="")
    window: Mapped[bool] = mapped_column(default=False)  # some reason is a window, day-ban or cap reason
    details: Mapped[list] = mapped_column(JSON, default=list)  # [{"code", "text", "source"?}]
    rules: Mapped[str] = mapped_column(String(40), default="")


class VerdictDay(Base):
    """How many calls of one campaign placed on one UTC day were judged (the report's "N calls checked")."""

    __tablename__ = "verdict_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(BigInteger, default=0)


class VerdictState(Base):
    """How far the judging got: the last call id judged, the last ledger record read, the rules version used, and
    the ids below the last one that were not there when it was judged (``campaigns.openids``)."""

    __tablename__ = "verdict_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_call_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_ledger_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # [[first id, last id, next transaction id when found (PostgreSQL), found at (ISO)], ...], ascending
    open_ids: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    rules: Mapped[str] = mapped_column(String(40), default="")
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class InboundMessage(Base):
    """A text message sent to one of our numbers, once per carrier message id (a retried webhook finds it here),
    with what it caused: a revocation (the internal DNC entry it made), a readmission (the entry lifted) or nothing."""

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "message_sid"), Index("ix_inbound_messages_e164", "e164"),
                      Index("ix_inbound_messages_received_at", "received_at", "id"))  # Texts received, newest first

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    message_sid: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))  # as the carrier gave it
    e164: Mapped[str | None] = mapped_column(String(20), nullable=True)  # the sender, when a North American number
    to_number: Mapped[str] = mapped_column(String(64), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(String(24))  # revocation | repeat | readmission | none | unreadable_sender
    word: Mapped[str] = mapped_column(String(40), default="")  # the revocation or opt-in word it used
    # the internal DNC entry recorded (revocation), or the first one lifted (readmission)
    entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
