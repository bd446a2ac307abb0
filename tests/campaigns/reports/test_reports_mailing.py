"""Scheduled reports by e-mail, sent through a real SMTP conversation with a local server started here (a small
smtplib-compatible server on the standard library's socketserver): the worker's ``reports-email`` job mails the
daily report and a weekly report when due, once per local day; a refused delivery is kept on the schedule.
Also the console page where a sales lead schedules them."""

from __future__ import annotations

import email
import socketserver
import threading
from datetime import UTC, datetime, timedelta
from email import policy

import pytest

from campaigns.campaign.service import create_campaign
from campaigns.reports import mailing
from campaigns.reports.models import ReportSchedule
from dialer.jobs.reports import mail_due
from dnc.errors import UserError


class SmtpInbox(socketserver.ThreadingTCPServer):
    """Speaks enough SMTP for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); keeps what it received.
    ``refuse`` makes it answer 554 to DATA, as a mail server rejecting the message."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse = False

    @property
    def port(self) -> int:
        return self.server_address[1]


class _Session(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 localhost test SMTP")
        sender, rcpts = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == "HELO" or verb == "NOOP" or verb == "RSET":
                self.reply("250 OK")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].strip().strip("<>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                body = []
                while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    body.append(line[1:] if line.startswith(b"..") else line)
                if self.server.refuse:
                    self.reply("554 Message rejected")
                else:
                    self.server.messages.append((sender, rcpts, b"".join(body)))
                    self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


@pytest.fixture
def inbox(setenv):
    server = SmtpInbox()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    setenv(DIALER_SMTP_HOST="127.0.0.1", DIALER_SMTP_PORT=str(server.port), DIALER_SMTP_SECURITY="none",
           DIALER_SMTP_FROM="reports@dialer.example")
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def parsed(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_the_daily_report_and_a_weekly_report_are_mailed_once_when_due(inbox, sessions, clock):
    # clock: 2030-01-08 (Tuesday) 15:00 UTC = 10:00 in New York
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(days=3))
        mailing.add_schedule(s, c, "daily", "lead@example.com; boss@example.com", 8, None, clock.now(), "sales")
        mailing.add_schedule(s, c, "hit-rate", "lead@example.com", 9, 1, clock.now(), "sales")  # Tuesdays 09:00
        mailing.add_schedule(s, c, "agents", "lead@example.com", 11, None, clock.now(), "sales")  # not yet
        s.commit()
        out = mail_due(s, clock.now())
    assert out["sent"] == ["Spring/daily#1", "Spring/hit-rate#2"] and not out["failed"]
    assert len(inbox.messages) == 2
    sender, rcpts, raw = inbox.messages[0]
    assert sender == "reports@dialer.example" and rcpts == ["lead@example.com", "boss@example.com"]
    daily = parsed(raw)
    assert daily["Subject"] == "Spring: Daily report, 2030-01-07"
    assert "Summary" in daily.get_body(("plain",)).get_content()
    xlsx = [p for p in daily.iter_attachments()]
    assert xlsx and xlsx[0].get_filename() == "Spring-daily-2030-01-07_2030-01-07.xlsx"
    weekly = parsed(inbox.messages[1][2])
    assert weekly["Subject"] == "Spring: Hit rate, 2030-01-01 to 2030-01-07"
    with sessions() as s:
        assert mail_due(s, clock.now() + timedelta(minutes=30))["sent"] == []  # once per local day
        assert {r.id: r.last_sent_on.isoformat() for r in s.query(ReportSchedule) if r.last_sent_on} == \
            {1: "2030-01-08", 2: "2030-01-08"}
    clock.advance(3600)
    with sessions() as s:
        assert mail_due(s, clock.now())["sent"] == ["Spring/agents#3"]


def test_a_refused_delivery_is_kept_on_the_schedule_and_tried_again(inbox, sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(days=1))
        mailing.add_schedule(s, c, "summary", "lead@example.com", 6, None, clock.now(), "sales")
        s.commit()
        inbox.refuse = True
        assert mail_due(s, clock.now())["failed"] == ["Spring/summary#1"]
        row = s.query(ReportSchedule).one()
        assert row.last_sent_on is None and "554" in row.last_error
        inbox.refuse = False
        assert mail_due(s, clock.now())["sent"] == ["Spring/summary#1"]
        s.refresh(row)
        assert row.last_error is None


def test_schedules_refuse_bad_input_in_words(sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        for report, to, hour, err in (("nope", "a@b.co", 7, "is not a report"), ("summary", "a@b", 7, "not an e-mail"),
                                      ("summary", "", 7, "at least one"), ("summary", "a@b.co", 24, "hour")):
            with pytest.raises(UserError, match=err):
                mailing.add_schedule(s, c, report, to, hour, None, clock.now(), "sales")


def test_without_a_mail_server_schedules_wait(sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        mailing.add_schedule(s, c, "summary", "lead@example.com", 0, None, clock.now(), "sales")
        s.commit()
        assert mail_due(s, clock.now()) == {"sent": [], "failed": [], "waiting": ["Spring/summary#1"]}


def test_clock_is_a_tuesday_morning_in_new_york(clock):
    assert clock.now().astimezone(UTC) == datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def _spring_named_and_summer(s, clock, name: str) -> dict[str, list[str]]:
    """Spring, renamed ``name`` as a script could have (no check), and Summer, each with a summary due: the run."""
    c = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(days=1))
    other = create_campaign(s, "Summer", "+12125550101", clock.now() - timedelta(days=1))
    c.name = name
    mailing.add_schedule(s, c, "summary", "lead@example.com", 6, None, clock.now(), "sales")
    mailing.add_schedule(s, other, "summary", "lead@example.com", 6, None, clock.now(), "sales")
    s.commit()
    return mail_due(s, clock.now())


def test_a_campaign_name_with_a_line_break_is_mailed_on_one_subject_line(inbox, sessions, clock):
    """A name stored before names were checked (or written by a script) with ``\\r\\nBcc:`` in it: the mail
    library refused the whole message with a ValueError, which stopped the job for every schedule after it; nor may
    the name add a header or a recipient."""
    with sessions() as s:
        out = _spring_named_and_summer(s, clock, "Spring\r\nBcc: x@evil.example\u2028X-Evil: 1")
    assert len(out["sent"]) == 2 and not out["failed"], out
    rcpts = [r for _, rs, _ in inbox.messages for r in rs]
    assert rcpts == ["lead@example.com", "lead@example.com"]
    first = parsed(inbox.messages[0][2])
    assert first["Subject"] == "Spring Bcc: x@evil.example X-Evil: 1: Summary, 2030-01-07"
    assert first["Bcc"] is None and first["X-Evil"] is None
    headers = inbox.messages[0][2].split(b"\r\n\r\n", 1)[0]  # the body may quote the name as it is: not a header
    assert b"\nBcc:" not in headers and b"\nX-Evil:" not in headers
    assert {k for part in first.walk() for k in part} <= {"Subject", "From", "To", "Content-Type",
                                                          "Content-Transfer-Encoding", "MIME-Version",
                                                          "Content-Disposition"}
    assert [p.get_filename() for p in first.iter_attachments()] == ["Spring-Bcc-x-evil.example-X-Evil-1-summary-"
                                                                    "2030-01-07_2030-01-07.xlsx"]


def test_a_refused_header_is_kept_on_its_schedule_naming_the_header(inbox, sessions, clock, monkeypatch):
    """Were a header ever refused (here: the one-line guard taken away, a name with a line break stored), it is
    kept on its schedule like a refused delivery, saying which header, and the schedules after it still go out."""
    monkeypatch.setattr(mailing, "one_line", lambda text: text)
    with sessions() as s:
        out = _spring_named_and_summer(s, clock, "Spring\r\nBcc: x@evil.example")
        assert out["failed"] == ["Spring\r\nBcc: x@evil.example/summary#1"] and out["sent"] == ["Summer/summary#2"]
        row = s.get(ReportSchedule, 1)
        assert "the Subject header was refused" in row.last_error and row.last_sent_on is None


def test_another_value_error_is_a_bug_not_a_refused_header(inbox, sessions, clock, monkeypatch):
    """Only a refused header is a schedule's failure: a ValueError from building the report is a bug, raised to the
    job (its error and the worker's log show it with its traceback), not written on the schedule as if the mail
    had been refused."""
    def broken(*a, **kw):
        raise ValueError("a bug in a report")

    monkeypatch.setattr(mailing, "build", broken)
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(days=1))
        mailing.add_schedule(s, c, "summary", "lead@example.com", 6, None, clock.now(), "sales")
        s.commit()
        with pytest.raises(ValueError, match="a bug in a report"):
            mail_due(s, clock.now())
        s.rollback()
        row = s.query(ReportSchedule).one()
        assert row.last_sent_on is None and "internal error" in row.last_error
        assert "header" not in row.last_error  # not worded as a refused mail


def test_a_bug_in_one_schedule_does_not_stop_the_others(inbox, sessions, clock, monkeypatch):
    """A report that cannot be built (a bug) is raised to the job after the other schedules have gone out: one
    broken report must not silence every schedule after it, every run, until the fix ships."""
    real = mailing.build

    def broken_for_spring(reader, schedule, campaign, *a, **kw):
        if campaign.name == "Spring":
            raise ValueError("a bug in a report")
        return real(reader, schedule, campaign, *a, **kw)

    monkeypatch.setattr(mailing, "build", broken_for_spring)
    with sessions() as s:
        spring = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(days=1))
        summer = create_campaign(s, "Summer", "+12125550101", clock.now() - timedelta(days=1))
        mailing.add_schedule(s, spring, "summary", "lead@example.com", 6, None, clock.now(), "sales")
        mailing.add_schedule(s, summer, "summary", "lead@example.com", 6, None, clock.now(), "sales")
        s.commit()
        with pytest.raises(ValueError, match="a bug in a report"):
            mail_due(s, clock.now())
        s.rollback()
        rows = {r.campaign_id: r for r in s.query(ReportSchedule)}
        assert rows[summer.id].last_sent_on is not None and rows[summer.id].last_error is None
        assert rows[spring.id].last_sent_on is None and "internal error" in rows[spring.id].last_error
    assert len(inbox.messages) == 1
