"""Browser: the campaign's wrap-up limit moves the seat on before the agent saved the disposition. What the agent
typed is not lost: the seat offers the call that was left without a disposition, its notes as they were typed, and
saving there records both on that call (the seat stays as it is). The draft waits while the next customer is on the
line, and never appears on that customer's form."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.agents.wrap import end_overdue_wraps
from campaigns.campaign import dialing
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from tests.web.conftest import pop_call

pytestmark = pytest.mark.browser
NOTE = "spoke with the wife; wants the 6 kW quote by mail"


def test_a_draft_cut_off_by_the_wrap_up_limit_is_finished_from_the_seat(ready_on_spring, live_server, sessions,
                                                                         clock):
    page = ready_on_spring
    live_server.app.config.update(AGENT_POLL_SECONDS=1)
    with sessions() as s:
        dialing.apply(s, s.query(Campaign).filter_by(name="Spring").one(), {"wrap_limit": "30"}, "mia", clock.now())
        s.commit()
    ann = pop_call(sessions, clock, "+12127364421", "Ann")
    expect(page.locator("#lead-name")).to_have_text("Ann Lee", timeout=10_000)
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#wrap-left")).to_be_visible()
    page.get_by_label("Notes").fill(NOTE)  # still writing when the limit runs out
    clock.advance(31)
    with sessions() as s:
        assert end_overdue_wraps(s, clock.now()) == 1  # the worker's wrap-limits job: the seat goes ready
        s.commit()
    expect(page.locator("#state-chip")).to_have_text("ready", timeout=10_000)

    unfinished = page.locator("#unfinished")
    expect(unfinished).to_contain_text("Ann Lee")
    expect(unfinished).to_contain_text("without a disposition")
    expect(unfinished.get_by_label("Notes")).to_have_value(NOTE)  # the draft, as typed

    bob = pop_call(sessions, clock, "+12127364422", "Bob")  # the next customer pops before Ann's is finished
    expect(page.locator("#lead-name")).to_have_text("Bob Ray", timeout=10_000)
    expect(page.locator("#disposition").get_by_label("Notes")).to_have_value("")  # Ann's words are not Bob's
    page.locator("#disposition").get_by_label("Not interested").check()
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#state-chip")).to_have_text("ready")
    with sessions() as s:
        assert s.get(Call, bob).disposition_code == "NI" and not s.get(Call, bob).notes

    expect(unfinished.get_by_label("Notes")).to_have_value(NOTE)  # Ann's draft waited
    unfinished.get_by_label("Not interested").check()
    unfinished.get_by_role("button", name="Save Ann Lee's disposition").click()
    expect(page.locator(".flash.success")).to_contain_text("Ann Lee")
    expect(page.locator("#unfinished")).to_have_count(0)
    expect(page.locator("#state-chip")).to_have_text("ready")  # the seat stays as the limit left it
    with sessions() as s:
        call = s.get(Call, ann)
        assert (call.disposition_code, call.notes) == ("NI", NOTE)
        assert s.get(Lead, call.lead_id).status != "dialing"  # the lead moved on as with any disposition
    page.reload()
    expect(page.locator("#unfinished")).to_have_count(0)
