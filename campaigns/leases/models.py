"""Stored leases: which process holds a periodic job, until when, and what its last run returned."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class JobLease(Base):
    __tablename__ = "job_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_result: Mapped[object | None] = mapped_column(JSON, nullable=True)  # what the last run returned
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)  # why the last run failed, if it did


class DialWorker(Base):
    """A running dialing worker (``dialer run``): it heartbeats here, and the campaigns are shared out among the
    workers whose heartbeat has not expired (``campaigns.leases.ownership``)."""

    __tablename__ = "dial_workers"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)  # host:pid, the holder of its leases
    carrier: Mapped[str] = mapped_column(String(16), default="sim")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # dead after this without a heartbeat
    campaigns: Mapped[int] = mapped_column(Integer, default=0)  # how many campaigns it owned at its last beat
    # the key of the advisory lock it holds while alive (PostgreSQL; ``campaigns.leases.presence``), if any
    presence: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # stopping after SIGTERM: it keeps what it holds and takes nothing, so the others share the rest without it
    draining: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
