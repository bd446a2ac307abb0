"""Browser: "Then" chosen in the disposition form during a call is told to the dialer at once (no button to press),
the page confirms it in words, and saving the disposition sends the seat there."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.agents.models import Agent
from tests.web.conftest import pop_call

pytestmark = pytest.mark.browser


def test_then_chosen_during_the_call_reaches_the_dialer_and_the_seat_logs_out_after_it(ready_on_spring, sessions,
                                                                                      clock):
    page = ready_on_spring
    call_id = pop_call(sessions, clock, "+12127364421", "Ann")
    expect(page.locator("#state-chip")).to_have_text("talking", timeout=10_000)
    expect(page.locator("#after-call-tell")).to_be_hidden()  # the script tells the dialer on each change
    with sessions() as s:
        seat = s.query(Agent.id).filter_by(call_id=call_id).scalar()

    page.get_by_label("Then").select_option(label="Pause")  # the reason shows once Pause is chosen
    page.get_by_label("Pause reason").select_option(label="Lunch")
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
