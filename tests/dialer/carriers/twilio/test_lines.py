"""Agents' nailed-up lines: the join TwiML, conference and leg events, and what a line going down does to the agent;
the worker's side (ringing phone agents, holding back agents without a line, hanging up logged-out agents)."""

from __future__ import annotations

import pytest
from twilio.request_validator import RequestValidator

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.runtime import TwilioRuntime, TwilioStore
from dnc.errors import UserError
from tests.dialer.carriers.twilio.support import AUTH_TOKEN, env, make_app

PUBLIC = "https://dialer.example.com"
LEG = "CA" + "1" * 32
CUSTOMER = "CA" + "2" * 32


@pytest.fixture
def floor(session, clock):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    c.status = "active"
    ann = agent_svc.create_agent(session, "ann", clock.now(), campaign=c)
    bob = agent_svc.create_agent(session, "bob", clock.now(), campaign=c)
    session.commit()
    return c.id, ann.id, bob.id


@pytest.fixture
def client(sessions, clock):
    return make_app(sessions, clock, load(env(PUBLIC)), lambda *a, **k: None).test_client()


def post(client, path, form):
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
    return client.post(path, data=form, headers={"X-Twilio-Signature": sig})


def state(sessions, agent_id):
    with sessions() as s:
        a = s.get(Agent, agent_id)
        return a.state, a.state_reason


def line(sessions, agent_id):
    with sessions() as s:
        return agent_lines.get(s, agent_id)


def join(client, agent_id, sid=LEG, browser=True):
    form = {"CallSid": sid, "From": f"client:agent-{agent_id}" if browser else "+12125550100"}
    path = "/twilio/agent/join" + ("" if browser else f"?agent={agent_id}")
    return post(client, path, form)


def conference(client, agent_id, event, sid=LEG):
    return post(client, f"/twilio/agent/conference?agent={agent_id}",
                {"CallSid": sid, "StatusCallbackEvent": event, "FriendlyName": f"agent-{agent_id}"})


def test_a_browser_agent_joins_their_own_conference_and_the_line_comes_up(client, sessions, floor):
    _, ann, _ = floor
    r = join(client, ann)
    assert f">agent-{ann}</Conference>" in r.text and 'endConferenceOnExit="true"' in r.text
    assert f'statusCallback="{PUBLIC}/twilio/agent/conference?agent={ann}"' in r.text
    assert 'statusCallbackEvent="join leave"' in r.text
    assert (line(sessions, ann).status, line(sessions, ann).call_sid) == ("joining", LEG)
    conference(client, ann, "participant-join")
    assert line(sessions, ann).status == "up"


def test_join_is_refused_to_strangers_and_unsigned_requests(client, sessions, floor):
    assert "<Hangup" in post(client, "/twilio/agent/join", {"CallSid": LEG, "From": "+12125550111"}).text
    assert "<Hangup" in post(client, "/twilio/agent/join", {"CallSid": LEG, "From": "client:agent-999"}).text
    assert client.post("/twilio/agent/join", data={"CallSid": LEG, "From": "client:agent-1"}).status_code == 403
    assert line(sessions, floor[1]) is None


def test_a_customer_joining_the_agents_room_is_not_the_agents_line(client, sessions, floor):
    _, ann, _ = floor
    join(client, ann)
    conference(client, ann, "participant-join", sid=CUSTOMER)
    assert line(sessions, ann).status == "joining"
    conference(client, ann, "participant-join")
    conference(client, ann, "participant-leave", sid=CUSTOMER)  # the customer hangs up: the line stays
    assert line(sessions, ann).status == "up"


def test_going_ready_without_a_line_holds_the_agent_back_until_it_comes_up(client, sessions, session, floor,
                                                                            clock):
    cid, ann, _ = floor
    agent_svc.go_ready(session, ann, clock.now())
    session.commit()
    rt = TwilioRuntime(sessions, clock, load(env(PUBLIC)), campaign_ids={cid})
    rt.tend_lines(clock.now())
    assert state(sessions, ann) == ("paused", "line-down") and rt.lines.held == 1
    join(client, ann)
    conference(client, ann, "participant-join")
    assert state(sessions, ann) == ("ready", None)  # ready again the moment the line is up
    rt.tend_lines(clock.now())
    assert state(sessions, ann) == ("ready", None)


