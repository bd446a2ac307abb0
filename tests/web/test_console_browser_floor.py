"""Browser: the live floor updates itself (no reload) when agents change state and calls come in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from campaigns.agents import service as agents
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.dispatch.service import save_pacing_status
from campaigns.leads.models import Lead, LeadList
from tests.web.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_the_floor_updates_itself(browser_page, live_server, sessions, clock):
    page = browser_page
    live_server.app.config.update(FLOOR_POLL_SECONDS=1, FUNNEL_POLL_SECONDS=1)
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        set_status(s, c, "active", t)
        team = [agents.create_agent(s, f"agent-{i:02d}", t, campaign=c).id for i in range(1, 7)]
        for i, a in enumerate(team):
            agents.go_ready(s, a, t - timedelta(seconds=30 * (i + 1)))
        agents.pause(s, team[5], "break", t - timedelta(seconds=20))
        for i in range(40):
            placed = t - timedelta(hours=1, minutes=i)
            s.add(Call(campaign_id=c.id, phone=f"+1212736{4400 + i}", placed_at=placed,
                       answered_at=placed if i % 3 == 0 else None, answered_by="human" if i % 3 == 0 else None,
                       connected_at=placed if i % 3 == 0 and i != 3 else None, ended_at=placed + timedelta(seconds=40),
                       outcome="abandoned" if i == 3 else "completed" if i % 3 == 0 else "no_answer",
                       status="completed"))
        save_pacing_status(s, c.id, {"planned": 5, "allowed": 5, "placed": 5, "capped_by": None, "live_lines": 5,
                                     "pacer": {"t": 1.0, "mode": "predictive", "n": 5, "agents_ready": 5,
                                               "agents_staffed": 5, "calls_in_flight": 0,
                                               "abandon_rate_30d": 0.0714, "abandon_budget_left": 0.0}}, t)
        s.commit()
    sign_in(page, "manager")
    page.goto(f"/floor/?campaign_id={c.id}")
    expect(page.locator('[data-k="agents_taking"] [data-value]')).to_have_text("5")
    expect(page.locator('[data-k="today.dials"] [data-value]')).to_have_text("40")
    expect(page.locator("#pacing")).to_contain_text("predictive")
    expect(page.locator('#funnel [data-f="equation"]')).to_contain_text("0 leads = 0 final")
    with sessions() as s:  # two agents pause, one logs out; a call starts ringing; a list brings two leads
        agents.pause(s, team[0], "lunch", clock.now())
        agents.go_offline(s, team[1], clock.now())
        s.add(Call(campaign_id=c.id, phone="+12127364500", placed_at=clock.now(), status="ringing"))
        lst = LeadList(campaign_id=c.id, name="March", sha256="d" * 64, uploaded_at=clock.now())
        s.add(lst)
        s.flush()
        s.add_all([Lead(campaign_id=c.id, list_id=lst.id, phone=p, status=st, created_at=clock.now(),
                        updated_at=clock.now()) for p, st in (("+12127364601", "closed"), ("+12127364602", "new"))])
        s.commit()
    expect(page.locator('[data-k="agents_taking"] [data-value]')).to_have_text("3")
    expect(page.locator('[data-k="ringing"] [data-value]')).to_have_text("1")
    expect(page.locator("#agents")).to_contain_text("paused: lunch")
    expect(page.locator("#agents .agent-card")).to_have_count(5)
    expect(page.locator('#funnel [data-f="equation"]')).to_contain_text("2 leads = 1 final")  # re-rendered
    screenshot(page, "manager-floor")
