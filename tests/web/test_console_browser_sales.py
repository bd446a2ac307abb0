"""Browser: a sales lead reads the list-close report with its breakdown and exports it (CSV and XLSX)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList, RejectedRow
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def seed(sessions, clock) -> None:
    """Two lists: "March" (5 prospects, 2 closed) and "Expo" (2 prospects, none closed)."""
    t = clock.now() - timedelta(hours=3)
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=2))
        ann = Agent(name="ann", campaign_id=c.id)
        s.add(ann)
        lists = {}
        for name, n in (("March", 4), ("Expo", 2)):
            lists[name] = LeadList(campaign_id=c.id, name=name, sha256=name.ljust(64, "0"),
                                   uploaded_at=t - timedelta(days=1), rows=n + 1, accepted=n, rejected=1)
            s.add(lists[name])
        s.flush()
        s.add_all([RejectedRow(list_id=lists[n].id, line=9, kind="rejected", reason="phone number is empty", raw=[])
                   for n in lists])
        plan = [("March", "SALE"), ("March", "SALE"), ("March", "NI"), ("March", None), ("Expo", "NI"), ("Expo", None)]
        for i, (lname, dispo) in enumerate(plan):
            phone = f"+1212736{4400 + i}"
            lead = Lead(campaign_id=c.id, list_id=lists[lname].id, phone=phone, created_at=t, updated_at=t,
                        status="closed" if dispo == "SALE" else "done" if dispo else "new")
            s.add(lead)
            s.flush()
            if dispo:
                placed = t + timedelta(minutes=i)
                s.add(Call(campaign_id=c.id, lead_id=lead.id, list_id=lead.list_id, phone=phone, placed_at=placed,
                           answered_at=placed, connected_at=placed, agent_id=ann.id, outcome="completed",
                           ended_at=placed + timedelta(seconds=60), disposition_code=dispo,
                           dispositioned_at=placed + timedelta(seconds=70), status="completed"))
        s.commit()


def test_sales_lead_exports_a_list_close_report(browser_page, live_server, sessions, clock):
    page = browser_page
    seed(sessions, clock)
    sign_in(page, "sales")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.locator("#tile-first_call_close [data-value]")).to_have_text("50.0 %")
    screenshot(page, "sales-reports")
    page.get_by_role("link", name="List close").click()
    table = page.locator("#report-table")
    expect(table).to_contain_text("March")
    march = table.locator("tr", has_text="March")
    expect(march).to_contain_text("40.0 %")  # 2 closed of 5 prospects (4 accepted + 1 invalid)
    screenshot(page, "sales-list-close")

    with page.expect_download() as info:
        page.locator("#export-csv").click()
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8-sig"))))
    by_list = {r["list"]: r for r in rows}
    assert by_list["March"]["prospects"] == "5" and by_list["March"]["closed"] == "2"
    assert by_list["March"]["close rate (%)"] == "40.0" and by_list["Expo"]["closed"] == "0"  # as the page shows
    assert int(by_list["March"]["invalid"]) + int(by_list["March"]["never reached"]) + \
        int(by_list["March"]["reached, not closed"]) + int(by_list["March"]["closed"]) == 5

    with page.expect_download() as info:
        page.locator("#export-xlsx").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    sheet = wb["list-close"]
    header = [c.value for c in sheet[1]]
    march_row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == "March")
    assert march_row[header.index("close rate")] == 0.4
    assert "About" in wb.sheetnames

    # a time series comes with its chart (server-rendered SVG, allowed by the page's CSP)
    page.goto("/reports/first-call-close?campaign=Spring&by=day")
    chart = page.locator("figure.chart img")
    expect(chart).to_be_visible()
    page.wait_for_function("document.querySelector('figure.chart img').naturalWidth > 0")
    screenshot(page, "sales-fcc-chart")