def test_a_line_that_drops_takes_its_agent_out_of_the_pool(client, sessions, session, floor, clock):
    cid, ann, bob = floor
    for agent in (ann, bob):
        join(client, agent, sid=f"CA{agent:032d}")
        conference(client, agent, "participant-join", sid=f"CA{agent:032d}")
        agent_svc.go_ready(session, agent, clock.now())
        session.commit()
    call = Call(campaign_id=cid, phone="+12125550111", caller_id="+12125550100", provider="twilio",
                provider_sid=CUSTOMER, status="answered", placed_at=clock.now(), answered_at=clock.now(),
                answered_by="human")
    session.add(call)
    session.commit()
    assert agent_svc.connect(session, call.id, ann, clock.now())
    session.commit()
    # ann's browser closes mid-call: she goes to wrap and the customer is hung up; bob's phone drops: paused
    conference(client, ann, "participant-leave", sid=f"CA{ann:032d}")
    post(client, f"/twilio/agent/status?agent={bob}", {"CallSid": f"CA{bob:032d}", "CallStatus": "completed"})
    assert state(sessions, ann) == ("wrap", None) and state(sessions, bob) == ("paused", "line-down")
    with sessions() as s:
        assert s.get(Call, call.id).hangup_requested_at is not None
    assert line(sessions, ann).status == line(sessions, bob).status == "down"
    # a stale leave (an old leg) changes nothing
    conference(client, bob, "participant-leave", sid=f"CA{bob:032d}")
    assert state(sessions, bob) == ("paused", "line-down")


def test_the_store_only_offers_agents_whose_line_is_up(client, sessions, session, floor, clock):
    cid, ann, bob = floor
    for agent in (ann, bob):
        agent_svc.go_ready(session, agent, clock.now())
        clock.advance(1)
    session.commit()
    store = TwilioStore(sessions, provider="twilio")
    join(client, bob, sid="CA" + "b" * 32)
    conference(client, bob, "participant-join", sid="CA" + "b" * 32)
    assert store.longest_idle_agent(cid) == bob  # ann waited longer, but her line is not up
    join(client, ann)
    conference(client, ann, "participant-join")
    assert store.longest_idle_agent(cid) == ann


def test_phone_agents_are_rung_when_ready_and_hung_up_when_they_log_out(sessions, session, floor, clock):
    from tests.dialer.carriers.twilio.support import fake_twilio

    cid, ann, _ = floor
    agent_lines.set_phone(session, "ann", "(646) 555-0123", clock.now())
    agent_svc.go_ready(session, ann, clock.now())
    session.commit()
    with fake_twilio() as fake:
        rt = TwilioRuntime(sessions, clock, load(env(PUBLIC, fake.api_base)), campaign_ids={cid})
        rt.tend_lines(clock.now())
        (leg,) = fake.calls.values()
        assert leg.to == "+16465550123" and leg.params["Url"] == f"{PUBLIC}/twilio/agent/join?agent={ann}"
        assert (line(sessions, ann).status, line(sessions, ann).call_sid) == ("dialing", leg.sid)
        assert state(sessions, ann) == ("paused", "line-down")  # held back until the phone is answered
        rt.tend_lines(clock.now())
        assert len(fake.calls) == 1  # rung once
        with sessions() as s:
            agent_lines.leg_started(s, ann, leg.sid, clock.now())
            agent_lines.leg_joined(s, ann, leg.sid, clock.now())
            s.commit()
        assert state(sessions, ann) == ("ready", None)
        with sessions() as s:
            agent_svc.go_offline(s, ann, clock.now())
            s.commit()
        rt.tend_lines(clock.now())
        assert rt.lines.released == 1 and line(sessions, ann).status == "down"
        assert fake.requests >= 2  # the hang-up went to "Twilio"


