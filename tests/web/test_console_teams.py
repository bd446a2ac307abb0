"""Issue 16, agents: the manager's Agents page (who may join a campaign), the agent offered only the active
campaigns whose team they are on and refused on the server when a form asks for another; a seat taken off the
floor told why, with who did it in the campaign's history; the wrap-up limit stated and counted down on the seat."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.campaign import dialing
from campaigns.campaign.models import CampaignChange
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from tests.web.conftest import AuthActions


@pytest.fixture
def floor(sessions, clock):
    t = clock.now()
    with sessions() as s:
        spring = create_campaign(s, "Spring", "+12125550100", t)
        summer = create_campaign(s, "Summer", "+12125550101", t)
        set_status(s, spring, "active", t)
        set_status(s, summer, "active", t)
        ann = agents.create_agent(s, "ann", t)
        sim = agents.create_agent(s, "sim-1", t, campaign=spring)
        sim.simulated = True
        seat = s.execute(__import__("sqlalchemy").text(
            "SELECT agent_id FROM users WHERE username = 'agent-user'")).scalar()
        s.commit()
        return {"spring": spring.id, "summer": summer.id, "ann": ann.id, "seat": seat}


def offered(client) -> list[str]:
    return re.findall(r'<option[^>]*>([^<]+)</option>', client.get("/agent/").get_data(as_text=True))


def test_the_manager_chooses_who_may_join_and_the_server_holds_the_agent_to_it(app, client, auth, floor, sessions):
    auth.login("manager")
    page = client.get(f"/campaigns/{floor['spring']}/agents/").get_data(as_text=True)
    assert "Every agent may join" in page and "agent-user" in page and ">ann</label>" in page
    assert "sim-1" not in page and "1 simulated agents" in page  # simulated seats are not limited by teams
    r = auth.post(f"/campaigns/{floor['spring']}/agents/", {"who": "team"})
    assert r.status_code == 400 and "Tick at least one agent" in r.get_data(as_text=True)
    r = auth.post(f"/campaigns/{floor['spring']}/agents/", {"who": "team", "agent": str(floor["ann"])})
    assert r.status_code == 302
    page = client.get(f"/campaigns/{floor['spring']}/agents/").get_data(as_text=True)
    assert "ann may join Spring" in page and "manager-user" in page  # saved, and in the history with who
    assert "every agent</td><td>ann</td>" in page
    assert 'id="team-summary">ann' in client.get(f"/campaigns/{floor['spring']}").get_data(as_text=True)

    agent = app.test_client()
    agent_auth = AuthActions(agent)
    agent_auth.login("agent")
    assert offered(agent) == ["Summer"]  # Spring's team is ann alone
    r = agent_auth.post("/agent/start", {"campaign": str(floor["spring"])}, page="/agent/", follow_redirects=True)
    assert "is not on campaign Spring&#39;s team" in r.get_data(as_text=True)  # a forged choice: refused
    assert agent.get("/agent/state").get_json()["state"] == "offline"
    agent_auth.post("/agent/start", {"campaign": str(floor["summer"])}, page="/agent/")
    assert agent.get("/agent/state").get_json()["state"] == "ready"


def test_a_paused_campaign_is_not_offered_nor_joined_by_logging_in_again(app, client, auth, floor, sessions, clock):
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["spring"])}, page="/agent/")
    auth.post("/agent/offline", page="/agent/")
    with sessions() as s:
        from campaigns.campaign.models import Campaign

        set_status(s, s.get(Campaign, floor["spring"]), "paused", clock.now())
        s.commit()
    assert offered(client) == ["Summer"]
    r = auth.post("/agent/ready", page="/agent/", follow_redirects=True)  # back to the last campaign: a join
    assert "Campaign Spring is paused: agents join it once it is started" in r.get_data(as_text=True)
    r = auth.post("/agent/start", {"campaign": str(floor["spring"])}, page="/agent/", follow_redirects=True)
    assert "Spring is paused" in r.get_data(as_text=True)
    assert client.get("/agent/state").get_json()["state"] == "offline"


def test_a_seat_taken_off_the_floor_is_told_and_the_history_says_who(app, client, auth, floor, sessions):
    agent = app.test_client()
    agent_auth = AuthActions(agent)
    agent_auth.login("agent")
    agent_auth.post("/agent/start", {"campaign": str(floor["spring"])}, page="/agent/")
    auth.login("manager")
    r = auth.post(f"/floor/{floor['spring']}/agents/{floor['seat']}/offline", page="/floor/",
                  headers={"Accept": "application/json"})
    assert r.get_json()["changed"] is True
    with sessions() as s:
        seat = s.get(Agent, floor["seat"])
        assert (seat.state, seat.state_reason) == ("offline", "floor")
        ch = s.query(CampaignChange).filter_by(campaign_id=floor["spring"]).one()
        assert (ch.by, ch.field, ch.old, ch.new) == ("manager-user", "Seat", f"{seat.name}: ready",
                                                     f"{seat.name}: offline (taken off the floor)")
    assert "A campaign manager took your seat off the live floor" in agent.get("/agent/").get_data(as_text=True)
    assert "offline (taken off the floor)" in client.get(f"/campaigns/{floor['spring']}").get_data(as_text=True)


def test_the_seat_states_the_wrap_up_limit_and_counts_it_down(client, auth, floor, sessions, clock):
    with sessions() as s:
        from campaigns.campaign.models import Campaign

        dialing.apply(s, s.get(Campaign, floor["spring"]), {"wrap_limit": "45", "wrap_then": "paused"}, "mia",
                      clock.now())
        s.commit()
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["spring"])}, page="/agent/")
    t = clock.now()
    with sessions() as s:
        call = Call(campaign_id=floor["spring"], phone="+13125550123", attempt=1, placed_at=t,
                    answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, floor["seat"], t)
        s.commit()
    html = client.get("/agent/").get_data(as_text=True)
    assert "After this call: 0:00:45 of wrap-up, then your seat is paused." in html
    auth.post("/agent/hangup", page="/agent/")
    clock.advance(12)
    html = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'Wrap-up limit 0:00:45: in <strong class="timer" id="wrap-left">0:00:33</strong> your seat is '
                     r"paused\. Save the disposition before then; if you cannot, it waits on your seat with your "
                     r"notes\.", html)
    clock.advance(timedelta(seconds=40).total_seconds())
    from campaigns.agents.wrap import end_overdue_wraps

    with sessions() as s:
        assert end_overdue_wraps(s, clock.now()) == 1
        s.commit()
    html = client.get("/agent/").get_data(as_text=True)
    assert 'id="state-chip">paused: wrap-up limit reached' in html and "wrap-left" not in html
