"""The daily report: each campaign's finished local day, computed once by the scheduler and kept.

A day's figures can still move afterwards (a late disposition, an imported history), so a stored report is a
record of what the floor looked like when the day closed; ``generate`` can be run again to replace it. The job
runs every hour because each campaign's day ends at a different UTC hour; it stores the day just finished in
each campaign's own time zone and catches up on up to ``CATCH_UP_DAYS`` missed days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.reports.base import Column, Report, Series
from campaigns.reports.catalog import SUMMARY_WORDS, run_report
from campaigns.reports.models import CallRollup, DailyReport
from campaigns.reports.period import day_start, parse_day, period
from dnc.errors import UserError

SECTIONS = (("summary", None), ("hit-rate", "hour"), ("outcomes", "hour"), ("abandon", None),
            ("agent-leaderboard", None), ("agent-time", "agent"), ("list-close", None), ("pass", None),
            ("refusals", None))
CATCH_UP_DAYS = 7


def generate(session: Session, campaign: Campaign, day: date, now: datetime) -> DailyReport:
    """Compute and store (or replace) the report of ``day`` (a local date) for ``campaign``."""
    return keep(session, campaign, day, now, compute(session, campaign, day, now))


def compute(session: Session, campaign: Campaign, day: date, now: datetime, refreshed: bool = False) -> dict:
    """The report of ``day`` as stored (reads only when ``refreshed``: the caller brought the rollups up to date)."""
    sections = [_dump(run_report(session, name, campaign.name, now, day, day, by, refreshed=refreshed))
                for name, by in SECTIONS]
    return {"campaign": campaign.name, "timezone": campaign.timezone, "sections": sections}


def keep(session: Session, campaign: Campaign, day: date, now: datetime, data: dict) -> DailyReport:
    """Store ``data`` as the report of ``day``, replacing one stored before."""
    p = period(campaign.timezone, now, day, day)
    session.execute(delete(DailyReport).where(DailyReport.campaign_id == campaign.id, DailyReport.day == day))
    row = DailyReport(campaign_id=campaign.id, day=day, period_start=p.start, period_end=p.end, generated_at=now,
                      data=data)
    session.add(row)
    session.flush()
    return row


def unstored(campaign: Campaign, day: date, now: datetime, data: dict) -> DailyReport:
    """``data`` as a report of ``day`` that is not stored (what a mail sends when it is computed anew)."""
    p = period(campaign.timezone, now, day, day)
    return DailyReport(campaign_id=campaign.id, day=day, period_start=p.start, period_end=p.end, generated_at=now,
                       data=data)


def _dump(rep: Report) -> dict:
    return {"name": rep.name, "title": rep.title, "by": rep.by, "single": rep.single, "notes": rep.notes,
            "columns": [[c.key, c.label, c.kind] for c in rep.columns], "rows": rep.payload() if not rep.single
            else [rep.payload()],
            "apart": rep.apart,
            "series": None if rep.series is None else [rep.series.x, list(rep.series.ys), rep.series.limit,
                                                       rep.series.limit_label]}


def _words(key: str, label: str) -> str:
    """A day stored before the summary's columns had words showed its keys: give them their words."""
    return SUMMARY_WORDS.get(key, key.replace("_", " ")) if label == key else label


def sections_of(stored: DailyReport) -> list[Report]:
    """The stored day as ``Report`` objects again, for the same exports and charts as a live report."""
    tz = stored.data.get("timezone", "UTC")
    p = period(tz, stored.period_start, stored.day, stored.day)
    out = []
    for sec in stored.data["sections"]:
        series = Series(sec["series"][0], tuple(sec["series"][1]), sec["series"][2], sec["series"][3]) \
            if sec.get("series") else None
        out.append(Report(sec["name"], sec["title"], stored.data["campaign"], p,
                          [Column(k, _words(k, lbl), kind) for k, lbl, kind in sec["columns"]], sec["rows"], sec["by"],
                          series, sec["single"], list(sec.get("notes", [])), apart=sec.get("apart")))
    return out


@dataclass(frozen=True)
class DailyRow:
    campaign: str
    day: date
    generated_at: datetime
    dials: int
    contacts: int
    closes: int


def stored_days(session: Session, campaign_name: str, limit: int = 60) -> list[DailyRow]:
    c = get_campaign(session, campaign_name)
    rows = session.scalars(select(DailyReport).where(DailyReport.campaign_id == c.id)
                           .order_by(DailyReport.day.desc()).limit(limit))
    out = []
    for r in rows:
        summary = next((s["rows"][0] for s in r.data["sections"] if s["name"] == "summary"), {})
        out.append(DailyRow(c.name, r.day, r.generated_at, summary.get("dials", 0), summary.get("contacts", 0),
                            summary.get("closes", 0)))
    return out


def stored(session: Session, campaign_name: str, day: str | date) -> DailyReport:
    c = get_campaign(session, campaign_name)
    d = parse_day(day, "--day") if isinstance(day, str) else day
    row = session.scalar(select(DailyReport).where(DailyReport.campaign_id == c.id, DailyReport.day == d))
    if row is None:
        raise UserError(f"no daily report of {c.name!r} for {d}: the worker stores each day once it has ended "
                        "(`dialer report daily generate` stores one now)")
    return row


def run_due(session: Session, now: datetime) -> dict[str, list[str]]:
    """The scheduler job: store every campaign's finished local days that are still missing (last 7 days).

    Nothing here holds SQLite's write lock while it reads: the rollups are refreshed the unlocked way
    (``campaigns.reports.absorb``), each day's nine reports are computed through a reading session, and each day
    is then stored in a short transaction of its own, unless another run stored it meanwhile."""
    from campaigns.db import reading
    from campaigns.reports.absorb import refresh_unlocked

    done: dict[str, list[str]] = {}
    with reading(session) as reader:
        ids = reader.scalars(select(Campaign.id).order_by(Campaign.id)).all()
    for cid in ids:
        refresh_unlocked(session, cid, now)
        with reading(session) as reader:
            campaign = reader.get(Campaign, cid)
            if campaign is None:
                continue
            yesterday = now.astimezone(ZoneInfo(campaign.timezone)).date() - timedelta(days=1)
            have = set(reader.scalars(select(DailyReport.day).where(
                DailyReport.campaign_id == cid, DailyReport.day > yesterday - timedelta(days=CATCH_UP_DAYS))))
            days = [d for d in (yesterday - timedelta(days=i) for i in range(CATCH_UP_DAYS - 1, -1, -1))
                    if d not in have and _wanted(reader, campaign, d)]
            found = [(day, compute(reader, campaign, day, now, refreshed=True)) for day in days]
        for day, data in found:
            if session.scalar(select(DailyReport.id).where(DailyReport.campaign_id == cid,
                                                           DailyReport.day == day)) is None:
                keep(session, session.get(Campaign, cid), day, now, data)
            session.commit()
            done.setdefault(campaign.name, []).append(day.isoformat())
    return done


def _wanted(session: Session, campaign: Campaign, day: date) -> bool:
    """A day is reported when the campaign was dialing then, or had calls (imported history included)."""
    if campaign.status == "active":
        return day >= campaign.created_at.astimezone(ZoneInfo(campaign.timezone)).date()
    start = day_start(day, campaign.timezone)
    end = day_start(day + timedelta(days=1), campaign.timezone)
    return session.scalar(select(CallRollup.id).where(CallRollup.campaign_id == campaign.id,
                                                      CallRollup.bucket >= start, CallRollup.bucket < end)
                          .limit(1)) is not None
