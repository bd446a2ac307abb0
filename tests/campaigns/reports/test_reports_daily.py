"""The scheduler's daily-report job: each finished local day stored once, missed days caught up, kept."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from campaigns.reports.daily import run_due, sections_of, stored
from campaigns.reports.models import DailyReport
from dialer.clock import ManualClock
from dialer.jobs.reports import daily_reports_job, report_jobs
from dialer.jobs.scheduler import LeasedRunner
from tests.campaigns.reports.support import local


def test_job_stores_finished_days_once(floor, sessions, clock):
    with sessions() as s:  # like the scheduler's session: the job commits day by day
        done = run_due(s, local(9, "00:30:00"))  # just after midnight in New York: Jan 8 has ended
        s.commit()
    assert done == {"Acme": ["2030-01-07", "2030-01-08"]}  # a draft campaign: only days with calls
    with sessions() as s:
        assert run_due(s, local(9, "01:30:00")) == {}
        row = stored(s, "Acme", "2030-01-07")
        summary = next(r for r in sections_of(row) if r.name == "summary").payload()
        assert (summary["dials"], summary["closes"]) == (11, 1)
        assert row.period_start == local(7, "00:00:00") and row.period_end == local(8, "00:00:00")


def test_job_runs_under_its_lease(floor, sessions):
    runner = LeasedRunner(sessions, ManualClock(local(9, "00:30:00")), "worker-1")
    result = runner.run(daily_reports_job())
    assert result.ran and result.error is None and result.result == {"Acme": ["2030-01-07", "2030-01-08"]}
    with sessions() as s:
        assert s.scalars(select(DailyReport.day).order_by(DailyReport.day)).all() == [date(2030, 1, 7),
                                                                                      date(2030, 1, 8)]
    assert {j.name for j in report_jobs()} == {"reports-daily", "reports-refresh", "reports-email"}
    refresh_job = next(j for j in report_jobs() if j.name == "reports-refresh")
    assert runner.run(refresh_job).error is None
