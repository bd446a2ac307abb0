"""Callbacks through the real dial loop: a stream delivered in order, the same stream reordered and duplicated, and
a whole stream replayed after the call ended, all end in the same stored state (call, lead, agent). And a forged or
unsigned callback through ``web.create_app`` gets 403 and changes nothing."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import func, select, text
from twilio.request_validator import RequestValidator

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.pump import CallbackPump
from dialer.carriers.twilio.runtime import TwilioStore
from dialer.loop import DialLoop
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, AUTH_TOKEN, CALLER_ID, env, make_app

PUBLIC = "https://dialer.example.com"
SIDS = ["CA" + c * 32 for c in "abcd"]


class Place:
    """A pacer that places what it is told, once."""

    def __init__(self) -> None:
        self.n = 0

    def observe(self, ev) -> None:
        pass

    def plan(self, t: float) -> int:
        n, self.n = self.n, 0
        return n


class Network:
    """The carrier side the loop drives (what it asked for is kept); calls get the SIDs given."""

    name = "twilio"

    def __init__(self, sids) -> None:
        self.sids, self.actions = iter(sids), []

    def place(self, request) -> str:
        return next(self.sids)

    def connect(self, ref, agent_id) -> None:
        self.actions.append(("connect", ref))

    def abandon(self, ref) -> None:
        self.actions.append(("abandon", ref))

    def hangup(self, ref) -> None:
        self.actions.append(("hangup", ref))


@pytest.fixture
def floor(sessions, session, clock):
    c = create_campaign(session, "Spring", CALLER_ID, clock.now())
    c.status, c.pacing_mode = "active", "power"
    lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=clock.now())
    session.add(lst)
    session.flush()
    for i in range(4):
        session.add(Lead(campaign_id=c.id, list_id=lst.id, phone=f"+121255501{i:02d}", priority=10 - i, custom={},
                         created_at=clock.now(), updated_at=clock.now()))
        a = agent_svc.create_agent(session, f"agent-{i}", clock.now(), campaign=c)
        agent_lines.leg_started(session, a.id, f"CA{a.id:032d}", clock.now())
        agent_lines.leg_joined(session, a.id, f"CA{a.id:032d}", clock.now())
        agent_svc.go_ready(session, a.id, clock.now())
        clock.advance(1)
    session.commit()
    pacer = Place()
    net = Network(SIDS)
    loop = DialLoop(TwilioStore(sessions, provider="twilio"), net, pacer_factory=lambda c: pacer)
    pacer.n = 4
    loop.tick(clock.now())
    return loop, net, c.id


@pytest.fixture
def client(sessions, clock):
    return make_app(sessions, clock, load(env(PUBLIC)), lambda *a, **k: None).test_client()


def stream(sid, clock, *, verdict: str) -> list[tuple[str, dict]]:
    """A call's callbacks as Twilio sends them: answered 5 s after the dial, over 40 s later."""
    t0 = clock.now()

    def status(name, seq, dt, **more):
        return ("status", {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": name, "SequenceNumber": str(seq),
                           "Timestamp": format_datetime(t0 + timedelta(seconds=dt), usegmt=True)} | more)

    return [status("initiated", 0, 0), status("ringing", 1, 1), status("in-progress", 2, 5),
            ("amd", {"CallSid": sid, "AccountSid": ACCOUNT_SID, "AnsweredBy": verdict}),
            status("completed", 3, 45, CallDuration="40")]


def deliver(client, items) -> None:
    for route, form in items:
        path = f"/twilio/{route}"
        sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, form)
        assert client.post(path, data=form, headers={"X-Twilio-Signature": sig}).status_code == 204


def outcome(sessions, sid) -> dict:
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.provider_sid == sid))
        lead = s.get(Lead, call.lead_id)
        agent = s.get(Agent, call.agent_id) if call.agent_id else None
        return {"ended": call.ended_at is not None, "outcome": call.outcome, "answered_by": call.answered_by,
                "lead": (lead.status, lead.attempts,
                         lead.next_attempt_at - call.ended_at if lead.next_attempt_at else None),
                "agent": agent.state if agent is not None and call.connected_at is not None else None}


