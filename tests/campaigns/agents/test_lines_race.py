"""A phone agent who goes ready while the worker tends the lines (after its read of whom to ring, before its pause of
ready agents without a line) was paused "line-down" without ever being rung, and stayed out of the floor until they
clicked Ready again. Only agents the turn considered are held back; the others are rung on the next turn."""

from __future__ import annotations

from datetime import timedelta

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agents
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope


def test_an_agent_ready_after_the_turns_read_is_rung_next_turn_not_held_back(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        spring = create_campaign(s, "Spring", "+12125550100", now)
        ann = agents.create_agent(s, "ann", now, campaign=spring).id
        bob = agents.create_agent(s, "bob", now, campaign=spring).id
        for agent_id, phone in ((ann, "+12125551001"), (bob, "+12125551002")):
            agent_lines.set_phone(s, agent_id, phone, now)
        agents.go_ready(s, bob, now)
    with session_scope(sessions) as s:  # the worker's turn reads whom to ring: bob
        ring = agent_lines.to_nail_up(s, None)
    assert [w.agent_id for w in ring] == [bob]
    with session_scope(sessions) as s:  # ann goes ready meanwhile, on the console
        agents.go_ready(s, ann, now + timedelta(milliseconds=5))
    with session_scope(sessions) as s:  # bob's ring failed (Twilio refused it): he is held back; ann is not
        held = agent_lines.pause_unlined(s, None, now + timedelta(milliseconds=10), rung={w.agent_id for w in ring})
    assert held == [bob]
    with session_scope(sessions) as s:
        assert agents.get_agent(s, ann).state == "ready"
        assert [w.agent_id for w in agent_lines.to_nail_up(s, None)] == [ann]  # the next turn rings her
