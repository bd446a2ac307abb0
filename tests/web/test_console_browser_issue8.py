"""Browser: a campaign manager follows the floor's missed-callback warning to the callback queue, moves a missed
callback to a time outside the lead's calling window, is offered the window's opening, and accepts it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from campaigns.callbacks import service as cb
from tests.web.conftest import sign_in
from tests.web.test_console_callbacks import queue  # noqa: F401  (the fixture: a campaign with missed callbacks)

pytestmark = pytest.mark.browser


def test_manager_moves_a_missed_callback_to_the_windows_opening(browser_page, live_server, queue,  # noqa: F811
                                                                 sessions):
    page = browser_page
    sign_in(page, "manager")
    page.goto(f"/floor/?campaign_id={queue['campaign']}")
    missed = page.locator('[data-k="guard.missed_callbacks"] [data-value]')
    expect(missed).to_have_text("2")
    # the warning as served is marked; one poll of the floor later, floor.js has redrawn the warnings and tiles
    page.evaluate("document.querySelector('#warnings a').dataset.served = '1'")
    with page.expect_response(lambda r: r.url.endswith(f"/floor/{queue['campaign']}/data") and r.ok) as poll:
        pass
    assert poll.value.json()["guard"]["missed_callbacks"] == 2
    expect(page.locator("#warnings a[data-served]")).to_have_count(0)
    expect(page.locator("#warnings a")).to_have_count(1)
    expect(missed).to_have_text("2")
    page.locator("#warnings").get_by_role("link", name="Open the callback queue").click()

    expect(page.get_by_role("heading", name="Callbacks: Spring")).to_be_visible()
    row = page.locator(f"#cb-row-{queue['Ann']}")
    expect(row).to_have_class("missed")
    row.get_by_text("Move, reassign, cancel").click()
    row.get_by_label("New time (lead's time, America/Chicago)").fill("2030-01-09T22:30")
    row.get_by_role("button", name="Move").click()

    offer = page.locator("#offer")
    expect(offer).to_contain_text("2030-01-09 22:30 CST is outside the lead's calling window; it next opens "
                                  "2030-01-10 08:00 CST")
    accept = offer.get_by_role("button", name="Move it to the opening, 2030-01-10 08:00 CST")
    expect(accept).to_be_visible()
    accept.click()

    expect(page.get_by_text("Callback moved to 2030-01-10 08:00 CST (lead's time).")).to_be_visible()
    expect(page.locator("#cb-missed")).to_contain_text("Bob Test")
    expect(page.locator("#cb-missed")).not_to_contain_text("Ann Test")
    expect(page.locator("#cb-waiting")).to_contain_text("Ann Test")
    with sessions() as s:
        new = s.query(cb.Callback).filter_by(lead_id=queue["lead_Ann"], status="pending").one()
        assert new.due_at == datetime(2030, 1, 10, 14, 0, tzinfo=UTC)
