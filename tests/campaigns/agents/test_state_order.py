"""An agent's state history stays in time order when two processes with their own clocks write it.

The console writes "ready" with its clock; a worker whose turn began a few milliseconds earlier pauses the agent
(no phone line up yet) with that turn's time. Written as given, the pause is dated before the ready it overtakes,
and the pacer, which drops a state older than the one it holds, keeps counting the agent ready for ever: the
campaign dials for a seat nobody can answer from, and every answer is abandoned (seen running two workers and the
console on PostgreSQL: 26 abandons of 44 calls on a two-agent campaign).
"""

from __future__ import annotations

from datetime import timedelta

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agents
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from dialer.pacing.events import AgentState
from dialer.pacing.floor import Floor


def test_a_pause_dated_before_the_ready_it_overtakes_still_reaches_the_pacer(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        spring = create_campaign(s, "Spring", "+12125550100", now)
        ann = agents.create_agent(s, "ann", now, campaign=spring).id
        agent_lines.set_phone(s, ann, "+12125551001", now)
    ready_at = now + timedelta(seconds=5)
    with session_scope(sessions) as s:  # the console, its clock a little ahead
        assert agents.go_ready(s, ann, ready_at)
    with session_scope(sessions) as s:  # the worker's turn, its time read 20 ms before the ready was written
        assert agent_lines.pause_unlined(s, None, ready_at - timedelta(milliseconds=20)) == [ann]

    with session_scope(sessions) as s:
        history = agents.events_since(s, 0)
        agent = agents.get_agent(s, ann)
        assert (agent.state, agent.state_reason) == ("paused", "line-down")
        assert agent.state_since >= ready_at
    times = [row.at for row in history]
    assert times == sorted(times), history

    floor = Floor()  # the counts every pacer keeps
    for row in history:
        floor.observe(AgentState(t=row.at.timestamp(), agent_id=str(row.agent_id), state=row.state))
    assert floor.ready == 0  # the pacer counts nobody ready, as the database says
