"""The campaign page warns when a power setting would overdial its floor, and says the budget holds it back."""

from __future__ import annotations

from datetime import timedelta

from campaigns.agents import service as agents
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign


def _power_campaign(sessions, clock, k: float, team: int) -> int:
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Blitz", "+12125550100", t - timedelta(days=1), CampaignSettings(pacing_mode="power"))
        s.get(Campaign, c.id).power_ratio = k
        for i in range(team):
            agents.create_agent(s, f"agent{i}", t, campaign=c)
        s.commit()
        return c.id


def test_power_six_on_fifty_agents_is_said_to_be_held_to_the_budget(client, auth, sessions, clock):
    cid = _power_campaign(sessions, clock, 6.0, 50)
    auth.login("manager")
    html = client.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert 'data-testid="overdial"' in html
    assert "Power 6 lines per agent with 50 agents would abandon about" in html
    assert "the dialer will hold it to the 3 % budget" in html


def test_a_setting_the_floor_absorbs_gets_no_warning(client, auth, sessions, clock):
    cid = _power_campaign(sessions, clock, 1.5, 20)
    auth.login("manager")
    assert 'data-testid="overdial"' not in client.get(f"/campaigns/{cid}").get_data(as_text=True)