def run(pump, client, loop, clock, items) -> None:
    for item in items:
        deliver(client, [item])
        clock.advance(0.1)
        pump.run_once(clock.now())
        loop.tick(clock.now())
    clock.advance(3)  # past the reorder wait: nothing is left waiting
    pump.run_once(clock.now())
    loop.tick(clock.now())


def test_reordered_duplicated_and_replayed_streams_end_in_the_same_state(floor, client, sessions, clock):
    loop, net, _ = floor
    pump = CallbackPump(sessions, loop.handle)
    human_a, human_b = stream(SIDS[0], clock, verdict="human"), stream(SIDS[1], clock, verdict="human")
    machine_c, machine_d = (stream(SIDS[2], clock, verdict="machine_start"),
                            stream(SIDS[3], clock, verdict="machine_end_beep"))

    run(pump, client, loop, clock, human_a)
    run(pump, client, loop, clock, machine_c)
    scrambled = [4, 1, 3, 0, 2]
    run(pump, client, loop, clock, [human_b[i] for i in scrambled] + human_b[::-1] + human_b)
    run(pump, client, loop, clock, [machine_d[i] for i in scrambled] + machine_d)

    a, b = outcome(sessions, SIDS[0]), outcome(sessions, SIDS[1])
    assert a == {"ended": True, "outcome": "completed", "answered_by": "human",
                 "lead": ("dialing", 1, None), "agent": "wrap"}  # the agent's disposition decides the lead
    # b's end (40 s after its answer) came before its answer: an ended call is never connected, and a person
    # nobody was joined to for 40 s was abandoned, whenever the news arrived
    assert b["ended"] and b["outcome"] == "abandoned" and b["answered_by"] == "human" and b["agent"] is None
    assert ("connect", SIDS[1]) not in net.actions
    c, d = outcome(sessions, SIDS[2]), outcome(sessions, SIDS[3])
    assert c["outcome"] == d["outcome"] == "machine" and c["answered_by"] == d["answered_by"] == "machine"
    assert c["lead"] == d["lead"] == ("retry", 1, timedelta(hours=6))
    assert c["agent"] in (None, "ready") and d["agent"] in (None, "ready")  # freed without wrap
    assert ("hangup", SIDS[2]) in net.actions and ("hangup", SIDS[3]) in net.actions

    # the whole stream of a finished call, replayed: nothing changes anywhere
    before = [outcome(sessions, sid) for sid in SIDS]
    with sessions() as s:
        states = sorted(s.execute(select(Agent.id, Agent.state)).all())
    run(pump, client, loop, clock, human_a + machine_c)
    assert [outcome(sessions, sid) for sid in SIDS] == before
    with sessions() as s:
        assert sorted(s.execute(select(Agent.id, Agent.state)).all()) == states


