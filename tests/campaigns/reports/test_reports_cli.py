"""``dialer report …`` end to end on the hand-built call log: JSON shapes, exports, charts, daily reports, errors."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook
from sqlalchemy import update

from campaigns.leads.models import LeadList

AT = "2030-01-08T15:00:00+00:00"  # the clock of the hand-built log: 10:00 in New York
RANGE = ["--campaign", "Acme", "--from", "2030-01-07", "--to", "2030-01-08", "--at", AT]


def test_summary_json_shape(floor, dialer):
    r = dialer("report", "summary", *RANGE, "--json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    for key in ("dials", "live_answers", "contacts", "abandoned", "hit_rate", "first_call_close", "abandon_rate",
                "closes", "aht_seconds"):
        assert key in obj, key
    assert (obj["dials"], obj["contacts"], obj["closes"]) == (12, 5, 2)
    assert obj["hit_rate"] == 5 / 12


def test_list_close_json_is_a_list(floor, dialer):
    r = dialer("report", "list-close", *RANGE, "--format", "json")
    assert r.code == 0, r.err
    rows = json.loads(r.out)
    assert isinstance(rows, list) and len(rows) == 2
    for key in ("list", "prospects", "closed", "close_rate", "invalid", "duplicate", "suppressed", "never_reached",
                "reached_not_closed"):
        assert key in rows[0], key


def test_empty_range_shows_dashes_and_nulls(floor, dialer):
    r = dialer("report", "summary", "--campaign", "Acme", "--from", "2029-06-01", "--to", "2029-06-02", "--at", AT)
    assert r.code == 0, r.err
    line = next(x for x in r.out.splitlines() if x.startswith("hit rate"))  # the table in words, the JSON in keys
    assert line.split()[-1] == "—"
    obj = json.loads(dialer("report", "summary", "--campaign", "Acme", "--from", "2029-06-01", "--to",
                            "2029-06-02", "--json").out)
    assert obj["hit_rate"] is None and obj["dials"] == 0


def test_csv_is_formula_safe(floor, sessions, dialer):
    with sessions.begin() as s:
        s.execute(update(LeadList).where(LeadList.id == floor.lists["A"]).values(name='=HYPERLINK("http://x")'))
    r = dialer("report", "hit-rate", *RANGE, "--by", "list", "--format", "csv")
    assert r.code == 0, r.err
    rows = list(csv.DictReader(io.StringIO(r.out)))
    assert rows[0]["list"] == "'=HYPERLINK(\"http://x\")"
    assert float(rows[0]["hit_rate"]) == 4 / 7
    empty = dialer("report", "hit-rate", "--campaign", "Acme", "--from", "2029-06-01", "--to", "2029-06-01",
                   "--format", "csv")
    assert empty.code == 0 and list(csv.DictReader(io.StringIO(empty.out))) == []  # no activity, no rows


def test_xlsx_has_typed_cells_and_no_formulas(floor, sessions, dialer, tmp_path):
    with sessions.begin() as s:
        s.execute(update(LeadList).where(LeadList.id == floor.lists["A"]).values(name="=1+1"))
    out = tmp_path / "lists.xlsx"
    r = dialer("report", "list-close", *RANGE, "--format", "xlsx", "-o", out)
    assert r.code == 0, r.err
    ws = load_workbook(out)["list-close"]
    header = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(header, ws[2], strict=True)}
    assert row["list"].value == "=1+1" and row["list"].data_type == "s"
    assert row["close rate"].value == 0.4 and row["close rate"].number_format == "0.0%"
    assert "About" in load_workbook(out).sheetnames


def test_charts_png_and_svg(floor, dialer, tmp_path):
    png, svg = tmp_path / "hit.png", tmp_path / "abandon.svg"
    assert dialer("report", "hit-rate", *RANGE, "--chart", png).code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert dialer("report", "abandon", *RANGE, "--chart", svg).code == 0
    assert b"<svg" in svg.read_bytes()[:400]


def test_user_mistakes_are_one_line(floor, dialer, tmp_path):
    cases = [
        (["report", "summary", "--campaign", "Nope"], "no campaign named 'Nope'"),
        (["report", "summary", "--campaign", "Acme", "--from", "2030-02-01", "--to", "2030-01-01"], "is after"),
        (["report", "summary", "--campaign", "Acme", "--from", "yesterday"], "is not a date"),
        (["report", "hit-rate", *RANGE, "--chart", tmp_path / "x.gif"], ".png or .svg"),
        (["report", "list-close", *RANGE, "--chart", tmp_path / "x.png"], "no time series"),
        (["report", "summary", *RANGE, "--format", "xlsx"], "needs --output"),
        (["report", "summary", "--campaign", "Acme", "--at", "noon"], "not an ISO date-time"),
    ]
    for args, message in cases:
        r = dialer(*args)
        assert r.code == 2, (args, r.out, r.err)
        assert r.err.startswith("error: ") and message in r.err and r.err.count("\n") == 1, r.err


def test_daily_reports_are_generated_kept_and_downloadable(floor, dialer, tmp_path):
    r = dialer("report", "daily", "generate", "--campaign", "Acme", "--day", "2030-01-07", "--json")
    assert r.code == 0, r.err
    listed = json.loads(dialer("report", "daily", "list", "--campaign", "Acme", "--json").out)
    assert listed["days"][0]["day"] == "2030-01-07" and listed["days"][0]["dials"] == 11
    shown = json.loads(dialer("report", "daily", "show", "--campaign", "Acme", "--day", "2030-01-07", "--json").out)
    assert shown["reports"]["summary"]["dials"] == 11
    assert {"hit-rate", "list-close", "agent-leaderboard", "abandon"} <= set(shown["reports"])
    out = tmp_path / "day.xlsx"
    assert dialer("report", "daily", "show", "--campaign", "Acme", "--day", "2030-01-07", "--format", "xlsx",
                  "-o", out).code == 0
    assert {"summary", "hit-rate", "About"} <= set(load_workbook(out).sheetnames)
    missing = dialer("report", "daily", "show", "--campaign", "Acme", "--day", "2030-01-05")
    assert missing.code == 2 and "no daily report" in missing.err


def test_glossary(dialer):
    r = dialer("report", "glossary", "--json")
    assert json.loads(r.out)["hit_rate"].startswith("Contacts ÷ dials")


def test_at_without_a_zone_is_the_campaigns_local_time_and_says_so(sessions, dialer):
    """A manager types the time on the campaign's clock: ``--at 2030-03-12T10:00`` on the New York floor of
    ``test_reports_crosscheck`` is 10:00 EDT (14:00 UTC), whose 30 days hold 3 abandons in 8 live answers; read as
    UTC (06:00 EDT) the call talking at 09:59 was not placed yet (3 in 7). A local time that does not exist (the
    hour skipped in spring) or exists twice (the hour repeated in autumn) is refused, naming the flag and the form
    that removes the doubt; ``--help`` says how a time without a zone is read."""
    from tests.campaigns.reports.test_reports_crosscheck import build_cross

    with sessions.begin() as s:
        build_cross(s)
    span = ["--campaign", "Cross", "--from", "2030-03-09", "--to", "2030-03-12", "--json"]

    def reading(at: str) -> tuple[int, int]:
        r = dialer("report", "summary", *span, "--at", at)
        assert r.code == 0, r.err
        obj = json.loads(r.out)
        return obj["abandoned_30d"], obj["live_answers_30d"]

    assert reading("2030-03-12T10:00:00-04:00") == reading("2030-03-12T14:00:00Z") == (3, 8)
    assert reading("2030-03-12T10:00") == (3, 8), "a time without a zone must be the campaign's local time"
    for skipped_or_twice in ("2030-03-10T02:30", "2030-11-03T01:30"):
        r = dialer("report", "summary", *span, "--at", skipped_or_twice)
        assert r.code == 2 and "--at" in r.err and "America/New_York" in r.err and "-05:00" in r.err, r.err
    r = dialer("report", "summary", *span, "--at", "noon")
    assert r.code == 2 and "--at" in r.err and "2030-01-31T18:00" in r.err, r.err
    r = dialer("report", "summary", "--help")
    assert "campaign's time zone" in " ".join(r.out.split()), r.out
