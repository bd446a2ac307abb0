"""Browser: the compliance officer opens Texts received from the compliance navigation, reads what each text did,
finds the ones without a North American number marked, and pages back to older texts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import sign_in
from tests.web.test_console_texts import SENDER, receive

pytestmark = pytest.mark.browser


def test_the_officer_reads_the_texts_received(browser_page, sessions, clock):
    page = browser_page
    receive(sessions, clock, *[(SENDER, f"old text {i}") for i in range(50)])
    receive(sessions, clock, (SENDER, "STOP"), ("72345", "STOP"), (SENDER, "Start"))
    sign_in(page, "compliance")
    page.get_by_role("link", name="Texts received").first.click()
    expect(page.get_by_role("heading", name="Texts received")).to_be_visible()
    table = page.locator("#texts-table tbody tr")
    expect(table).to_have_count(50)
    expect(table.nth(0)).to_contain_text("Re-admitted")
    expect(table.nth(1)).to_contain_text("short code")
    expect(table.nth(2)).to_contain_text("DNC request made")
    page.get_by_role("link", name="Next").click()
    expect(page.locator("#texts-table tbody tr")).to_have_count(3)
    expect(page.locator("#texts-table tbody tr").last).to_contain_text("old text 0")
    page.get_by_role("link", name="Previous").click()
    expect(page.locator("#texts-table tbody tr").first).to_contain_text("Start")
