"""Browser: a compliance officer looks up a number suppressed at import and sees every reason why."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from campaigns.campaign.service import create_campaign
from campaigns.leadimport.service import import_leads
from dnc import internal
from dnc.registry import load_full
from dnc.scrub import DncScrubber
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_compliance_officer_looks_up_a_suppressed_number(browser_page, live_server, sessions, clock, tmp_path):
    page, store = browser_page, live_server.app.extensions["console"].dnc_store
    registry, leads = tmp_path / "212.txt", tmp_path / "leads.csv"
    registry.write_text("2127364425\n")
    leads.write_text("First,Phone,State\nAnn,(212) 736-4425,NY\nBob,(212) 736-4421,NY\n")
    with sessions() as s:
        load_full(s, store, [registry], version_date=date(2030, 1, 5), loaded_by="ops", now=clock.now(),
                  area_codes="212")
        cid = create_campaign(s, "Spring", "+12125550100", clock.now()).id
        internal.add_request(s, "+12127364425", channel="phone", received_at=clock.now(), added_by="cara",
                             reason="asked not to be called again")
        s.commit()
    import_leads(sessions, "Spring", leads, now=clock.now(),
                 scrubber=DncScrubber(sessions, campaign=cid, at=clock.now(), operator="mia", store=store))

    sign_in(page, "compliance")
    expect(page.get_by_role("heading", name="Compliance", exact=True)).to_be_visible()
    expect(page.locator("#registry-age [data-value]")).to_have_text("3 days")
    screenshot(page, "compliance-overview")
    page.get_by_role("link", name="Look up a number").first.click()
    page.get_by_label("Phone number").fill("212-736-4425")
    page.get_by_label("For campaign").select_option("Spring")
    page.get_by_role("button", name="Look up").click()

    expect(page.locator("#decision")).to_contain_text("may not be called now")
    reasons = page.locator("#reasons")
    expect(reasons).to_contain_text("On the internal do-not-call list")
    expect(reasons).to_contain_text("On the National DNC Registry")
    expect(page.locator("#leads")).to_contain_text("suppressed")
    expect(page.locator("#leads")).to_contain_text("On the National DNC Registry")
    expect(page.locator("li", has_text="asked not to be called again")).to_be_visible()
    expect(page.locator("#history")).to_contain_text("internal add")
    screenshot(page, "compliance-lookup")