@pytest.mark.parametrize("signature", [None, "forged", "other-url"])
def test_forged_or_unsigned_callbacks_through_the_console_app_get_403_and_change_nothing(sessions, clock, tmp_path,
                                                                                        floor, signature):
    from web import create_app

    loop, _, cid = floor
    app = create_app({"TESTING": True, "SESSIONS": sessions, "CLOCK": clock, "SECRET_KEY": "t" * 40,
                      "VAR_DIR": tmp_path / "var", "DNC_DIR": tmp_path / "dnc", "SESSION_COOKIE_SECURE": False,
                      "TWILIO_ENVIRON": env(PUBLIC)})
    web = app.test_client()
    forms = [("status", {"CallSid": SIDS[0], "CallStatus": "completed", "CallDuration": "40"}),
             ("amd", {"CallSid": SIDS[0], "AnsweredBy": "machine_start"}),
             ("optout", {"CallSid": SIDS[0], "Digits": "9"}),
             ("safe-harbor", {"CallSid": SIDS[0]})]
    for route, form in forms:
        headers = {}
        if signature == "forged":
            headers["X-Twilio-Signature"] = RequestValidator("not-the-token").compute_signature(
                f"{PUBLIC}/twilio/{route}", form)
        elif signature == "other-url":
            headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
                f"{PUBLIC}/twilio/answer", form)
        assert web.post(f"/twilio/{route}", data=form, headers=headers).status_code == 403
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(inbox.CarrierCallback)) == 0
        call = s.scalar(select(Call).where(Call.provider_sid == SIDS[0]))
        assert call.outcome is None and call.ended_at is None
        assert s.scalar(select(func.count()).select_from(Lead).where(Lead.status == "dnc")) == 0
        assert s.get(Campaign, cid).status == "active"
    # and the same request properly signed is accepted (behind a TLS proxy: the public https URL is what counts)
    form = forms[0][1]
    sig = RequestValidator(AUTH_TOKEN).compute_signature(f"{PUBLIC}/twilio/status", form)
    assert web.post("/twilio/status", data=form, headers={"X-Twilio-Signature": sig, "X-Forwarded-Proto": "https"},
                    base_url="http://10.0.0.5:8000").status_code == 204


def _signed(client, path: str, form: dict, query: str = "") -> str:
    """POST a request as Twilio signs it (its URL, query included, and every field); the body answered."""
    sig = RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path + query, form)
    r = client.post(path + query, data=form, headers={"X-Twilio-Signature": sig})
    assert r.status_code in (200, 204), (path, r.status_code)
    return r.get_data(as_text=True)


def _the_call_and_around_it(sessions, sid: str) -> dict:
    """Every stored row about one call: the call, its lead, its agent with the agent's line, legs, state changes
    and actions, its callbacks in the inbox, the internal DNC entries and ledger records of its number."""
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.provider_sid == sid))
        rows = {}
        for name, where, args in (
                ("calls", "provider_sid = :sid", {"sid": sid}), ("leads", "id = :lead", {"lead": call.lead_id}),
                ("agents", "id = :agent", {"agent": call.agent_id}),
                ("agent_lines", "agent_id = :agent", {"agent": call.agent_id}),
                ("agent_legs", "agent_id = :agent", {"agent": call.agent_id}),
                ("agent_state_events", "agent_id = :agent", {"agent": call.agent_id}),
                ("call_actions", "call_id = :call", {"call": call.id}),
                ("carrier_callbacks", "call_sid = :sid", {"sid": sid}),
                ("callbacks", "lead_id = :lead", {"lead": call.lead_id}),
                ("dnc_internal", "e164 = :phone", {"phone": call.phone}),
                ("dnc_ledger", "e164 = :phone", {"phone": call.phone})):
            rows[name] = [tuple(r) for r in s.execute(text(f"SELECT * FROM {name} WHERE {where} ORDER BY 1"), args)]
        return rows


