"""Browser: a manager uploads the same list in every format the README lists (CSV, TSV, pipe, semicolon, UTF-8 with
BOM, UTF-16 LE/BE with and without BOM, Windows-1252, XLSX) through the console's upload page, checks the columns
and reads the receipt: three leads each, names decoded (finding 3 of issue 15)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.leads.models import Lead, LeadList
from tests.campaigns.leadimport.formats import FORMATS, PHONES, SOURCES, write
from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_manager_uploads_every_format_through_the_console(browser_page, live_server, sessions, clock, tmp_path):
    page = browser_page
    with sessions.begin() as s:  # one list per format, each a list of its own (dedupe per list)
        cid = create_campaign(s, "Formats", "+12125550100", clock.now(), CampaignSettings(dedupe_scope="list")).id
    sign_in(page, "manager")
    for fmt in FORMATS:
        page.goto(f"/campaigns/{cid}/upload")
        page.get_by_label("Lead file").set_input_files(str(write(fmt, tmp_path)))
        page.get_by_role("button", name="Upload and check columns").click()
        expect(page.get_by_role("heading", name="Check the columns")).to_be_visible()
        expect(page.locator(".page-head .sub")).to_contain_text(SOURCES[fmt])
        expect(page.get_by_label("Phone number")).to_have_value("Phone")
        expect(page.get_by_label("First name")).to_have_value("First Name")
        expect(page.get_by_role("cell", name="Renée")).to_be_visible()
        page.get_by_label("List name").fill(f"in {fmt}")
        page.get_by_role("button", name="Import this list").click()
        heading = page.get_by_role("heading", name=f"in {fmt}", exact=True)
        receipt = page.get_by_text("See the receipt")
        expect(heading.or_(receipt)).to_be_visible()  # a small list may be done before its progress page shows
        if receipt.is_visible():
            receipt.click()
        expect(heading).to_be_visible()
        expect(page.locator("#count-rows [data-value]")).to_have_text("3")
        expect(page.locator("#count-accepted [data-value]")).to_have_text("3")
        expect(page.locator("#count-rejected [data-value]")).to_have_text("0")
    with sessions() as s:
        names = {fmt: {ld.phone: (ld.first_name, ld.last_name) for ld in s.scalars(
            select(Lead).join(LeadList, LeadList.id == Lead.list_id).where(LeadList.name == f"in {fmt}"))}
            for fmt in FORMATS}
    assert names == {fmt: PHONES for fmt in FORMATS}
