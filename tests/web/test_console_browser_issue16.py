"""Browser (issue 16): the agent's call controls (hold, cold and warm transfer, manual dial refused in words), own
callbacks moved and cancelled, the pause select, the warning on leaving while ready; the sales lead's per-agent
figures, campaigns compared and reports scheduled by e-mail; and the roles that may not use them refused.

The carrier is the simulated one here (each step's database side); the same steps through the real twilio library
and the fake Twilio are ``tests/dialer/carriers/twilio/test_transfer.py``.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from campaigns.accounts.models import User
from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.callbacks import service as cb
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from tests.web.conftest import agent_goes_ready, screenshot, sign_in

pytestmark = pytest.mark.browser


def seed(sessions, clock) -> dict:
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        set_status(s, c, "active", t)
        lst = LeadList(campaign_id=c.id, name="March", sha256="c" * 64, uploaded_at=t - timedelta(days=1), rows=2,
                       accepted=2)
        s.add(lst)
        s.flush()
        lead = Lead(campaign_id=c.id, list_id=lst.id, phone="+13125550123", first_name="Ann", last_name="Lee",
                    state="IL", postal_code="60601", timezones="America/Chicago", status="dialing", attempts=1,
                    created_at=t, updated_at=t)
        later = Lead(campaign_id=c.id, list_id=lst.id, phone="+13125550124", first_name="Bo", last_name="Diaz",
                     state="IL", postal_code="60601", timezones="America/Chicago", status="retry", attempts=1,
                     created_at=t, updated_at=t)
        s.add_all([lead, later])
        s.flush()
        seat = s.query(User).filter_by(username="agent-user").one().agent_id
        cb.schedule(s, later, t + timedelta(days=1), t, agent_id=seat, note="after lunch")
        zoe = agents.create_agent(s, "Zoe", t, campaign=c)
        agents.go_ready(s, zoe.id, t)
        s.commit()
        return {"campaign": c.id, "list": lst.id, "lead": lead.id, "seat": seat, "zoe": zoe.id}


def ring(sessions, clock, ids) -> int:
    t = clock.now()
    with sessions() as s:
        call = Call(campaign_id=ids["campaign"], lead_id=ids["lead"], list_id=ids["list"], phone="+13125550123",
                    attempt=2, placed_at=t - timedelta(seconds=20), answered_at=t, answered_by="human",
                    status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, ids["seat"], t)
        s.commit()
        return call.id


def test_agent_holds_transfers_warm_and_cold_and_dials_by_hand(browser_page, sessions, clock):
    page = browser_page
    page.on("dialog", lambda d: d.accept())  # the confirmations ("send the customer to this number?")
    ids = seed(sessions, clock)
    agent_goes_ready(page)

    # manual dial: the gate refuses (no national registry on this server), in words
    page.locator("#dial-number").fill("(212) 555-0142")
    page.locator("#manual-dial").get_by_role("button", name="Dial").click()
    expect(page.locator(".flash.error")).to_contain_text("Not dialed:")
    expect(page.locator(".flash.error")).not_to_contain_text("_")

    call_id = ring(sessions, clock, ids)
    expect(page.locator("#lead-name")).to_have_text("Ann Lee", timeout=10_000)  # the page reloads on the pop
    page.get_by_role("button", name="Hold").click()
    expect(page.locator("#hold-chip")).to_have_text("customer on hold")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("#hold-chip")).to_have_text("customer on the line")

    page.locator("#transfer summary").click()
    page.locator("#consult-agent").select_option(label="Zoe")
    page.get_by_role("button", name="Consult agent").click()
    expect(page.locator("#consult-open")).to_contain_text("Consulting Zoe")
    screenshot(page, "agent-warm-transfer")
    page.get_by_role("button", name="Complete the transfer").click()
    expect(page.locator(".flash.success")).to_contain_text("the customer is with the other agent")
    expect(page.locator("#state-chip")).to_have_text("ready")
    with sessions() as s:
        assert s.get(Call, call_id).agent_id == ids["zoe"]
        agents.end_call(s, ids["zoe"], clock.now())
        agents.disposition(s, call_id, "NI", clock.now(), agent_ref=ids["zoe"])
        agents.go_ready(s, ids["zoe"], clock.now())
        s.get(Call, call_id).ended_at = clock.now()  # the customer hung up
        lead = s.get(Lead, ids["lead"])
        lead.status = "dialing"
        s.commit()

    # a second call: sent cold to a number, then dispositioned by this agent
    second = ring(sessions, clock, ids)
    expect(page.locator("#hold-chip")).to_be_visible(timeout=10_000)
    page.locator("#transfer summary").click()
    page.locator("#cold-number").fill("212 555 0199")
    page.locator("#call-controls").get_by_role("button", name="Transfer", exact=True).click()
    expect(page.locator(".flash.success")).to_contain_text("transferred to +12125550199")
    page.get_by_label("Not interested").check()
    page.get_by_role("button", name="Save disposition").click()
    with sessions() as s:
        assert s.get(Call, second).disposition_code == "NI" and s.get(Call, second).agent_id == ids["seat"]


def test_agent_moves_and_cancels_a_callback_pause_select_and_leaving_warns(browser_page, sessions, clock):
    page = browser_page
    seed(sessions, clock)
    agent_goes_ready(page)

    dialogs: list[str] = []
    page.once("dialog", lambda d: (dialogs.append(d.type), d.dismiss()))  # stay on the page
    page.locator("#state-timer").click()  # a user gesture: browsers ask only after one
    with pytest.raises(PlaywrightError, match="ERR_ABORTED"):  # the agent chose to stay: navigation cancelled
        page.goto("/agent/callbacks", wait_until="commit")
    assert dialogs == ["beforeunload"]
    expect(page.locator("#state-chip")).to_have_text("ready")  # still on the seat

    page.get_by_label("Reason").select_option("lunch")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("#state-chip")).to_have_text("paused: lunch")
    expect(page.locator("#pause-reason")).to_have_value("lunch")

    page.goto("/agent/callbacks")  # paused: no warning
    row = page.locator("#callbacks tbody tr", has_text="Bo Diaz")
    row.locator("summary").click()
    row.get_by_label("New time (customer's time)").fill("2030-01-09T23:30")
    row.get_by_role("button", name="Move").click()
    expect(page.locator(".flash.error")).to_contain_text("outside the customer's calling hours")
    row = page.locator("#callbacks tbody tr", has_text="Bo Diaz").first
    row.locator("summary").click()
    row.get_by_label("New time (customer's time)").fill("2030-01-09T15:30")
    row.get_by_role("button", name="Move").click()
    expect(page.locator(".flash.success")).to_contain_text(
        "Callback moved to 2030-01-09 21:30 UTC (Wed 15:30 CST at the lead)")
    screenshot(page, "agent-callbacks")
    row = page.locator("#callbacks tbody tr", has_text="waiting")
    row.locator("summary").click()
    row.get_by_label("Reason").fill("bought elsewhere")
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Cancel callback").click()
    expect(page.locator(".flash.success")).to_contain_text("Callback cancelled: bought elsewhere.")


def test_sales_lead_per_agent_figures_comparison_and_schedules(browser_page, sessions, clock):
    page = browser_page
    ids = seed(sessions, clock)
    with sessions() as s:
        set_status(s, create_campaign(s, "Autumn", "+12125550100", clock.now()), "active", clock.now())
        agents.assign(s, agents.get_agent(s, ids["seat"]), s.get(Campaign, ids["campaign"]))
        agents.go_ready(s, ids["seat"], clock.now())
        s.commit()
    call_id = ring(sessions, clock, ids)
    clock.advance(95)
    with sessions() as s:
        agents.end_call(s, ids["seat"], clock.now())
        agents.disposition(s, call_id, "SALE", clock.now(), agent_ref=ids["seat"])
        s.commit()
    sign_in(page, "sales")
    page.goto("/reports/?campaign=Spring")
    page.get_by_role("link", name="Per agent").click()
    table = page.locator("#report-table")
    expect(table).to_contain_text("agent-user")
    expect(table.locator("thead")).not_to_contain_text("hit rate")
    expect(table.locator("tr", has_text="agent-user")).to_contain_text("100.0 %")  # 1 close of 1 contact
    screenshot(page, "sales-agents")

    page.goto("/reports/")
    page.locator("#compare-link").click()
    compare = page.locator("#compare-table")
    expect(compare).to_contain_text("Autumn")
    expect(compare.locator("tr", has_text="Spring")).to_contain_text("100.0 %")
    screenshot(page, "sales-compare")

    page.goto("/reports/")
    page.locator("#schedules-link").click()
    expect(page.locator("#mail-warning")).to_contain_text("No mail server is configured (DIALER_SMTP_HOST)")
    page.get_by_label("Campaign", exact=True).select_option(label="Spring")
    page.get_by_label("Report", exact=True).select_option(label="Daily report (every section)")
    page.get_by_label("Send to").fill("lead@example.com")
    page.get_by_label("Day", exact=True).select_option(label="Mondays (the 7 days before)")
    page.get_by_role("button", name="Schedule").click()
    expect(page.locator(".flash.success")).to_contain_text("every Monday at 07:00, to lead@example.com")
    expect(page.locator("#schedules")).to_contain_text("Daily report")
    screenshot(page, "sales-schedules")


@pytest.mark.parametrize(("role", "refused", "allowed"), [
    ("agent", ("/reports/agents", "/reports/compare", "/reports/schedules"), ("/agent/", "/agent/callbacks")),
    ("sales", ("/agent/", "/agent/callbacks"), ("/reports/agents", "/reports/compare", "/reports/schedules")),
    ("manager", ("/agent/",), ("/reports/compare", "/reports/schedules")),
])
def test_roles_that_may_not_are_refused(browser_page, sessions, clock, role, refused, allowed):
    page = browser_page
    seed(sessions, clock)
    sign_in(page, role)
    for path in refused:  # requests from the signed-in browser (its cookies), so no error page is rendered
        assert page.request.get(path).status == 403, path
    for path in allowed:
        assert page.request.get(path).status == 200, path
    r = page.request.post("/agent/call/hold", form={"csrf_token": "x"})
    assert r.status in ((400, 403) if role == "agent" else (403,))
    with sessions() as s:
        assert s.query(Agent).filter_by(name="Zoe").one().state == "ready"
