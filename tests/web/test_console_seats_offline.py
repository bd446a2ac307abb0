"""Finding 10 of issue 15: a person's seat leaves the floor when nobody is at it: signing out, a session that
expired or ended, a page that stopped polling (after the stated grace), or the manager taking it offline."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.accounts.sessions import SessionPolicy, unattended_seats
from campaigns.agents.models import Agent
from campaigns.agents.service import assign, go_ready
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from tests.web.conftest import USERS, AuthActions


@pytest.fixture
def seat(sessions, clock, seed_users):
    """The agent user's seat, in an active campaign, ready: a customer could be connected to it at once."""
    from campaigns.accounts.models import User

    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        c.status = "active"
        agent_id = s.query(User).filter_by(username=USERS["agent"]).one().agent_id
        assign(s, s.get(Agent, agent_id), c)
        s.commit()
        return c.id, agent_id


def _state(sessions, agent_id: int) -> str:
    with sessions() as s:
        return s.get(Agent, agent_id).state


def _ready(client, sessions, agent_id, clock) -> None:
    with sessions() as s:
        go_ready(s, agent_id, clock.now())
        s.commit()
    assert _state(sessions, agent_id) == "ready"


def test_signing_out_takes_the_agent_off_the_floor(client, auth, sessions, clock, seat):
    _, agent_id = seat
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    auth.logout()
    assert _state(sessions, agent_id) == "offline"


def test_a_seat_whose_page_stops_polling_goes_offline_after_the_grace(client, auth, sessions, clock, seat):
    _, agent_id = seat
    grace = SessionPolicy().seat_grace_s
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    for _ in range(6):  # the page polls: the seat stays
        clock.advance(grace / 3)
        assert client.get("/agent/state").status_code == 200
        with sessions() as s:
            assert unattended_seats(s, clock.now()) == []
            s.commit()
    clock.advance(grace - 1)  # the browser closed: no poll since
    with sessions() as s:
        assert unattended_seats(s, clock.now()) == []  # still within the grace
    clock.advance(2)
    with sessions() as s:
        assert unattended_seats(s, clock.now()) == [agent_id]
        s.commit()
    assert _state(sessions, agent_id) == "offline"


def test_an_ended_session_leaves_no_seat_ready(client, auth, sessions, clock, seat):
    from campaigns.accounts.models import User
    from campaigns.accounts.sessions import end_user_sessions

    _, agent_id = seat
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    with sessions() as s:  # the administrator disabled the account / changed its password elsewhere
        end_user_sessions(s, s.query(User).filter_by(username=USERS["agent"]).one().id, clock.now())
        assert unattended_seats(s, clock.now()) == [agent_id]
        s.commit()


def test_the_manager_takes_a_seat_offline_from_the_floor(app, client, auth, sessions, clock, seat):
    campaign_id, agent_id = seat
    agent_client = app.test_client()
    AuthActions(agent_client).login("agent")
    _ready(agent_client, sessions, agent_id, clock)
    auth.login("manager")
    assert any(a["id"] == agent_id for a in client.get(f"/floor/{campaign_id}/data").get_json()["agents"])
    r = auth.post(f"/floor/{campaign_id}/agents/{agent_id}/offline", page="/floor/",
                  headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.get_json()["changed"] is True
    assert _state(sessions, agent_id) == "offline"
    assert auth.post(f"/floor/{campaign_id + 1}/agents/{agent_id}/offline", page="/floor/").status_code == 404
    agent_auth = AuthActions(agent_client)
    assert agent_auth.post(f"/floor/{campaign_id}/agents/{agent_id}/offline", page="/agent/").status_code == 403


def test_a_simulated_seat_is_never_taken_off_by_the_job(sessions, clock, seat):
    from campaigns.agents.service import create_agent

    campaign_id, _ = seat
    with sessions() as s:
        sim = create_agent(s, "sim-1", clock.now(), campaign=s.get(Campaign, campaign_id))
        sim.simulated = True
        go_ready(s, sim.id, clock.now())
        s.commit()
        clock.advance(timedelta(hours=1).total_seconds())
        assert sim.id not in unattended_seats(s, clock.now())
