"""The sales lead's reports: headline figures with their definitions, filters that say what is wrong, tables."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from markupsafe import escape as html_escape

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from campaigns.reports.metrics import GLOSSARY


@pytest.fixture
def calls(sessions, clock):
    """Campaign "Spring" (New York) with one list: 4 dials today, 2 contacts, 1 closed on its first contact."""
    t = clock.now() - timedelta(hours=2)
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        lst = LeadList(campaign_id=c.id, name="March", sha256="a" * 64, uploaded_at=t - timedelta(days=1),
                       rows=4, accepted=4)
        agent = Agent(name="ann", campaign_id=c.id, state="ready")
        s.add_all([lst, agent])
        s.flush()
        plan = [("+12127364421", "completed", "SALE"), ("+12127364422", "completed", "NI"),
                ("+12127364423", "no_answer", None), ("+12127364424", "busy", None)]
        for i, (phone, outcome, dispo) in enumerate(plan):
            lead = Lead(campaign_id=c.id, list_id=lst.id, phone=phone, status="closed" if dispo == "SALE" else "retry",
                        created_at=t, updated_at=t)
            s.add(lead)
            s.flush()
            placed = t + timedelta(minutes=i)
            connected = placed + timedelta(seconds=10) if dispo else None
            s.add(Call(campaign_id=c.id, lead_id=lead.id, list_id=lst.id, phone=phone, attempt=1, placed_at=placed,
                       answered_at=connected, connected_at=connected, agent_id=agent.id if dispo else None,
                       ended_at=placed + timedelta(seconds=90), outcome=outcome, disposition_code=dispo,
                       dispositioned_at=placed + timedelta(seconds=100) if dispo else None, status="completed"))
        s.commit()
    return "Spring"


def tile(html: str, key: str) -> str:
    start = html.index(f'id="tile-{key}"')
    value = html.index("data-value>", start) + len("data-value>")
    return html[value:html.index("<", value)]


def test_sales_lead_sees_the_headline_figures_with_their_definitions(client, auth, calls):
    auth.login("sales")
    r = client.get("/reports/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert tile(html, "dials") == "4" and tile(html, "contacts") == "2"
    assert tile(html, "hit_rate") == "50.0 %" and tile(html, "first_call_close") == "50.0 %"
    assert tile(html, "abandon_rate") == "0.0 %"
    assert GLOSSARY["hit_rate"] in html and GLOSSARY["first_call_close"] in html


def test_a_rate_with_nothing_to_measure_is_a_dash(client, auth, sessions, clock):
    with sessions() as s:
        create_campaign(s, "Empty", "+12125550100", clock.now())
        s.commit()
    auth.login("sales")
    html = client.get("/reports/?campaign=Empty").get_data(as_text=True)
    assert tile(html, "dials") == "0" and tile(html, "hit_rate") == "—" and tile(html, "first_call_close") == "—"


def test_filters_name_the_wrong_field(client, auth, calls):
    auth.login("sales")
    r = client.get("/reports/hit-rate?campaign=Spring&first=2030-13-01&last=2030-01-05")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="first-error">Write a date such as 2030-01-31.' in html
    r = client.get("/reports/hit-rate?campaign=Spring&first=2030-01-09&last=2030-01-05")
    assert r.status_code == 400 and "“To” is before “From”." in r.get_data(as_text=True)
    r = client.get("/reports/hit-rate?campaign=Nope")
    assert r.status_code == 400 and 'id="campaign-error"' in r.get_data(as_text=True)
    assert client.get("/reports/no-such-report").status_code == 404


def test_list_close_shows_the_breakdown(client, auth, calls):
    auth.login("sales")
    r = client.get("/reports/list-close?campaign=Spring")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "March" in html
    for label in ("prospects", "never reached", "reached, not closed", "closed", "close rate"):
        assert f">{label}</th>" in html
    assert "25.0 %" in html  # 1 closed of 4 prospects


def test_reports_grouped_by_day_list_the_days_with_activity(client, auth, calls):
    auth.login("manager")
    r = client.get("/reports/hit-rate?campaign=Spring&first=2030-01-06&last=2030-01-08&by=day")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    table = html[html.index('id="report-table"'):]
    assert "<td class=\"\">2030-01-08</td>" in table  # the day the campaign dialed
    assert "2030-01-06" not in table and "2030-01-07" not in table  # no rows of zeros before it


def test_exports_csv_and_xlsx_and_the_chart(client, auth, calls):
    from openpyxl import load_workbook

    auth.login("sales")
    r = client.get("/reports/list-close.csv?campaign=Spring")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert 'filename="Spring-list-close-' in r.headers["Content-Disposition"]
    lines = r.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0].startswith("list,prospects,invalid,duplicate,suppressed") and lines[1].startswith("March,4,")
    r = client.get("/reports/hit-rate.xlsx?campaign=Spring&by=day")
    wb = load_workbook(io.BytesIO(r.data))
    assert wb.sheetnames == ["hit-rate", "About"]
    assert [c.value for c in wb["hit-rate"][1]][:4] == ["day", "dials", "live answers", "contacts"]
    r = client.get("/reports/hit-rate/chart.svg?campaign=Spring&by=day")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml" and b"<svg" in r.data
    assert client.get("/reports/list-close/chart.svg?campaign=Spring").status_code == 404  # no time series
    assert client.get("/reports/hit-rate.pdf?campaign=Spring").status_code == 404
    html = client.get("/reports/hit-rate?campaign=Spring&by=day").get_data(as_text=True)
    assert 'src="/reports/hit-rate/chart.svg?' in html and 'id="export-xlsx"' in html


def test_report_csv_is_formula_safe(client, auth, calls, sessions):
    from campaigns.leads.models import LeadList as LL

    with sessions() as s:
        s.query(LL).filter_by(name="March").one().name = "=HYPERLINK(\"http://evil.example\")"
        s.commit()
    auth.login("sales")
    text = client.get("/reports/list-close.csv?campaign=Spring").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][0] == "'=HYPERLINK(\"http://evil.example\")"


def test_daily_reports_are_listed_viewed_and_downloaded(client, auth, calls, sessions, clock):
    from datetime import date

    from campaigns.campaign.models import Campaign as C
    from campaigns.reports.daily import generate

    with sessions() as s:
        generate(s, s.query(C).filter_by(name="Spring").one(), date(2030, 1, 8), clock.now())
        s.commit()
    auth.login("sales")
    html = client.get("/reports/daily?campaign=Spring").get_data(as_text=True)
    assert "2030-01-08" in html
    html = client.get("/reports/daily/2030-01-08?campaign=Spring").get_data(as_text=True)
    assert "Summary" in html and "Agent leaderboard" in html
    r = client.get("/reports/daily/2030-01-08?campaign=Spring&format=xlsx")
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert client.get("/reports/daily/2030-01-01?campaign=Spring").status_code == 404


def test_every_report_is_described_in_a_sentence(client, auth, calls):
    """Some descriptions in the menu started in lower case with no full stop ("agents ranked by closes, then
    conversion") among ones that were sentences (found opening the reports on the demo as the sales lead)."""
    auth.login("sales")
    about = re.findall(r'<td class="muted">([^<]*)</td>', client.get("/reports/").get_data(as_text=True))
    assert len(about) > 10
    assert [a for a in about if not (a.lstrip("(")[:1].isupper() and a.rstrip().endswith((".", ")")))] == []


def test_the_range_and_the_rolling_abandon_rates_say_what_each_measures(client, auth, calls):
    """Both headline abandon tiles carried the range's definition, so the sales lead could not tell why they
    differ; the rolling one has its own (the 30 days ending with the last day shown)."""
    auth.login("sales")
    html = client.get("/reports/").get_data(as_text=True)
    rolling = html[html.index('id="tile-abandon_rate_30d"'):].split('<div class="def">')[1].split("</div>")[0]
    assert rolling == html_escape(GLOSSARY["abandon_rate_30d"])
