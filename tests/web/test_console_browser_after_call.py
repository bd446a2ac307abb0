"""Browser: "Then" chosen in the disposition form during a call is told to the dialer at once (no button to press),
the page confirms it in words, and saving the disposition sends the seat there."""

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


def test_then_chosen_during_the_call_reaches_the_dialer_and_the_seat_pauses_after_it(browser_page, sessions, clock):
    page = browser_page
    seed(sessions, clock)
    sign_in(page, "agent")
    page.get_by_label("Campaign").select_option(label="Spring")
    page.get_by_role("button", name="Log in and go ready").click()
    expect(page.locator("#state-chip")).to_have_text("ready")
    t = clock.now()
    with sessions() as s:  # a person answers: the dial loop connects the call to the ready seat
        lead = s.query(Lead).first()
        lead.status = "dialing"
        call = Call(campaign_id=lead.campaign_id, lead_id=lead.id, list_id=lead.list_id, phone=lead.phone, attempt=1,
                    placed_at=t - timedelta(seconds=15), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        seat = s.query(Agent.id).filter_by(state="ready", simulated=False).scalar()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
    expect(page.locator("#state-chip")).to_have_text("talking", timeout=10_000)
    expect(page.locator("#after-call-tell")).to_be_hidden()  # the script tells the dialer on each change

    page.get_by_label("Pause reason").select_option(label="Lunch")
    page.get_by_label("Then").select_option(label="Pause")
    expect(page.locator("#after-call-status")).to_have_text(
        "After this call you pause (lunch): the dialer no longer counts on you for the next call.")
    with sessions() as s:
        a = s.get(Agent, seat)
        assert (a.state, a.after_call, a.after_call_reason) == ("talking", "paused", "lunch")

    page.get_by_label("Then").select_option(label="Ready for the next call")  # changed their mind
    expect(page.locator("#after-call-status")).to_have_text("After this call you are ready for the next one.")
    page.get_by_label("Then").select_option(label="Log out")
    expect(page.locator("#after-call-status")).to_contain_text("After this call you log out")
    page.reload()  # the form keeps what was said
    expect(page.get_by_label("Then")).to_have_value("offline")

    page.get_by_label("Not interested").check()
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#state-chip")).to_have_text("offline")
    with sessions() as s:
        a = s.get(Agent, seat)
        assert (a.state, a.after_call) == ("offline", None)
