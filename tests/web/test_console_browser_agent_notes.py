"""Browser: the notes an agent types for a call survive the page's reloads until the disposition is saved (the page
reloads by itself when the customer hangs up, and an agent reloads by accident), and never reach the next call's
form. They were lost at the first reload: the agent was left to remember, in wrap, what the customer said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from tests.web.conftest import sign_in
from tests.web.test_console_browser_agent import seed

pytestmark = pytest.mark.browser
NOTE = "wants a quote for 6 kW in March; call after 5 pm"


def _pop(sessions, clock, phone: str, first_name: str) -> int:
    """What the dial loop does when a person answers: a call, connected to the ready agent."""
    t = clock.now()
    with sessions() as s:
        lead = s.query(Lead).filter_by(phone=phone).one_or_none()
        if lead is None:
            any_lead = s.query(Lead).first()
            lead = Lead(campaign_id=any_lead.campaign_id, list_id=any_lead.list_id, phone=phone,
                        first_name=first_name, last_name="Ray", state="NY", timezones="America/New_York",
                        created_at=t, updated_at=t)
            s.add(lead)
        lead.status = "dialing"
        s.flush()
        call = Call(campaign_id=lead.campaign_id, lead_id=lead.id, list_id=lead.list_id, phone=phone, attempt=1,
                    placed_at=t - timedelta(seconds=15), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        seat = s.query(Agent.id).filter_by(state="ready", simulated=False).scalar()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
        return call.id


def test_notes_survive_the_reloads_until_saved_and_never_reach_the_next_call(browser_page, sessions, clock):
    page = browser_page
    seed(sessions, clock)
    sign_in(page, "agent")
    page.get_by_label("Campaign").select_option(label="Spring")
    page.get_by_role("button", name="Log in and go ready").click()
    expect(page.locator("#state-chip")).to_have_text("ready")

    ann = _pop(sessions, clock, "+12127364421", "Ann")
    expect(page.locator("#lead-name")).to_have_text("Ann Lee", timeout=10_000)  # the page popped the lead
    page.get_by_label("Notes").fill(NOTE)  # typed while the customer talks
    page.get_by_label("Notes").blur()
    clock.advance(60)
    with sessions() as s:  # the customer hangs up: the seat goes to wrap and the page reloads by itself
        agents.release_after_call(s, s.get(Call, ann), clock.now())
        s.commit()
    expect(page.locator("#wrap-timer")).to_be_visible(timeout=10_000)
    expect(page.get_by_label("Notes")).to_have_value(NOTE)
    page.reload()  # by accident
    expect(page.get_by_label("Notes")).to_have_value(NOTE)

    page.get_by_label("Not interested").check()
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#state-chip")).to_have_text("ready")
    with sessions() as s:
        assert s.get(Call, ann).notes == NOTE  # what was saved is what was typed before the reloads

    clock.advance(5)
    _pop(sessions, clock, "+12127364422", "Bob")  # the next customer pops at once
    expect(page.locator("#lead-name")).to_have_text("Bob Ray", timeout=10_000)
    expect(page.get_by_label("Notes")).to_have_value("")  # Ann's notes are not Bob's
    page.reload()
    expect(page.get_by_label("Notes")).to_have_value("")
