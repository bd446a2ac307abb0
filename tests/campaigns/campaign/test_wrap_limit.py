"""The wrap-up limit: a person's seat in wrap-up past the campaign's limit goes ready (or paused, as set); a seat
within the limit, a simulated seat and a campaign without a limit are left alone."""

from __future__ import annotations

from datetime import timedelta

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.agents.wrap import PAUSE_REASON, end_overdue_wraps
from campaigns.campaign import dialing
from campaigns.campaign.service import create_campaign, set_status


def test_seats_past_the_limit_move_on(session, clock):
    t = clock.now()
    c = create_campaign(session, "Spring", "+12125550100", t)
    set_status(session, c, "active", t)
    ann = agents.create_agent(session, "ann", t, campaign=c)
    bob = agents.create_agent(session, "bob", t, campaign=c)
    sim = agents.create_agent(session, "sim-1", t, campaign=c)
    sim.simulated = True
    for a in (ann, bob, sim):
        agents.go_ready(session, a.id, t)
        agents.record(session, session.get(Agent, a.id), "wrap", None, t)
    session.flush()
    assert end_overdue_wraps(session, t + timedelta(hours=1)) == 0  # no limit set
    dialing.apply(session, c, {"wrap_limit": "30"}, "m", t)
    agents.record(session, session.get(Agent, bob.id), "wrap", None, t + timedelta(seconds=20))
    assert end_overdue_wraps(session, t + timedelta(seconds=31)) == 1
    assert session.get(Agent, ann.id).state == "ready"
    assert session.get(Agent, bob.id).state == "wrap" and session.get(Agent, sim.id).state == "wrap"
    dialing.apply(session, c, {"wrap_then": "paused"}, "m", t)
    assert end_overdue_wraps(session, t + timedelta(seconds=51)) == 1
    bob_now = session.get(Agent, bob.id)
    assert (bob_now.state, bob_now.state_reason) == ("paused", PAUSE_REASON)
