"""Browser: a campaign manager disables a list, mixes the others by weight, resets a list for another pass after
reading the count, finds a lead by a number typed any way, edits it and reads its history; a compliance officer
finds a lead and marks it do-not-call but has no edit form; agents and sales leads are refused these pages.
(Refusals of bad values answer 400, which the browser fixture counts as an error: tests/web/test_console_leads.py.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from campaigns.campaign.service import create_campaign
from campaigns.leads.models import Lead, LeadList
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def spring(sessions, clock):
    now = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring Renewals", "+12125550100", now)
        lists = [LeadList(campaign_id=c.id, name=n, sha256=n[0] * 64, uploaded_at=now, rows=3, accepted=3)
                 for n in ("April web forms", "May referrals", "Old customers")]
        s.add_all(lists)
        s.flush()
        rows = [(0, "+12125551234", "Ada", "Lovelace", "new", 0), (0, "+13055551235", "Alan", "Turing", "exhausted", 5),
                (0, "+13055551236", "Joan", "Clarke", "closed", 1), (1, "+17185551237", "Grace", "Hopper", "new", 0),
                (2, "+14155551238", "Edsger", "Dijkstra", "exhausted", 5)]
        for i, phone, first, last, status, attempts in rows:
            s.add(Lead(campaign_id=c.id, list_id=lists[i].id, phone=phone, first_name=first, last_name=last,
                       state="NY", postal_code="10001", timezones="America/New_York", custom={"plan": "gold"},
                       status=status, attempts=attempts, last_outcome="no_answer" if attempts else None,
                       created_at=now - timedelta(days=2), updated_at=now))
        s.commit()
        return c.id


def test_manager_disables_mixes_and_resets_lists(browser_page, live_server, spring):
    page = browser_page
    page.on("dialog", lambda d: d.accept())
    sign_in(page, "manager")
    page.goto(f"/campaigns/{spring}")
    page.get_by_role("link", name="Enable, mix, reset lists").click()
    expect(page.get_by_role("heading", name="Lists: Spring Renewals")).to_be_visible()
    page.get_by_role("button", name="Disable Old customers").click()
    expect(page.locator(".flash")).to_contain_text("List Old customers disabled")
    expect(page.locator('tr[data-list="Old customers"] [data-testid=enabled]')).to_have_text("disabled")
    page.get_by_label("By weights").check()
    page.get_by_label("Place or weight of April web forms").fill("75")
    page.get_by_label("Place or weight of May referrals").fill("25")
    page.get_by_role("button", name="Save the mix").click()
    expect(page.locator(".flash")).to_contain_text("List mix saved: by weights")
    expect(page.locator('tr[data-list="April web forms"] [data-testid=share]')).to_have_text("75.0 %")
    expect(page.locator('tr[data-list="May referrals"] [data-testid=share]')).to_have_text("25.0 %")
    expect(page.locator("#history")).to_contain_text("weight 75")
    screenshot(page, "manager-lists")
    page.locator('tr[data-list="April web forms"]').get_by_role("link", name="Reset…").click()
    expect(page.get_by_label("Ran out of attempts (1)")).to_be_checked()
    expect(page.locator("#kept")).to_contain_text("Closed (sold)")
    page.get_by_role("button", name="Count and review").click()
    expect(page.locator("#reset-count")).to_contain_text("Reset 1 lead of April web forms")
    screenshot(page, "manager-list-reset")
    page.get_by_role("button", name="Reset 1 lead").click()
    expect(page.locator(".flash")).to_contain_text("1 leads of April web forms are back in the queue")
    expect(page.locator("#history")).to_contain_text("1 leads back in the queue")


def test_manager_finds_edits_a_lead_and_reads_its_history(browser_page, live_server, spring):
    page = browser_page
    sign_in(page, "manager")
    page.goto(f"/campaigns/{spring}")
    page.get_by_role("link", name="Find a lead").first.click()
    page.get_by_label("Number or name").fill("(212) 555-1234")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_contain_text("1 lead with the number +12125551234")
    page.locator("#results").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name="Ada Lovelace")).to_be_visible()
    page.get_by_label("State").fill("ca")
    page.get_by_label("ZIP code").fill("90210")
    page.get_by_label("plan").fill("platinum")
    page.get_by_role("button", name="Save the lead").click()
    expect(page.locator(".flash")).to_contain_text("Saved state, zip code, plan.")
    expect(page.locator("#history").get_by_role("row", name="State NY CA")).to_be_visible()
    expect(page.locator("#lead-facts")).to_contain_text("America/Los_Angeles")
    screenshot(page, "manager-lead")
    page.goto(f"/leads/?campaign={spring}&q=lovelace")
    expect(page.locator("#results")).to_contain_text("Ada Lovelace")


def test_compliance_marks_a_lead_dnc_without_editing_it(browser_page, live_server, spring):
    page = browser_page
    page.on("dialog", lambda d: d.accept())
    sign_in(page, "compliance")
    page.goto("/compliance/")
    page.get_by_role("link", name="Find a lead").click()
    page.get_by_label("Number or name").fill("+1 305 555 1235")
    page.get_by_role("button", name="Search").click()
    page.locator("#results").get_by_role("link").first.click()
    expect(page.locator("#edit-form")).to_have_count(0)
    page.get_by_label("How the person asked").select_option("mail")
    page.get_by_label("What the person asked").fill("Letter received 3 January")
    page.get_by_role("button", name="Mark do not call").click()
    expect(page.locator(".flash")).to_contain_text("+13055551235: added to the internal DNC list")
    expect(page.locator("#lead-status")).to_have_text("Do not call")
    expect(page.locator("#decisions")).to_contain_text("Added to the internal DNC list")
    expect(page.locator("#history")).to_contain_text("do not call")


@pytest.mark.parametrize("role", ["agent", "sales"])
def test_agents_and_sales_leads_are_refused(browser_page, live_server, spring, role):
    page = browser_page
    sign_in(page, role)
    assert page.request.get("/leads/?q=ada").status == 403
    assert page.request.get(f"/campaigns/{spring}/lists/").status == 403


def test_an_admin_may_use_the_lists_and_lead_pages(browser_page, live_server, spring):
    page = browser_page
    sign_in(page, "admin")
    page.goto(f"/campaigns/{spring}/lists/")
    expect(page.get_by_role("button", name="Save the mix")).to_be_visible()
    page.goto("/leads/?q=hopper")
    page.locator("#results").get_by_role("link").first.click()
    expect(page.locator("#edit-form")).to_be_visible()
    expect(page.locator("#dnc-form")).to_be_visible()
