"""An agent reaches only the agents their seat offers: a consult names a colleague by id, and an id typed into the
form for an agent of another campaign (or one not free) is refused before anything of that agent changes."""

from __future__ import annotations

from datetime import timedelta

from campaigns.agents import service as agents
from campaigns.agents.models import Agent, AgentLine
from campaigns.campaign.service import create_campaign, set_status
from tests.web import test_console_agent as seat_tests
from tests.web.test_console_agent import agent_id, ring

floor = seat_tests.floor  # the agent tests' fixture


def _agent_elsewhere(sessions, clock) -> tuple[int, object]:
    """Otto: ready on campaign "Autumn", his phone line up for five minutes."""
    t = clock.now()
    with sessions() as s:
        autumn = create_campaign(s, "Autumn", "+12125550111", t - timedelta(days=1))
        set_status(s, autumn, "active", t)
        otto = agents.create_agent(s, "Otto", t, campaign=autumn)
        agents.go_ready(s, otto.id, t)
        since = t - timedelta(minutes=5)
        s.add(AgentLine(agent_id=otto.id, call_sid="CA" + "0" * 32, status="up", since=since))
        s.commit()
        return otto.id, since


def test_a_consult_naming_another_campaigns_agent_changes_nothing_of_theirs(client, auth, floor, sessions, clock):
    otto, since = _agent_elsewhere(sessions, clock)
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ring(sessions, clock, floor, seat)
    clock.advance(2)
    assert f'<option value="{otto}">' not in client.get("/agent/").get_data(as_text=True)  # never offered
    auth.post("/agent/call/consult", {"to_agent": str(otto)}, page="/agent/")
    assert "not free to take a consult" in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        line, o = s.get(AgentLine, otto), s.get(Agent, otto)
        # his line was neither taken down nor touched (it was marked away and back, committed, for a moment)
        assert (line.status, line.since) == ("up", since)
        assert (o.state, o.call_id) == ("ready", None)
