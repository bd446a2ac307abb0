"""Browser: the seat's state buttons, which now name the seat they were shown with, still work as clicked (Pause
when idle, Ready when paused, Log out), and a callback agreed outside the customer's calling hours is refused on the
disposition form with the window's next opening offered as a button that saves it there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from campaigns.callbacks.models import Callback
from tests.web.conftest import pop_call

pytestmark = pytest.mark.browser


def test_state_buttons_and_a_callback_outside_the_window_from_the_page(ready_on_spring, sessions, clock):
    page = ready_on_spring
    page.locator("#pause-reason").select_option(label="Lunch")
    page.get_by_role("button", name="Pause", exact=True).click()
    expect(page.locator("#state-chip")).to_have_text("paused: lunch")
    page.get_by_role("button", name="Ready", exact=True).click()
    expect(page.locator("#state-chip")).to_have_text("ready")

    pop_call(sessions, clock, "+12127364421", "Ann")  # Ann is in New York
    expect(page.locator("#lead-name")).to_have_text("Ann Lee", timeout=10_000)
    page.get_by_role("button", name="Hang up").click()
    expect(page.locator("#wrap-timer")).to_be_visible()
    page.get_by_label("Callback", exact=True).check()
    page.get_by_label("Callback at").fill("2030-01-09T22:30")  # after 21:00 at the customer's
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#callback_at-error")).to_have_text(
        "2030-01-09 22:30 EST is outside the customer's calling hours; the earliest allowed time is "
        "2030-01-10 08:00 EST (the customer's time).")
    with sessions() as s:
        assert s.query(Callback).count() == 0
    page.get_by_role("button", name="Save with the callback at 2030-01-10 08:00 EST (the customer's time)").click()
    expect(page.locator("#state-chip")).to_have_text("ready")
    with sessions() as s:
        assert s.query(Callback).one().due_at == datetime(2030, 1, 10, 13, 0, tzinfo=UTC)

    page.once("dialog", lambda d: d.accept())  # "Log out of the campaign?"
    page.get_by_role("button", name="Log out of the campaign").click()
    expect(page.locator("#state-chip")).to_have_text("offline")
