"""Stored carrier callbacks: every webhook the carrier sent, once, in the order the loop must apply them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class CarrierCallback(Base):
    __tablename__ = "carrier_callbacks"
    __table_args__ = (
        UniqueConstraint("provider", "call_sid", "event_key"),
        Index("ix_carrier_callbacks_pending", "processed_at", "id"),
        Index("ix_carrier_callbacks_call", "call_sid"),
        Index("ix_carrier_callbacks_attempt", "attempt"),
        # the reports read keypress opt-outs per call (created by the reports' migration r0001)
        Index("ix_carrier_callbacks_dtmf", "call_sid", postgresql_where=text("kind = 'dtmf'"),
              sqlite_where=text("kind = 'dtmf'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    call_sid: Mapped[str] = mapped_column(String(64))
    event_key: Mapped[str] = mapped_column(String(48))  # e.g. "status:ringing", "amd", "digits:1"
    kind: Mapped[str] = mapped_column(String(16))  # a CarrierEvent kind
    rank: Mapped[int] = mapped_column(Integer, default=0)  # RANKS[kind]; 0 = not ordered (dtmf)
    status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answered_by: Mapped[str | None] = mapped_column(String(24), nullable=True)
    digits: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sequence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # the token of the attempt the callback URL named (``dialer.carriers.twilio.attempt``); None: placed without one
    attempt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    carrier_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
