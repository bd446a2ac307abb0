"""The console shows what the reports service computes on the hand-counted floor of
``tests/campaigns/reports/test_reports_crosscheck.py``: report pages, their CSV and XLSX, the floor's live JSON and
the compliance abandon page (now = Tue 12 March 2030 10:00 New York)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from tests.campaigns.reports.test_reports_crosscheck import NOW, build_cross

Q = "campaign=Cross&first=2030-03-09&last=2030-03-12"


@pytest.fixture
def cross_floor(sessions, clock) -> dict:
    clock.set(NOW)
    with sessions.begin() as s:
        return build_cross(s)


def csv_rows(client, path: str) -> list[dict]:
    r = client.get(path)
    assert r.status_code == 200, r.status_code
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))


def test_report_pages_csv_and_xlsx_say_the_hand_counts(client, auth, cross_floor):
    auth.login("sales")
    days = {r["day"]: r for r in csv_rows(client, f"/reports/hit-rate.csv?{Q}&by=day")}
    assert [(days[d]["dials"], days[d]["contacts"]) for d in ("2030-03-09", "2030-03-10", "2030-03-11",
                                                              "2030-03-12", "Total")] == \
        [("1", "1"), ("4", "1"), ("5", "2"), ("2", "1"), ("12", "5")]
    assert days["Total"]["hit rate (%)"] == "41.7"  # 5 of 12
    html = client.get(f"/reports/first-call-close?{Q}&by=agent").get_data(as_text=True)
    assert "33.3 %" in html and "50.0 %" in html  # ann 1 of 3, all 2 of 4
    r = client.get(f"/reports/list-close.xlsx?{Q}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.data)).worksheets[0]
    head = [c.value for c in ws[1]]
    l1 = next(row for row in ws.iter_rows(min_row=2, values_only=True) if row[0] == "L1")
    assert l1[head.index("closed")] == 3 and l1[head.index("prospects")] == 11


def test_floor_guard_and_compliance_read_the_same_30_days(client, auth, cross_floor):
    auth.login("manager")
    data = client.get(f"/floor/{cross_floor['campaign_id']}/data").get_json()
    t = data["today"]
    assert (t["abandoned_30d"], t["live_answers_30d"]) == (3, 8) and t["abandon_rate_30d"] == pytest.approx(3 / 8)
    assert (t["dials"], t["live_answers"], t["contacts"]) == (2, 1, 1)  # today: calls 11 and 12, in flight
    auth.logout()
    auth.login("compliance")
    html = client.get("/compliance/abandon").get_data(as_text=True)
    row = html[html.index("<td>Cross "):]
    row = row[:row.index("</tr>")]
    assert "37.5 %" in row and "(0/1)" in row  # today: as the floor's today (call 11 live, no abandon)
    assert (t["abandoned"], t["live_answers"]) == (0, 1)


def test_a_campaign_with_no_calls_shows_dashes_on_every_page_and_export(client, auth, sessions, clock):
    """Nothing to divide by anywhere: every report page, its CSV and XLSX, the floor and the compliance page answer
    200 (rates "—" or empty), never a division error."""
    from campaigns.campaign.service import create_campaign
    from campaigns.reports.catalog import REPORTS
    from web.reports import MENU

    clock.set(NOW)
    with sessions.begin() as s:
        cid = create_campaign(s, "Quiet", "+12125550122", NOW).id
    auth.login("admin")
    for name in MENU:
        spec = REPORTS[name]
        for by in (spec.groups or (None,)):
            q = "campaign=Quiet&first=2030-03-01&last=2030-03-12" + (f"&by={by}" if by else "")
            for path in (f"/reports/{name}?{q}", f"/reports/{name}.csv?{q}", f"/reports/{name}.xlsx?{q}"):
                r = client.get(path)
                assert r.status_code == 200, (path, r.status_code)
    data = client.get(f"/floor/{cid}/data").get_json()
    assert data["today"]["abandon_rate_30d"] is None and data["today"]["hit_rate"] is None
    assert client.get("/compliance/abandon").status_code == 200


def test_by_agent_csv_lists_agents_then_the_calls_no_agent_took_then_the_total(client, auth, sessions, clock):
    """The console's DNC report by agent on the hand-built log of ``tests/campaigns/reports/support.py``: alice's
    DNC disposition, bob's none, the press-9 opt-out no agent took in a row apart, and the campaign's total."""
    from tests.campaigns.reports.support import build_floor

    clock.set(datetime(2030, 1, 9, 15, 0, tzinfo=UTC))
    with sessions.begin() as s:
        build_floor(s, clock)
    auth.login("sales")
    q = "campaign=Acme&first=2030-01-07&last=2030-01-08&by=agent"
    rows = csv_rows(client, f"/reports/dnc.csv?{q}")
    assert [(r["agent"], r["DNC requests"], r["keypress opt-outs"]) for r in rows] == [
        ("alice", "1", "0"), ("bob", "0", "0"), ("calls no agent took", "1", "1"), ("Total", "2", "1")]
    html = client.get(f"/reports/dnc?{q}").get_data(as_text=True)
    assert "(no agent)" not in html and "calls no agent took" in html
    for name in ("agent-time", "completion", "first-call-close"):
        agents = [r["agent"] for r in csv_rows(client, f"/reports/{name}.csv?{q}")]
        assert agents[:2] == ["alice", "bob"] and "(no agent)" not in agents, (name, agents)
