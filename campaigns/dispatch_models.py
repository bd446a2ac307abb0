"""Tables of the dial loop beyond the core ones: the last pacing decision per campaign, for the console."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from campaigns.db import Base
from dnc.sqltypes import UTCDateTime


class PacingStatus(Base):
    """What the campaign's pacer decided last and why (``pacer.explain()``), refreshed every few seconds by the
    worker that dials the campaign: the console's answer to "why is it dialing like this?"."""

    __tablename__ = "pacing_status"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[dict] = mapped_column(JSON, default=dict)