def test_agent_phone_is_validated(session, floor, clock):
    with pytest.raises(UserError, match="not a valid phone number"):
        agent_lines.set_phone(session, "ann", "12", clock.now())
    assert agent_lines.set_phone(session, "ann", None, clock.now()).phone is None


def test_cli_sets_where_an_agent_answers_and_lists_lines(dialer, sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        agent_svc.create_agent(s, "ann", clock.now(), campaign=s.get(Campaign, c.id))
        s.commit()
    r = dialer("twilio", "agent-phone", "ann", "+12125550177", "--json")
    assert r.code == 0 and '"phone": "+12125550177"' in r.out
    assert dialer("twilio", "agent-phone", "ann").code == 2
    r = dialer("twilio", "agent-phone", "nobody", "--browser")
    assert r.code == 2 and "no agent 'nobody'" in r.err
    r = dialer("twilio", "lines", "--json")
    assert '"agent": "ann"' in r.out and '"up": 0' in r.out


# --- finding 8 of issue 15: a replayed (validly signed) join changes nothing ---------------------------------------
def test_a_replayed_join_of_a_gone_browser_leg_leaves_the_agent_routable(client, sessions, session, floor, clock):
    cid, ann, _ = floor
    old, new = "CA" + "3" * 32, "CA" + "4" * 32
    join(client, ann, sid=old)
    conference(client, ann, "participant-join", sid=old)
    agent_svc.go_ready(session, ann, clock.now())
    session.commit()
    join(client, ann, sid=new)  # the browser reconnects: a new leg replaces the old one, which then leaves
    conference(client, ann, "participant-join", sid=new)
    conference(client, ann, "participant-leave", sid=old)
    store = TwilioStore(sessions, provider="twilio")
    assert (line(sessions, ann).status, line(sessions, ann).call_sid) == ("up", new)
    assert store.longest_idle_agent(cid) == ann
    r = join(client, ann, sid=old)  # someone replays the old leg's signed join
    assert (line(sessions, ann).status, line(sessions, ann).call_sid) == ("up", new)
    assert state(sessions, ann) == ("ready", None) and store.longest_idle_agent(cid) == ann
    assert "<Hangup" in r.text and "<Conference" not in r.text


def test_a_replayed_join_of_the_leg_already_up_changes_nothing(client, sessions, session, floor, clock):
    cid, ann, _ = floor
    join(client, ann)
    conference(client, ann, "participant-join")
    agent_svc.go_ready(session, ann, clock.now())
    session.commit()
    clock.advance(30)
    join(client, ann)  # the same request again: the leg is in its room already, no participant-join will follow
    assert line(sessions, ann).status == "up" and line(sessions, ann).since < clock.now()
    assert TwilioStore(sessions, provider="twilio").longest_idle_agent(cid) == ann


def test_a_replayed_join_of_an_ended_phone_leg_lets_the_worker_ring_again(client, sessions, session, floor, clock):
    cid, ann, _ = floor
    agent_lines.set_phone(session, "ann", "(646) 555-0123", clock.now())
    agent_svc.go_ready(session, ann, clock.now())
    agent_lines.dialing(session, ann, LEG, clock.now())  # the worker rang the phone
    session.commit()
    assert f">agent-{ann}</Conference>" in join(client, ann, browser=False).text  # answered: the leg it opened
    assert line(sessions, ann).status == "joining"
    conference(client, ann, "participant-join")
    post(client, f"/twilio/agent/status?agent={ann}", {"CallSid": LEG, "CallStatus": "completed"})  # hung up
    assert line(sessions, ann).status == "down"
    assert "<Hangup" in join(client, ann, browser=False).text  # the answered leg's join, replayed
    assert (line(sessions, ann).status, line(sessions, ann).call_sid) == ("down", None)
    with sessions() as s:  # so when ann goes ready again the worker rings her phone (it rings lines that are down)
        agent_svc.go_ready(s, ann, clock.now())
        assert [n.agent_id for n in agent_lines.to_nail_up(s, {cid})] == [ann]
