"""Browser: a campaign manager uploads a messy list, checks the columns, sees the right counts, downloads rejects."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from campaigns.campaign.service import create_campaign
from dnc.internal import add_request
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser
MESSY = Path(__file__).parent / "data" / "messy-leads.csv"


def test_manager_uploads_a_messy_list_and_downloads_the_rejects(browser_page, live_server, sessions, clock):
    page = browser_page
    with sessions() as s:
        create_campaign(s, "Spring Renewals", "+12125550100", clock.now())
        add_request(s, "+13053581200", channel="phone", received_at=clock.now(), added_by="compliance-user",
                    reason="asked on an earlier call")
        s.commit()
    sign_in(page, "manager")
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    screenshot(page, "manager-campaigns")
    page.get_by_role("link", name="Spring Renewals").click()
    page.get_by_role("link", name="Upload a list").first.click()
    page.get_by_label("Lead file").set_input_files(str(MESSY))
    page.get_by_role("button", name="Upload and check columns").click()

    expect(page.get_by_role("heading", name="Check the columns")).to_be_visible()
    expect(page.get_by_label("Phone number")).to_have_value("Phone #")
    expect(page.get_by_label("ZIP / postal code")).to_have_value("Zip")
    screenshot(page, "manager-mapping")
    page.get_by_label("List name").fill("Messy March")
    page.get_by_role("button", name="Import this list").click()

    expect(page.get_by_role("heading", name="Messy March")).to_be_visible()
    counts = {k: page.locator(f"#count-{k} [data-value]") for k in
              ("rows", "accepted", "duplicates", "rejected", "suppressed")}
    expect(counts["rows"]).to_have_text("13")
    expect(counts["accepted"]).to_have_text("6")
    expect(counts["duplicates"]).to_have_text("2")
    expect(counts["rejected"]).to_have_text("4")
    expect(counts["suppressed"]).to_have_text("1")  # Kai: on the internal DNC (and FL needs consent)
    expect(page.get_by_role("cell", name="On the internal do-not-call list")).to_be_visible()
    expect(page.get_by_text("invalid phone number: no such area code or exchange")).to_be_visible()
    screenshot(page, "manager-list-receipt")

    with page.expect_download() as info:
        page.locator("#download-rejects").click()
    download = info.value
    assert re.fullmatch(r"Messy-March-rejected\.csv", download.suggested_filename)
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["First", "Last", "Phone #", "ST", "Zip", "Notes", "reason"]
    assert [r[0] for r in rows[1:]] == ["Finn", "Gus", "Hana", "Ivan"]
    finn = rows[1]
    assert finn[5] == "'=HYPERLINK(\"http://example.com\")"  # a formula in the export is defused
    assert rows[4][5] == "'@SUM(1+1)"
