"""Browser: the compliance officer reads, prints and downloads the reconciliation an auditor is handed, and loads
consent that makes a suppressed lead dialable; the manager sees a list's suppressed leads and why, and is refused
the auditor's pages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead, LeadList
from dnc import internal
from dnc.registry import load_full
from dnc.scrub import DncScrubber
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser
LISTED, BOTH = "+12127364425", "+12127364426"


@pytest.fixture
def floor(live_server, sessions, clock, tmp_path):
    store = live_server.app.extensions["console"].dnc_store
    reg, leads = tmp_path / "212.txt", tmp_path / "leads.csv"
    reg.write_text("2127364425\n2127364426\n")
    leads.write_text(f"First,Last,Phone,State\nAnn,Lee,{LISTED},NY\nBea,Cho,{BOTH},NY\nDee,Fox,+12127364421,NY\n")
    now = clock.now()
    with sessions.begin() as s:
        load_full(s, store, [reg], version_date=date(2030, 1, 5), loaded_by="ops", now=now, area_codes="212")
        cid = create_campaign(s, "Spring", "+12125550100", now).id
        internal.add_request(s, BOTH, channel="web", received_at=now, added_by="web form")
    scrubber = DncScrubber(sessions, campaign=cid, at=now, operator="mia", store=store)
    import_leads(sessions, "Spring", leads, now=now, scrubber=scrubber)  # with its scrub-ledger record
    with sessions.begin() as s:
        dana = Agent(name="Dana Whitfield", campaign_id=cid, state="offline")
        s.add(dana)
        s.flush()
        ann = s.scalar(select(Lead.id).where(Lead.phone == LISTED))
        s.add(Call(campaign_id=cid, lead_id=ann, phone=LISTED, placed_at=now + timedelta(hours=11), agent_id=dana.id,
                   status="completed"))  # 21:00 in New York, a listed number: two rules broken
    return cid


def test_compliance_officer_reads_prints_and_downloads_the_reconciliation(browser_page, floor):
    page = browser_page
    sign_in(page, "compliance")
    page.goto("/compliance/reports/reconcile?until=2030-01-09")
    page.get_by_label("Times in").select_option("America/New_York")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#period")).to_contain_text("times in America/New_York")
    expect(page.locator("#verdict [data-value]")).to_have_text("1")
    table = page.locator("#report-table")
    expect(table).to_contain_text("Dana Whitfield")
    expect(table).to_contain_text("Spring")
    expect(table).to_contain_text("Ann Lee")
    expect(table).to_contain_text("On the National DNC Registry")
    expect(table).to_contain_text("Outside the calling hours")
    expect(table).to_contain_text("2030-01-08 21:00:00 EST")
    expect(page.locator("#notes")).to_contain_text("broke more than one rule")
    screenshot(page, "compliance-reconciliation")

    page.emulate_media(media="print")  # what the printer gets: the sheet, not the console around it
    expect(page.locator("form.filters")).to_be_hidden()
    expect(page.locator("nav[aria-label='Compliance pages']")).to_be_hidden()
    expect(table).to_be_visible()
    page.emulate_media(media="screen")

    with page.expect_download() as info:
        page.locator("#export-pdf").click()
    pdf = info.value
    assert pdf.suggested_filename.startswith("reconcile-") and pdf.suggested_filename.endswith(".pdf")
    assert Path(pdf.path()).read_bytes()[:5] == b"%PDF-"
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    text = Path(info.value.path()).read_text(encoding="utf-8-sig")
    assert "Dana Whitfield" in text and "On the National DNC Registry (national_dnc)" in text

    page.get_by_role("link", name="Scrub ledger").click()
    expect(page.locator("#report-table")).to_contain_text("3 reasons over 2 leads")
    screenshot(page, "compliance-scrub-ledger")


def test_consent_loaded_in_the_console_makes_a_suppressed_lead_dialable(browser_page, floor, tmp_path, clock,
                                                                        sessions):
    page = browser_page
    sign_in(page, "compliance")
    page.goto("/compliance/suppressed")
    expect(page.locator("#suppressed-table")).to_contain_text("Ann Lee")
    expect(page.locator("#notes")).to_contain_text("1 lead has several reasons")
    f = tmp_path / "consent.csv"
    f.write_text(f"number,kind,granted_at,evidence_ref\n{LISTED},pewc,{clock.now().isoformat()},signed form 12\n")
    page.get_by_role("link", name="Load consent or lists").first.click()
    page.get_by_label("Consent file (CSV)").set_input_files(str(f))
    page.get_by_role("button", name="Load consent").click()
    expect(page.get_by_text("1 suppressed lead became dialable")).to_be_visible()
    page.goto("/compliance/suppressed")
    expect(page.locator("#suppressed-table")).not_to_contain_text("Ann Lee")
    expect(page.locator("#suppressed-table")).to_contain_text("Bea Cho")  # her own DNC request stays


def test_manager_sees_a_lists_suppressed_leads_and_not_the_auditors_pages(browser_page, floor, sessions):
    page = browser_page
    with sessions() as s:
        list_id = s.scalar(select(LeadList.id))
    sign_in(page, "manager")
    page.goto(f"/lists/{list_id}")
    page.get_by_role("link", name="The suppressed leads and why").click()
    expect(page.locator("#summary")).to_contain_text("Suppressed leads")
    expect(page.locator("#suppressed-table")).to_contain_text("On the internal do-not-call list")
    screenshot(page, "manager-suppressed-leads")
    with page.expect_download() as info:
        page.locator("#export-csv").click()
    assert "Bea Cho" in Path(info.value.path()).read_text(encoding="utf-8-sig")
    for path in ("/compliance/reports/reconcile", "/compliance/reports/reconcile.pdf", "/compliance/load"):
        assert page.request.get(path, max_redirects=0).status == 403, path  # with the manager's own session
