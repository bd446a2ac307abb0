"""What people changed on a campaign (settings, lists, leads, who may join): who, when, old -> new.

Values are stored as the page shows them (with their units), so the history reads the same years later even if a
column's unit changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaign.models import CampaignChange


def record(session: Session, campaign_id: int, at: datetime, by: str, field: str, old: str, new: str,
           subject: str = "campaign") -> None:
    session.add(CampaignChange(campaign_id=campaign_id, at=at, by=by or "", subject=subject, field=field,
                               old=old, new=new))


@dataclass(frozen=True)
class Change:
    at: datetime
    by: str
    subject: str
    field: str
    old: str
    new: str

    @property
    def what(self) -> str:
        """``list:5`` -> ``list 5``: how the history names what was changed."""
        kind, _, ref = self.subject.partition(":")
        return f"{kind} {ref}" if ref else kind


def changes(session: Session, campaign_id: int, subject: str | None = None, limit: int = 100) -> list[Change]:
    """Newest first; ``subject`` narrows to one list (``list:5``) or lead (``lead:77``)."""
    q = select(CampaignChange).where(CampaignChange.campaign_id == campaign_id)
    if subject is not None:
        q = q.where(CampaignChange.subject == subject)
    rows = session.scalars(q.order_by(CampaignChange.at.desc(), CampaignChange.id.desc()).limit(limit))
    return [Change(r.at, r.by, r.subject, r.field, r.old, r.new) for r in rows]