def test_replayed_signed_callbacks_and_voice_requests_change_nothing(floor, client, sessions, clock):
    """Twilio's signature carries no time, so a captured request can be sent again at any later moment. The status
    callbacks and the AMD verdict land in the inbox once (call SID + event); the voice requests (the customer's
    answer URL, the agent's join) and the conference's word that the customer joined are answered again without
    acting again: no second bridge, the disposition and the DNC request it made stay single."""
    loop, net, _ = floor
    pump = CallbackPump(sessions, loop.handle)
    sid = SIDS[0]
    answered, *_, completed = [item for item in stream(sid, clock, verdict="human") if item[0] == "status"]
    amd = ("amd", {"CallSid": sid, "AccountSid": ACCOUNT_SID, "AnsweredBy": "human"})
    run(pump, client, loop, clock, [answered, amd])
    assert net.actions.count(("connect", sid)) == 1
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.provider_sid == sid))
        agent_id, leg, phone = call.agent_id, f"CA{call.agent_id:032d}", call.phone
    voice = [("/twilio/answer", {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress",
                                 "From": CALLER_ID, "To": phone}, ""),
             ("/twilio/agent/conference", {"CallSid": sid, "AccountSid": ACCOUNT_SID, "ConferenceSid": "CF" + "1" * 32,
                                           "StatusCallbackEvent": "participant-join"}, f"?agent={agent_id}"),
             ("/twilio/agent/join", {"CallSid": leg, "AccountSid": ACCOUNT_SID, "From": f"client:agent-{agent_id}"},
              "")]
    first = [_signed(client, *request) for request in voice]
    with sessions() as s:
        assert s.scalar(select(Call.status).where(Call.provider_sid == sid)) == "connected"  # bridged, once

    before, actions = _the_call_and_around_it(sessions, sid), list(net.actions)
    run(pump, client, loop, clock, [answered, amd])
    assert [_signed(client, *request) for request in voice] == first  # the same answers, nothing done again
    assert _the_call_and_around_it(sessions, sid) == before and net.actions == actions

    run(pump, client, loop, clock, [completed])
    with sessions() as s:
        call_id = s.scalar(select(Call.id).where(Call.provider_sid == sid))
        agent_svc.disposition(s, call_id, "DNC", clock.now(), agent_ref=agent_id)
        s.commit()
    ended = _the_call_and_around_it(sessions, sid)
    assert ended["dnc_internal"] and ended["leads"][0] != before["leads"][0]  # the disposition did its work
    run(pump, client, loop, clock, [answered, amd, completed])
    for request in voice:
        _signed(client, *request)
    run(pump, client, loop, clock, [])
    assert _the_call_and_around_it(sessions, sid) == ended and net.actions == actions


def test_a_replayed_leave_of_the_agents_own_leg_after_a_consult_changes_nothing(floor, client, sessions, clock):
    """The agent's leg leaves its own room for a consult (the line is ``away``, so that leave is not a dropped line)
    and comes back (joined, up). The conference events are not in the inbox; sent again, that signed leave found the
    same leg up at home and took the line down: the talking agent went to wrap and the customer was left alone."""
    loop, net, _ = floor
    pump = CallbackPump(sessions, loop.handle)
    sid = SIDS[0]
    answered = next(item for item in stream(sid, clock, verdict="human") if item[1]["CallStatus"] == "in-progress")
    run(pump, client, loop, clock, [answered, ("amd", {"CallSid": sid, "AccountSid": ACCOUNT_SID,
                                                       "AnsweredBy": "human"})])
    with sessions() as s:
        agent_id = s.scalar(select(Call.agent_id).where(Call.provider_sid == sid))
        leg = agent_lines.away(s, agent_id, clock.now())  # the consult fetches the agent's leg to a colleague
        s.commit()
    room, query = "CF" + "a" * 32, f"?agent={agent_id}"
    leave = {"CallSid": leg, "AccountSid": ACCOUNT_SID, "ConferenceSid": room, "FriendlyName": f"agent-{agent_id}",
             "StatusCallbackEvent": "participant-leave", "SequenceNumber": "3"}
    _signed(client, "/twilio/agent/conference", leave, query)
    _signed(client, "/twilio/agent/join", {"CallSid": leg, "AccountSid": ACCOUNT_SID,
                                           "From": f"client:agent-{agent_id}"})  # home again
    _signed(client, "/twilio/agent/conference", leave | {"StatusCallbackEvent": "participant-join",
                                                         "SequenceNumber": "4"}, query)
    home = _the_call_and_around_it(sessions, sid)
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up"
    _signed(client, "/twilio/agent/conference", leave, query)  # the leave, sent again
    assert _the_call_and_around_it(sessions, sid) == home
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up" and s.get(Agent, agent_id).state == "talking"
