"""Browser: a campaign manager changes the dialing settings and sees the change in the campaign's history; an agent is
refused the page (refusals of bad values: tests/web/test_console_settings.py)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.campaign.service import create_campaign
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_manager_changes_dialing_settings_and_reads_the_history(browser_page, live_server, sessions, clock):
    page = browser_page
    with sessions() as s:
        c = create_campaign(s, "Spring Renewals", "+12125550100", clock.now())
        s.commit()
        cid = c.id
    sign_in(page, "manager")
    page.goto(f"/campaigns/{cid}")
    page.get_by_role("link", name="Dialing settings").first.click()
    expect(page.get_by_role("heading", name="Dialing settings: Spring Renewals")).to_be_visible()
    page.get_by_label("Calling hours (hh:mm-hh:mm at the called party)").fill("09:00-20:00")
    page.get_by_label("Retry after busy (h:mm)").fill("0:45")
    page.get_by_label("Calling days (at the called party)").fill("mon-fri")
    page.get_by_label("Line cap (calls at once)").fill("30")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash")).to_contain_text("Saved retry after busy, line cap, calling hours, calling days")
    history = page.locator("#history")
    expect(history).to_contain_text("manager-user")
    expect(history.get_by_role("row", name="Retry after busy 0:30 0:45")).to_be_visible()
    screenshot(page, "manager-dialing-settings")
    page.goto(f"/campaigns/{cid}")
    expect(page.locator("#settings")).to_contain_text("busy 0:45")
    expect(page.locator("#settings")).to_contain_text("09:00-20:00, mon-fri")


def test_an_agent_may_not_open_the_settings(browser_page, live_server, sessions, clock):
    page = browser_page
    with sessions() as s:
        cid = create_campaign(s, "Spring Renewals", "+12125550100", clock.now()).id
        s.commit()
    sign_in(page, "agent")
    page.goto("/")
    assert page.request.get(f"/campaigns/{cid}/settings/").status == 403  # with the agent's own session
    assert page.request.get(f"/campaigns/{cid}").status == 403
