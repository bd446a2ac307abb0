"""Browser: an agent goes ready, the dial loop places a call that a person answers, the lead pops, the agent
dispositions it as a close, and the sales lead's first-call close moves.

The real dial loop (``DialLoop`` on ``SqlStore``, progressive pacing) runs against the console's database; only
the carrier is scripted here (it is the outside edge: the test says when the callee answers).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dialer.carriers.telephony import CarrierEvent
from dialer.loop import DialLoop, SqlStore
from tests.web.conftest import agent_goes_ready, screenshot, seed_spring, sign_in

pytestmark = pytest.mark.browser


class Carrier:
    """The network: remembers what the loop asked for; the test reports answers."""

    name = "sim"

    def __init__(self) -> None:
        self.placed: list[str] = []

    def place(self, request) -> str:
        self.placed.append(f"net-{request.call_id}")
        return self.placed[-1]

    def connect(self, provider_ref: str, agent_id: int) -> None:
        pass

    def abandon(self, provider_ref: str) -> None:
        pass

    def hangup(self, provider_ref: str) -> None:
        pass


def test_agent_takes_a_call_closes_it_and_fcc_moves(browser_page, chromium, live_server, sessions, clock):
    page = browser_page
    seed_spring(sessions, clock)
    carrier = Carrier()
    loop = DialLoop(SqlStore(sessions), carrier)

    agent_goes_ready(page)
    expect(page.get_by_role("heading", name="agent-user")).to_be_visible()
    expect(page.locator("#waiting")).to_be_visible()

    clock.advance(1)
    loop.tick(clock.now())  # progressive: one call for the one ready agent
    assert len(carrier.placed) == 1
    clock.advance(8)
    loop.handle(CarrierEvent("answered", carrier.placed[0], clock.now(), answered_by="human"))

    # the page notices by itself (it polls the seat's state) and pops the lead
    expect(page.locator("#lead-name")).to_have_text("Ann Lee", timeout=10_000)
    expect(page.locator("#state-chip")).to_have_text("talking")
    expect(page.locator("#lead-pop")).to_contain_text("Initech")
    expect(page.locator("#script")).to_have_text("Hello Ann, this is agent-user from Acme Solar.")
    screenshot(page, "agent-seat")
    # the call buttons name the call they were shown with (web.seat_call): a normal click goes through
    page.get_by_role("button", name="Hold", exact=True).click()
    expect(page.locator("#hold-chip")).to_have_text("customer on hold")
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(page.locator("#hold-chip")).to_have_text("customer on the line")
    page.get_by_label("Sale / close").check()
    page.get_by_label("Notes").fill("6 kW, installation in March")
    page.get_by_role("button", name="Save disposition").click()
    expect(page.locator("#state-chip")).to_have_text("ready")
    with sessions() as s:
        call = s.query(Call).one()
        assert call.disposition_code == "SALE" and s.query(Lead).one().status == "closed"

    sales = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    try:
        lead_page = sales.new_page()
        sign_in(lead_page, "sales")
        expect(lead_page.locator("#tile-first_call_close [data-value]")).to_have_text("100.0 %")
        expect(lead_page.locator("#tile-closes [data-value]")).to_have_text("1")
    finally:
        sales.close()
