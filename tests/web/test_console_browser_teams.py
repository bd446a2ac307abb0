"""Browser (issue 16, agents): the manager chooses who may join a campaign and the agent is offered only that; the
manager takes the seat off the live floor and the agent's page says so; the wrap-up limit counts down on the seat;
the roles that may not edit a team are refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from campaigns.agents import service as agents
from campaigns.agents.wrap import end_overdue_wraps
from campaigns.campaign import dialing
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from tests.web.conftest import agent_goes_ready, screenshot, sign_in

pytestmark = pytest.mark.browser


def seed(sessions, clock) -> dict:
    t = clock.now()
    with sessions() as s:
        spring = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        summer = create_campaign(s, "Summer", "+12125550101", t - timedelta(days=1))
        paused = create_campaign(s, "Autumn", "+12125550102", t - timedelta(days=1))
        for c in (spring, summer, paused):
            set_status(s, c, "active", t)
        set_status(s, paused, "paused", t)
        ann = agents.create_agent(s, "ann", t)
        s.commit()
        return {"spring": spring.id, "summer": summer.id, "ann": ann.id}


def agent_context(chromium, live_server):
    ctx = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    page = ctx.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


def test_manager_sets_the_team_the_agent_is_offered_it_and_is_taken_off_the_floor(browser_page, chromium,
                                                                                  live_server, sessions, clock):
    page = browser_page
    page.on("dialog", lambda d: d.accept())
    ids = seed(sessions, clock)
    live_server.app.config.update(FLOOR_POLL_SECONDS=1, AGENT_POLL_SECONDS=1)
    sign_in(page, "manager")
    page.goto(f"/campaigns/{ids['summer']}")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_label("Only the agents ticked below").check()
    page.get_by_label("ann", exact=True).check()
    page.get_by_role("button", name="Save who may join").click()
    expect(page.locator(".flash.success")).to_contain_text("ann may join Summer")
    expect(page.locator("#history")).to_contain_text("every agent")
    screenshot(page, "manager-team")

    ctx, agent, errors = agent_context(chromium, live_server)
    try:
        sign_in(agent, "agent")
        options = agent.get_by_label("Campaign").locator("option")
        expect(options).to_have_text(["Spring"])  # Summer: not on its team; Autumn: paused
        agent.get_by_label("Campaign").select_option(label="Spring")
        agent.get_by_role("button", name="Log in and go ready").click()
        expect(agent.locator("#state-chip")).to_have_text("ready")

        page.goto(f"/floor/?campaign_id={ids['spring']}")
        card = page.locator(".agent-card", has_text="agent-user")
        card.get_by_role("button", name="Take offline").click()
        expect(page.locator(".agent-card", has_text="agent-user")).to_have_count(0)
        expect(agent.locator("#left-why")).to_contain_text("A campaign manager took your seat off the live floor")
        expect(agent.locator("#state-chip")).to_have_text("offline")
        page.goto(f"/campaigns/{ids['spring']}")
        expect(page.locator("#history")).to_contain_text("offline (taken off the floor)")
        expect(page.locator("#history")).to_contain_text("manager-user")
    finally:
        ctx.close()
    assert not errors


def test_the_wrap_up_limit_counts_down_on_the_seat(browser_page, live_server, sessions, clock):
    page = browser_page
    ids = seed(sessions, clock)
    live_server.app.config.update(AGENT_POLL_SECONDS=1)
    with sessions() as s:
        dialing.apply(s, s.get(Campaign, ids["spring"]), {"wrap_limit": "45"}, "mia", clock.now())
        s.commit()
    agent_goes_ready(page)
    t = clock.now()
    with sessions() as s:
        seat = s.execute(__import__("sqlalchemy").text(
            "SELECT agent_id FROM users WHERE username = 'agent-user'")).scalar()
        call = Call(campaign_id=ids["spring"], phone="+13125550123", attempt=1, placed_at=t, answered_at=t,
                    answered_by="human", status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
    expect(page.locator("#wrap-limit")).to_contain_text("After this call: 0:00:45 of wrap-up, then you go ready")
    page.get_by_role("button", name="Hang up").click()
    left = page.locator("#wrap-left")
    expect(page.locator("#wrap-limit")).to_contain_text("Wrap-up limit 0:00:45: in")
    first = left.inner_text()
    expect(left).not_to_have_text(first)  # it counts (at the clock's speed, from the server's time)

    def seconds(text: str) -> int:  # h:mm:ss, as every duration on the console
        h, m, s = text.split(":")
        return int(h) * 3600 + int(m) * 60 + int(s)

    assert seconds(left.inner_text()) < seconds(first) <= 45
    screenshot(page, "agent-wrap-limit")
    clock.advance(46)
    with sessions() as s:
        assert end_overdue_wraps(s, clock.now()) == 1  # what the worker's wrap-limits job does
        s.commit()
    expect(page.locator("#state-chip")).to_have_text("ready")  # the page follows the seat by itself
    expect(page.locator("#wrap-limit")).to_have_count(0)


@pytest.mark.parametrize("role", ["agent", "sales", "compliance"])
def test_roles_that_may_not_edit_a_team_are_refused(browser_page, sessions, clock, role):
    page = browser_page
    ids = seed(sessions, clock)
    sign_in(page, role)
    assert page.request.get(f"/campaigns/{ids['spring']}/agents/").status == 403
    assert page.request.post(f"/campaigns/{ids['spring']}/agents/", form={"who": "everyone"}).status == 403
