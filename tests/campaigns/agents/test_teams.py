"""A campaign's team: open to every agent until a manager lists agents; then only they are offered it and only they
may join or go ready on it (checked in the service, whatever a page offered); a paused campaign is offered to
nobody; seats taken off the team leave it (at once, or after their call); every change is in the history."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from campaigns.agents import service as agents
from campaigns.agents import teams
from campaigns.agents.models import Agent
from campaigns.agents.wrap import end_overdue_wraps
from campaigns.campaign import dialing
from campaigns.campaign.history import changes
from campaigns.campaign.service import create_campaign, set_status
from dnc.errors import UserError


@pytest.fixture
def floor(session, clock):
    t = clock.now()
    spring = create_campaign(session, "Spring", "+12125550100", t)
    summer = create_campaign(session, "Summer", "+12125550101", t)
    draft = create_campaign(session, "Winter", "+12125550102", t)
    for c in (spring, summer):
        set_status(session, c, "active", t)
    ann, bo = (agents.create_agent(session, n, t) for n in ("ann", "bo"))
    sim = agents.create_agent(session, "sim-1", t)
    sim.simulated = True
    session.flush()
    return {"spring": spring, "summer": summer, "draft": draft, "ann": ann, "bo": bo, "sim": sim}


def names(campaigns) -> list[str]:
    return [c.name for c in campaigns]


def test_open_to_everyone_until_a_team_is_set(session, clock, floor):
    ann, bo = floor["ann"], floor["bo"]
    assert names(teams.offered(session, ann)) == ["Spring", "Summer"]  # the draft campaign is not offered
    assert teams.set_team(session, floor["spring"], {ann.id}, "mia", clock.now())
    assert names(teams.offered(session, ann)) == ["Spring", "Summer"]
    assert names(teams.offered(session, bo)) == ["Summer"]
    assert names(teams.offered(session, floor["sim"])) == ["Spring", "Summer"]  # simulated seats: not limited
    assert teams.join(session, ann, floor["spring"], clock.now())
    assert session.get(Agent, ann.id).state == "ready"
    with pytest.raises(UserError, match="not on campaign Spring's team"):
        teams.join(session, bo, floor["spring"], clock.now())
    assert session.get(Agent, bo.id).state == "offline"
    assert not teams.set_team(session, floor["spring"], {ann.id}, "mia", clock.now())  # no change, no record
    assert teams.set_team(session, floor["spring"], set(), "mia", clock.now())  # open again
    assert teams.join(session, bo, floor["spring"], clock.now())
    history = [(c.by, c.field, c.old, c.new) for c in changes(session, floor["spring"].id, subject="team")]
    assert history == [("mia", "Agents who may join", "ann", "every agent"),
                       ("mia", "Agents who may join", "every agent", "ann")]


def test_a_paused_or_draft_campaign_is_not_offered_nor_joined(session, clock, floor):
    ann = floor["ann"]
    set_status(session, floor["spring"], "paused", clock.now())
    assert names(teams.offered(session, ann)) == ["Summer"]
    for c in (floor["spring"], floor["draft"]):
        with pytest.raises(UserError, match=f"campaign {c.name} is (paused|draft)"):
            teams.join(session, ann, c, clock.now())
    assert session.get(Agent, ann.id).state == "offline"


def test_going_ready_is_checked_in_the_service_not_only_on_the_page(session, clock, floor):
    """A seat whose campaign it was assigned to (by an older version, a script, a forged form) still cannot take
    calls from a campaign whose team it is not on: every move to ready, or joining paused, is checked."""
    bo, spring = floor["bo"], floor["spring"]
    teams.set_team(session, spring, {floor["ann"].id}, "mia", clock.now())
    agents.assign(session, bo, spring)
    with pytest.raises(UserError, match="not on campaign Spring's team"):
        agents.go_ready(session, bo.id, clock.now())
    with pytest.raises(UserError, match="not on campaign Spring's team"):
        agents.pause(session, bo.id, "break", clock.now())
    assert session.get(Agent, bo.id).state == "offline"


def test_seats_taken_off_the_team_leave_now_or_after_their_call(session, clock, floor):
    t = clock.now()
    spring, ann, bo = floor["spring"], floor["ann"], floor["bo"]
    carl = agents.create_agent(session, "carl", t)
    for a in (ann, bo, carl):
        teams.join(session, a, spring, t)
    agents.pause(session, bo.id, "lunch", t)
    agents.record(session, session.get(Agent, carl.id), "wrap", None, t)  # carl is wrapping up a call
    dialing.apply(session, spring, {"wrap_limit": "30"}, "mia", t)
    teams.set_team(session, spring, {ann.id}, "mia", t + timedelta(seconds=1))
    states = {a.name: (a.state, a.state_reason) for a in session.query(Agent).filter(Agent.simulated.is_(False))}
    assert states == {"ann": ("ready", None), "bo": ("offline", teams.OFF_TEAM), "carl": ("wrap", None)}
    with pytest.raises(UserError, match="not on campaign Spring's team"):
        agents.go_ready(session, carl.id, t + timedelta(seconds=5))  # after the call: not ready on Spring again
    assert end_overdue_wraps(session, t + timedelta(seconds=31)) == 1  # the wrap-up limit logs carl out instead
    assert (session.get(Agent, carl.id).state, session.get(Agent, carl.id).state_reason) == ("offline", "team")


def test_dialer_campaigns_agents_names_agents_by_seat_or_login(sessions, clock, dialer):
    from campaigns.accounts.users import create_user

    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        set_status(s, c, "active", clock.now())
        agents.create_agent(s, "ann", clock.now())
        agents.create_agent(s, "bo", clock.now())
        create_user(s, "carla", "agent", "", clock.now(), password_hash="x", agent_name="seat-7")
        s.commit()
    out = dialer("campaigns", "agents", "Spring", "--json")
    assert out.code == 0 and json.loads(out.out)["open_to_every_agent"] is True
    out = dialer("campaigns", "agents", "Spring", "--add", "ann", "--add", "CARLA", "--by", "mia", "--json")
    got = json.loads(out.out)
    assert out.code == 0 and got["changed"] and [a["agent"] for a in got["agents"]] == ["ann", "seat-7"]
    out = dialer("campaigns", "agents", "Spring", "--remove", "ann")
    assert out.code == 0 and "only these agents may join" in out.out and "seat-7" in out.out
    out = dialer("campaigns", "agents", "Spring", "--only", "bo,ann", "--json")
    assert [a["agent"] for a in json.loads(out.out)["agents"]] == ["ann", "bo"]
    out = dialer("campaigns", "agents", "Spring", "--add", "nobody")
    assert out.code == 2 and "no agent 'nobody'" in out.err
    out = dialer("campaigns", "agents", "Spring", "--everyone", "--add", "ann")
    assert out.code == 2 and "--everyone" in out.err
    out = dialer("campaigns", "agents", "Spring", "--everyone")
    assert out.code == 0 and "every agent may join" in out.out
    history = dialer("campaigns", "history", "Spring", "--json")
    rows = [(r["by"], r["old"], r["new"]) for r in json.loads(history.out)["changes"]]
    assert rows[-1] == ("mia", "every agent", "ann, seat-7") and rows[0][1:] == ("ann, bo", "every agent")
