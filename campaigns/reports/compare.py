"""Campaigns side by side over the same dates: each one's summary (its own time zone's days), one row each."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from campaigns.campaign.service import list_campaigns
from campaigns.reports.base import Column, Report
from campaigns.reports.period import period

FIELDS = (("dials", "dials", "int"), ("contacts", "contacts", "int"), ("hit_rate", "hit rate", "rate"),
          ("closes", "closes", "int"), ("conversion", "conversion per contact", "rate"),
          ("first_call_close", "first-call close", "rate"),
          ("contacts_per_agent_hour", "contacts per agent-hour", "number"),
          ("aht_seconds", "average handle time", "seconds"), ("abandon_rate", "abandon rate", "rate"),
          ("abandon_rate_30d", "abandon rate, 30 days", "rate"), ("penetration", "penetration", "rate"))


def compare(session: Session, now: datetime, first: str | date | None = None, last: str | date | None = None,
            include_finished: bool = False) -> Report:
    """One row per campaign (drafts left out; finished ones only when asked), every figure defined as in the
    summary."""
    from campaigns.reports.catalog import run_report

    rows, shown = [], None
    for c in list_campaigns(session):
        if c.status == "draft" or (c.status == "finished" and not include_finished):
            continue
        rep = run_report(session, "summary", c.name, now, first, last)
        rows.append({"campaign": c.name, "status": c.status, **{k: rep.rows[0].get(k) for k, _, _ in FIELDS}})
        shown = shown or rep.period
    cols = [Column("campaign", "campaign", "text"), Column("status", "status", "text")] + \
        [Column(k, lbl, kind) for k, lbl, kind in FIELDS]
    p = shown or period("UTC", now, first, last)
    r = Report("compare", "Campaigns compared", "all campaigns", p, cols, rows, "campaign")
    r.notes.append("each campaign's days are read in its own time zone")
    return r
