"""What a sales lead asked for (issue 16): per-agent figures without the meaningless per-agent hit rate, ranges that
fit the data with a total row, campaigns side by side, and exports a spreadsheet opens as the page reads."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from tests.web import test_console_reports as base

calls = base.calls  # the fixture: Spring, 4 dials, 2 contacts (ann), 1 closed on its first contact


def sheet(client, path: str) -> list[dict]:
    r = client.get(path)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))


def test_per_agent_figures_have_contacts_and_conversion_but_no_dials_or_hit_rate(client, auth, calls):
    auth.login("sales")
    html = client.get("/reports/agents?campaign=Spring").get_data(as_text=True)
    table = html[html.index('id="report-table"'):html.index("</table>")]
    for label in ("contacts", "contacts per hour", "conversion per contact", "first-call close", "talk share",
                  "wrap share"):
        assert f">{label}</th>" in table
    assert "hit rate" not in table and "dials" not in table
    ann = table[table.index(">ann<"):]
    assert ">2</td>" in ann and "50.0 %" in ann  # 2 contacts, 1 close
    r = client.get("/reports/hit-rate?campaign=Spring&by=agent")
    assert r.status_code == 400 and 'id="by-error"' in r.get_data(as_text=True)  # not a choice
    rows = sheet(client, "/reports/agents.csv?campaign=Spring")
    assert rows[0]["agent"] == "ann" and rows[0]["conversion per contact (%)"] == "50.0"
    assert rows[0]["average handle time"] == "0:01:30"  # 80 s talk + 10 s wrap, as h:mm:ss


def test_a_grouped_report_ends_with_a_total_row_and_exports_it(client, auth, calls, sessions, clock):
    t = clock.now() - timedelta(hours=1)
    with sessions() as s:
        cid = s.query(Campaign).filter_by(name="Spring").one().id
        april = LeadList(campaign_id=cid, name="April", sha256="b" * 64, uploaded_at=t, rows=1, accepted=1)
        s.add(april)
        s.flush()
        lead = Lead(campaign_id=cid, list_id=april.id, phone="+12127364425", status="retry", created_at=t,
                    updated_at=t)
        s.add(lead)
        s.flush()
        s.add(Call(campaign_id=cid, lead_id=lead.id, list_id=april.id, phone=lead.phone, attempt=1, placed_at=t,
                   ended_at=t + timedelta(seconds=30), outcome="no_answer", status="completed"))
        s.commit()
    auth.login("sales")
    html = client.get("/reports/hit-rate?campaign=Spring&by=list").get_data(as_text=True)
    total = html[html.index('id="total-row"'):]
    total = total[:total.index("</tr>")]
    assert ">Total</th>" in total and ">5</th>" in total and "40.0 %" in total  # 2 contacts of 5 dials
    rows = sheet(client, "/reports/hit-rate.csv?campaign=Spring&by=list")
    assert [r["list"] for r in rows] == ["March", "April", "Total"]
    assert rows[-1]["dials"] == "5" and rows[-1]["hit rate (%)"] == "40.0"


def test_campaigns_side_by_side(client, auth, calls, sessions, clock):
    from campaigns.campaign.service import create_campaign, set_status

    with sessions() as s:
        set_status(s, s.query(Campaign).filter_by(name="Spring").one(), "active", clock.now())
        set_status(s, create_campaign(s, "Autumn", "+12125550100", clock.now()), "active", clock.now())
        s.commit()
    auth.login("sales")
    assert 'id="compare-link"' in client.get("/reports/?campaign=Spring").get_data(as_text=True)
    html = client.get("/reports/compare").get_data(as_text=True)
    table = html[html.index('id="compare-table"'):]
    spring, autumn = table[table.index(">Spring<"):], table[table.index(">Autumn<"):table.index(">Spring<")]
    assert "50.0 %" in spring.split("</tr>")[0] and "—" in autumn  # Autumn has nothing to measure
    rows = sheet(client, "/reports/compare?format=csv")
    assert [r["campaign"] for r in rows] == ["Autumn", "Spring"] and rows[1]["hit rate (%)"] == "50.0"


def test_a_sales_lead_schedules_a_report_by_email_and_an_agent_may_not(client, auth, calls, sessions):
    auth.login("sales")
    html = client.get("/reports/schedules").get_data(as_text=True)
    assert 'id="mail-warning"' in html and "No report is scheduled." in html
    with sessions() as s:
        cid = s.query(Campaign).filter_by(name="Spring").one().id
    r = auth.post("/reports/schedules", {"campaign": str(cid), "report": "daily", "recipients": "not-an-address",
                                          "weekday": "every", "hour": "7"}, page="/reports/schedules")
    assert "&#39;not-an-address&#39; is not an e-mail address" in client.get(r.location).get_data(as_text=True)
    auth.post("/reports/schedules", {"campaign": str(cid), "report": "daily", "recipients": "lead@example.com",
                                     "weekday": "0", "hour": "7"}, page="/reports/schedules")
    html = client.get("/reports/schedules").get_data(as_text=True)
    assert "Scheduled: Spring, every Monday at 07:00, to lead@example.com." in html
    assert "<td>Daily report</td>" in html
    auth.logout()
    auth.login("agent")
    assert client.get("/reports/schedules").status_code == 403
