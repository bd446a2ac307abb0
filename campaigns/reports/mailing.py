"""Scheduled reports by e-mail: a report (or the stored daily report) of a campaign, mailed daily or weekly at a
local hour of the campaign's time zone, as an XLSX attachment with the figures also in the message.

The worker's ``reports-email`` job (``dialer.jobs.reports``) calls ``send_due`` every few minutes. A schedule is
due once per local day (or on its weekday) from its hour on; what it covers is the day before (daily) or the seven
days before (weekly), so a report is always about finished days. A failure is kept on the schedule
(``last_error``) and tried again on the next run; a success records the local day it went out, so a restarted
worker never mails the same day twice.
"""

from __future__ import annotations

import io
import logging
import re
import smtplib
import ssl
from collections.abc import Callable
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.names import CONTROL, one_line
from campaigns.reports.base import Report
from campaigns.reports.export import display_rows, to_xlsx
from campaigns.reports.models import ReportSchedule
from dnc.errors import UserError
from dnc.settings import SmtpSettings as Smtp

log = logging.getLogger(__name__)
DAILY = "daily"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ADDRESS = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MAX_RECIPIENTS = 20


def recipients_of(raw: str) -> list[str]:
    """Addresses separated by commas, semicolons or spaces; a clear refusal naming the bad one."""
    found = [a for a in re.split(r"[,;\s]+", raw or "") if a]
    if not found:
        raise UserError("recipients: give at least one e-mail address")
    if len(found) > MAX_RECIPIENTS:
        raise UserError(f"recipients: at most {MAX_RECIPIENTS} addresses")
    for a in found:
        if not ADDRESS.match(a) or CONTROL.search(a):  # a control character would travel in the To header
            raise UserError(f"recipients: {a!r} is not an e-mail address")
    return found


def add_schedule(session: Session, campaign: Campaign, report: str, recipients: str, hour: int,
                 weekday: int | None, now: datetime, by: str) -> ReportSchedule:
    from campaigns.reports.catalog import REPORTS

    if report != DAILY and report not in REPORTS:
        raise UserError(f"report: {report!r} is not a report (choose the daily report or one of "
                        f"{', '.join(REPORTS)})")
    if not 0 <= hour <= 23:
        raise UserError("hour: a whole hour from 0 to 23")
    if weekday is not None and not 0 <= weekday <= 6:
        raise UserError("day: every day, or one day of the week")
    row = ReportSchedule(campaign_id=campaign.id, report=report, recipients=", ".join(recipients_of(recipients)),
                         weekday=weekday, hour=hour, created_by=by, created_at=now)
    session.add(row)
    session.flush()
    return row


def remove_schedule(session: Session, schedule_id: int) -> None:
    row = session.get(ReportSchedule, schedule_id)
    if row is None:
        raise UserError(f"no schedule {schedule_id}")
    session.delete(row)


def schedules(session: Session) -> list[tuple[ReportSchedule, str]]:
    q = (select(ReportSchedule, Campaign.name).join(Campaign, Campaign.id == ReportSchedule.campaign_id)
         .order_by(Campaign.name, ReportSchedule.id))
    return [(r, n) for r, n in session.execute(q)]


def when_text(s: ReportSchedule) -> str:
    day = "every day" if s.weekday is None else f"every {WEEKDAYS[s.weekday]}"
    return f"{day} at {s.hour:02d}:00"


def due_day(s: ReportSchedule, zone: str, now: datetime) -> date | None:
    """The local day this schedule should go out on now, or None (not its hour or weekday yet, or sent today)."""
    local = now.astimezone(ZoneInfo(zone))
    today = local.date()
    if local.hour < s.hour or (s.weekday is not None and today.weekday() != s.weekday):
        return None
    if s.last_sent_on is not None and s.last_sent_on >= today:
        return None
    return today


def build(session: Session, s: ReportSchedule, campaign: Campaign, today: date, now: datetime,
          refreshed: bool = False) -> list[Report]:
    """The reports a schedule sends on ``today``: the day before, or the seven days before for a weekly one.
    ``refreshed``: the caller brought the rollups up to date, so this only reads."""
    from campaigns.reports.catalog import run_report
    from campaigns.reports.daily import compute, sections_of, unstored

    last = today - timedelta(days=1)
    if s.report == DAILY:
        return sections_of(unstored(campaign, last, now, compute(session, campaign, last, now, refreshed)))
    first = last - timedelta(days=6) if s.weekday is not None else last
    return [run_report(session, s.report, campaign.name, now, first, last, refreshed=refreshed)]


class RefusedHeader(UserError):
    """The mail library refused a header: this schedule's failure, kept on it like a refused delivery."""


def _header(msg: EmailMessage, name: str, value: str) -> None:
    """Set a header on one line; the ``ValueError`` the mail library raises for a value it refuses (the only one
    ``send_due`` keeps on a schedule: any other is a bug, raised to the job) becomes a ``RefusedHeader`` naming it."""
    try:
        msg[name] = one_line(value)
    except ValueError as e:
        raise RefusedHeader(f"the {name} header was refused: {e}") from e


