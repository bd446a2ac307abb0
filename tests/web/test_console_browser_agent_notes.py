"""Browser: the notes an agent types for a call survive the page's reloads until the disposition is saved (the page
reloads by itself when the customer hangs up, and an agent reloads by accident), and never reach the next call's
form. They were lost at the first reload: the agent was left to remember, in wrap, what the customer said."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.agents import service as agents
from campaigns.dispatch.models import Call
from tests.web.conftest import pop_call

pytestmark = pytest.mark.browser
NOTE = "wants a quote for 6 kW in March; call after 5 pm"


def test_notes_survive_the_reloads_until_saved_and_never_reach_the_next_call(ready_on_spring, sessions, clock):
    page = ready_on_spring
    ann = pop_call(sessions, clock, "+12127364421", "Ann")
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
    pop_call(sessions, clock, "+12127364422", "Bob")  # the next customer pops at once
    expect(page.locator("#lead-name")).to_have_text("Bob Ray", timeout=10_000)
    expect(page.get_by_label("Notes")).to_have_value("")  # Ann's notes are not Bob's
    page.reload()
    expect(page.get_by_label("Notes")).to_have_value("")
