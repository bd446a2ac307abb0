"""An agent whose role is taken away (or whose account is disabled) leaves the floor at once: the seat must not
stay ready for the dial loop with nobody allowed on the seat's page, which connects customers to no one
(abandoned calls). Before, the seat waited for the sweep of unattended seats, which spares a user with a live
session, so the same person signing in again in the new role kept the seat ready for good."""

from __future__ import annotations

import pytest

from campaigns.accounts.models import User
from campaigns.accounts.sessions import unattended_seats
from campaigns.agents.models import Agent
from tests.web import test_console_agent as seat_tests
from tests.web.conftest import USERS, AuthActions
from tests.web.test_console_agent import agent_id

floor = seat_tests.floor  # the agent tests' fixture


@pytest.mark.parametrize("change", [{"role": "manager", "active": "y"}, {"role": "agent"}],
                         ids=["role taken away", "disabled"])
def test_an_agent_changed_by_the_admin_leaves_the_floor_at_once(app, floor, sessions, clock, change):
    seat = agent_id(sessions)
    agent = AuthActions(app.test_client())
    agent.login("agent")
    agent.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    with sessions() as s:
        assert s.get(Agent, seat).state == "ready"
        user_id = s.query(User).filter_by(username=USERS["agent"]).one().id
    admin = AuthActions(app.test_client())
    admin.login("admin")
    r = admin.post(f"/admin/users/{user_id}", change)
    assert r.status_code == 302
    with sessions() as s:
        assert s.get(Agent, seat).state == "offline"
    if change["role"] == "manager":  # the same person back in the new role, then the worker's sweep
        assert agent.login("agent").status_code == 302
        with sessions() as s:
            unattended_seats(s, clock.now())
            s.commit()
            assert s.get(Agent, seat).state == "offline"