def message(s: ReportSchedule, campaign: Campaign, reports: list[Report], sender: str) -> EmailMessage:
    """Plain text with each report's figures as the page shows them, and the XLSX attached."""
    p = reports[0].period
    title = "Daily report" if s.report == DAILY else reports[0].title
    msg = EmailMessage()
    # Every header is one line, whatever a name stored before names were checked holds: the mail library refuses
    # a line break in a header (the whole message, so the schedule never went out), and one it let through would
    # end the header and start another (a Bcc in the Subject).
    _header(msg, "Subject", f"{campaign.name}: {title}, {p.first_day}" + ("" if p.first_day == p.last_day
                                                                          else f" to {p.last_day}"))
    _header(msg, "From", sender)
    _header(msg, "To", s.recipients)
    lines = [f"{title} of campaign {one_line(campaign.name)}, {p.first_day} to {p.last_day} ({p.tz}).", ""]
    for rep in reports:
        lines += [rep.title, "-" * len(rep.title)]
        rows = display_rows(rep)
        for row in rows[:50]:
            lines.append("; ".join(f"{k}: {v}" for k, v in row.items()))
        if len(rows) > 50:
            lines.append(f"... {len(rows) - 50} more rows in the attachment")
        if not rows:
            lines.append("Nothing to report.")
        lines.append("")
    lines.append(f"Sent {when_text(s)} ({campaign.timezone}). The attachment opens in any spreadsheet.")
    msg.set_content("\n".join(lines))
    buf = io.BytesIO()
    to_xlsx(reports, buf)
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{campaign.name}-{s.report}-{p.first_day}_{p.last_day}")
    msg.add_attachment(buf.getvalue(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.spreadsheetml.sheet", filename=f"{name}.xlsx")
    return msg


def deliver(smtp: Smtp, msg: EmailMessage, timeout: float = 30.0) -> None:
    if smtp.security == "ssl":
        conn = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=timeout, context=ssl.create_default_context())
    else:
        conn = smtplib.SMTP(smtp.host, smtp.port, timeout=timeout)
    with conn:
        if smtp.security == "starttls":
            conn.starttls(context=ssl.create_default_context())
        if smtp.user:
            conn.login(smtp.user, smtp.password or "")
        conn.send_message(msg)


def send_due(session: Session, now: datetime, smtp: Smtp | None,
             send: Callable[[Smtp, EmailMessage], None] = deliver) -> dict[str, list[str]]:
    """Mail every schedule that is due. Returns what was sent and what failed.

    Nothing here holds SQLite's write lock while it reads, builds or sends: the rollups are refreshed the unlocked
    way (``campaigns.reports.absorb``), the reports are built through a reading session, the mail goes out with no
    transaction open, and each outcome is written in a short transaction of its own."""
    from campaigns.db import reading
    from campaigns.reports.absorb import refresh_unlocked

    out: dict[str, list[str]] = {"sent": [], "failed": [], "waiting": []}
    bugs: list[Exception] = []
    with reading(session) as reader:
        due = [(s.id, s.campaign_id, f"{name}/{s.report}#{s.id}", today) for s, name in schedules(reader)
               if (today := due_day(s, reader.get(Campaign, s.campaign_id).timezone, now)) is not None]
    for sid, cid, label, today in due:
        if smtp is None:
            out["waiting"].append(label)  # no mail server configured: kept, nothing sent
            continue
        try:
            refresh_unlocked(session, cid, now)
            with reading(session) as reader:
                s, campaign = reader.get(ReportSchedule, sid), reader.get(Campaign, cid)
                if s is None or due_day(s, campaign.timezone, now) != today:
                    continue  # removed, or sent by another run meanwhile
                msg = message(s, campaign, build(reader, s, campaign, today, now, refreshed=True), smtp.sender)
            send(smtp, msg)
        except (OSError, smtplib.SMTPException, UserError) as e:  # a refused header is a UserError (RefusedHeader)
            _failed(session, sid, f"{now:%Y-%m-%d %H:%M} UTC: {e}")
            out["failed"].append(label)
            continue
        except Exception as e:  # a bug: the other schedules still go out, then the job fails with it (its log)
            log.exception("report schedule %s could not be built or sent", label)
            _failed(session, sid, f"{now:%Y-%m-%d %H:%M} UTC: an internal error stopped this report; the "
                                  "administrator finds it in the dialer worker's log")
            out["failed"].append(label)
            bugs.append(e)
            continue
        row = session.get(ReportSchedule, sid, populate_existing=True)
        if row is not None:
            row.last_sent_on, row.last_error = today, None
        session.commit()
        out["sent"].append(label)
    if bugs:
        raise bugs[0]
    return out


def _failed(session: Session, sid: int, error: str) -> None:
    session.rollback()
    row = session.get(ReportSchedule, sid)
    if row is not None:
        row.last_error = error[:400]
    session.commit()
