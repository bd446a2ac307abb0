"""One row per carrier account: the earliest moment its next call may be sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class CpsBudget(Base):
    """The account's send clock: slots are handed out from ``next_at`` onwards, one per ``1 / rate`` seconds."""

    __tablename__ = "cps_budgets"

    account: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. the Twilio account SID
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
