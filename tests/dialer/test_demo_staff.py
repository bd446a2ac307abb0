"""The demo's simulated agents staff the demo's own campaign only: a campaign a manager creates and starts in the demo
is staffed by the people at the console (its floor said "19 agents taking calls" with no lead loaded), unless the
demo was asked to staff every campaign (``dialer demo --serve --staff-every-campaign``)."""

from __future__ import annotations

import json

from sqlalchemy import func, insert, select

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.leads.models import Lead, LeadList
from dialer.demo.campaign import DEMO_CAMPAIGN
from dialer.demo.launch import worker_args


def _campaign(sessions, now, name: str, leads: int) -> int:
    with session_scope(sessions) as s:
        c = create_campaign(s, name, "+12125550100", now)
        c.status, c.pacing_mode = "active", "progressive"
        if leads:
            lst = LeadList(campaign_id=c.id, name="l", sha256=name[0] * 64, uploaded_at=now)
            s.add(lst)
            s.flush()
            s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": f"+1212555{i:04d}",
                                      "custom": {}, "created_at": now, "updated_at": now} for i in range(leads)])
        return c.id


def _simulated(sessions, campaign_id: int) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count()).select_from(Agent).where(Agent.campaign_id == campaign_id,
                                                                        Agent.simulated.is_(True)))


def test_a_campaign_the_manager_starts_in_the_demo_has_no_simulated_agents(dialer, sessions, clock):
    assert dialer("db", "upgrade").code == 0
    demo = _campaign(sessions, clock.now(), DEMO_CAMPAIGN, 20)
    mine = _campaign(sessions, clock.now(), "Autumn", 0)  # created and started with no list yet
    args = worker_args(speed=4.0, agents=3)
    assert args[0] == "run"
    r = dialer(*args, "--for", "0", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["campaigns"] == ["Autumn", DEMO_CAMPAIGN]  # both dialed: the manager's seat can take Autumn's calls
    assert out["agents"] == 3
    assert (_simulated(sessions, demo), _simulated(sessions, mine)) == (3, 0)


def test_the_demo_staffs_every_campaign_when_asked(dialer, sessions, clock):
    assert dialer("db", "upgrade").code == 0
    _campaign(sessions, clock.now(), DEMO_CAMPAIGN, 20)
    mine = _campaign(sessions, clock.now(), "Autumn", 20)
    r = dialer(*worker_args(speed=4.0, agents=2, staff_every_campaign=True), "--for", "0", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["agents"] == 4 and _simulated(sessions, mine) == 2


def test_run_refuses_to_staff_an_unknown_campaign(dialer):
    assert dialer("db", "upgrade").code == 0
    r = dialer("run", "--staff", "Nope", "--for", "0")
    assert r.code == 2 and "Nope" in r.err


def test_the_worker_log_says_why_a_campaign_has_no_simulated_agents(sessions, clock, caplog):
    """The log said "campaign 2: 0 simulated agents logging in", as if they had failed to come."""
    import logging

    from dialer.sim import load_scenario
    from dialer.sim.live import LiveSimulation
    from tests.dialer.sim.test_live import BASE

    demo = _campaign(sessions, clock.now(), DEMO_CAMPAIGN, 5)
    mine = _campaign(sessions, clock.now(), "Autumn", 5)
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, clock.now(), agents=2, staff={demo})
    with caplog.at_level(logging.INFO):
        sim.adopt()
    assert f"campaign {demo}: 2 simulated agents logging in" in caplog.text
    assert f"campaign {mine}: no simulated agents (not a campaign this worker staffs): people at the console " \
           "take its calls" in caplog.text
