"""The seat's call controls through the console (simulated carrier: the database side of each step): hold and
resume, cold transfer, warm transfer to an agent (consult, complete; the call becomes theirs), cancel, manual
dial refused in words; an agent moves and cancels their own callbacks (only their own); the pause select shows
the reason in force. The Twilio side of the same steps: ``tests/dialer/carriers/twilio/test_transfer.py``."""

from __future__ import annotations

import re
from datetime import timedelta

from campaigns.agents import service as agents
from campaigns.agents.models import Agent, CallAction
from campaigns.callbacks import service as cb
from campaigns.callbacks.models import Callback
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from tests.web import test_console_agent as seat_tests
from tests.web.test_console_agent import agent_id, ring

floor = seat_tests.floor  # the agent tests' fixture


def start(auth, floor):
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")


def kinds(sessions, call_id):
    with sessions() as s:
        return [a.kind for a in s.query(CallAction).filter_by(call_id=call_id).order_by(CallAction.id)]


def colleague(sessions, clock, floor, name="Zoe") -> int:
    with sessions() as s:
        zoe = agents.create_agent(s, name, clock.now(), campaign=s.get(Campaign, floor["campaign"]))
        agents.go_ready(s, zoe.id, clock.now())
        s.commit()
        return zoe.id


def test_hold_resume_and_a_cold_transfer_leave_one_call_to_disposition(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    start(auth, floor)
    call_id = ring(sessions, clock, floor, seat)
    page = client.get("/agent/").get_data(as_text=True)
    assert 'id="call-controls"' in page and ">Hold</button>" in page and "customer on the line" in page
    auth.post("/agent/call/hold", page="/agent/")
    page = client.get("/agent/").get_data(as_text=True)
    assert "The customer is on hold." in page and "customer on hold" in page and ">Resume</button>" in page
    auth.post("/agent/call/hold", page="/agent/")  # twice: refused in words
    assert "The customer is already on hold." in client.get("/agent/").get_data(as_text=True)
    auth.post("/agent/call/resume", page="/agent/")
    auth.post("/agent/call/transfer", {"number": "12"}, page="/agent/")
    assert "12 is not a phone number we can call" in client.get("/agent/").get_data(as_text=True)
    auth.post("/agent/call/transfer", {"number": "(212) 555-0199"}, page="/agent/")
    page = client.get("/agent/").get_data(as_text=True)
    assert "The customer was transferred to +12125550199. Disposition the call." in page
    with sessions() as s:
        a, call = s.get(Agent, seat), s.get(Call, call_id)
        assert (a.state, a.call_id, call.hangup_requested_at, call.agent_id) == ("wrap", None, None, seat)
    auth.post("/agent/disposition", {"code": "NI", "then": "ready"}, page="/agent/")
    with sessions() as s:
        assert s.get(Call, call_id).disposition_code == "NI" and s.query(Call).count() == 2  # + the old attempt
    assert kinds(sessions, call_id) == ["hold", "resume", "cold"]


def test_warm_transfer_to_an_agent_hands_the_call_over(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    zoe = colleague(sessions, clock, floor)
    start(auth, floor)
    call_id = ring(sessions, clock, floor, seat)
    page = client.get("/agent/").get_data(as_text=True)
    assert f'<option value="{zoe}">Zoe</option>' in page
    auth.post("/agent/call/consult", {"to_agent": str(zoe)}, page="/agent/")
    page = client.get("/agent/").get_data(as_text=True)
    assert "Consulting Zoe while the customer is on hold." in page and "Complete the transfer" in page
    with sessions() as s:
        z = s.get(Agent, zoe)
        assert (z.state, z.state_reason, z.call_id) == ("talking", "consult", call_id)
    auth.post("/agent/call/complete", page="/agent/")
    assert "the customer is with the other agent" in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        call, me, z = s.get(Call, call_id), s.get(Agent, seat), s.get(Agent, zoe)
        assert call.agent_id == zoe and (me.state, me.call_id) == ("ready", None)
        assert (z.state, z.call_id) == ("talking", call_id)
        agents.end_call(s, zoe, clock.now())
        agents.disposition(s, call_id, "SALE", clock.now(), agent_ref=zoe)
        s.get(Call, call_id).ended_at = clock.now()
        s.commit()
    assert kinds(sessions, call_id) == ["hold", "consult", "complete", "resume"]
    # the reports count the transferred call once, for the agent who finished it
    from campaigns.reports.catalog import run_report

    with sessions() as s:
        summary = run_report(s, "summary", "Spring", clock.now()).rows[0]
        per_agent = {r["agent"]: r for r in run_report(s, "agents", "Spring", clock.now()).rows}
        s.commit()
    assert (summary["contacts"], summary["closes"]) == (1, 1)
    assert per_agent["Zoe"]["contacts"] == 1 and per_agent["Zoe"]["closes"] == 1
    assert per_agent.get("agent-user", {}).get("contacts", 0) == 0


def test_a_cancelled_consult_frees_the_colleague_and_a_consulted_agent_cannot_hang_up(client, auth, floor, sessions,
                                                                                      clock):
    seat = agent_id(sessions)
    zoe = colleague(sessions, clock, floor)
    start(auth, floor)
    call_id = ring(sessions, clock, floor, seat)
    auth.post("/agent/call/consult", {"to_agent": str(zoe), "number": "+12125550199"}, page="/agent/")
    assert "Choose an agent, or type a supervisor&#39;s number (not both)." in client.get("/agent/").get_data(
        as_text=True)
    auth.post("/agent/call/consult", {"to_agent": str(zoe)}, page="/agent/")
    auth.post("/agent/call/cancel", page="/agent/")
    assert "Consult ended: the customer is back with you." in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        assert s.get(Agent, zoe).state == "ready" and s.get(Agent, seat).call_id == call_id
    # roles swapped: the signed-in agent is the one consulted on Zoe's call
    with sessions() as s:
        agents.end_call(s, seat, clock.now())
        agents.disposition(s, call_id, "NI", clock.now(), agent_ref=seat)
        agents.go_ready(s, seat, clock.now())
        s.commit()
    with sessions() as s:
        other = Call(campaign_id=floor["campaign"], phone="+13125550177", placed_at=clock.now(),
                     answered_at=clock.now(), answered_by="human", status="answered")
        s.add(other)
        s.flush()
        assert agents.connect(s, other.id, zoe, clock.now())
        s.commit()
        other_id = other.id
    from campaigns.agents import transfer

    with sessions() as s:
        transfer.start_consult(s, zoe, clock.now(), to_agent=seat)
        s.commit()
    page = client.get("/agent/").get_data(as_text=True)
    assert 'id="consulting"' in page and "Zoe asked you to consult on this call" in page
    assert ">Hang up</button>" not in page and 'id="disposition"' not in page
    assert client.get("/agent/state").get_json()["consulting"] is True
    auth.post("/agent/hangup", page="/agent/")
    with sessions() as s:
        assert s.get(Call, other_id).hangup_requested_at is None  # the colleague's customer stays on the line


def test_manual_dial_refusals_are_in_words(client, auth, floor, sessions, clock):
    start(auth, floor)
    page = client.get("/agent/").get_data(as_text=True)
    assert 'id="manual-dial"' in page
    auth.post("/agent/call/dial", {"number": "555"}, page="/agent/")
    assert "555 is not a phone number we can call" in client.get("/agent/").get_data(as_text=True)
    auth.post("/agent/call/dial", {"number": "(212) 555-0142"}, page="/agent/")
    page = client.get("/agent/").get_data(as_text=True)
    flash = re.search(r"Not dialed: ([^<]+)", page)
    assert flash and "_" not in flash.group(1)  # sentences, not reason codes
    with sessions() as s:
        lead = s.query(Lead).filter_by(phone="+12125550142").one()
        assert lead.status == "suppressed"  # added for this dial and refused: never dialed later by itself
        assert s.query(Call).filter_by(phone="+12125550142").count() == 0


def test_an_agent_moves_and_cancels_only_their_own_callbacks(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    t = clock.now()
    with sessions() as s:
        lead = s.get(Lead, floor["lead"])
        lead.status = "retry"
        mine = cb.schedule(s, lead, t + timedelta(days=1), t, agent_id=seat, note="after lunch").id
        other_lead = Lead(campaign_id=floor["campaign"], list_id=floor["list"], phone="+13125550124",
                          timezones="America/Chicago", status="retry", created_at=t, updated_at=t)
        s.add(other_lead)
        s.flush()
        zoe = agents.create_agent(s, "Zoe", t)
        theirs = cb.schedule(s, other_lead, t + timedelta(days=1), t, agent_id=zoe.id).id
        s.commit()
    auth.login("agent")
    page = client.get("/agent/callbacks").get_data(as_text=True)
    assert f'id="change-{mine}"' in page and f'id="change-{theirs}"' not in page
    assert auth.post(f"/agent/callbacks/{theirs}/cancel", {"reason": "x"}, page="/agent/callbacks").status_code == 404
    r = auth.post(f"/agent/callbacks/{mine}/move", {"at": "2030-01-09T23:30"}, page="/agent/callbacks")
    assert "outside the customer&#39;s calling hours" in client.get(r.location).get_data(as_text=True)
    auth.post(f"/agent/callbacks/{mine}/move", {"at": "2030-01-09T15:30"}, page="/agent/callbacks")
    assert "Callback moved to 2030-01-09 21:30 UTC (Wed 15:30 CST at the lead)" in \
        client.get("/agent/callbacks").get_data(as_text=True)
    with sessions() as s:
        moved = s.query(Callback).filter_by(lead_id=floor["lead"], status="pending").one()
    auth.post(f"/agent/callbacks/{moved.id}/cancel", {"reason": "bought elsewhere"}, page="/agent/callbacks")
    assert "Callback cancelled: bought elsewhere." in client.get("/agent/callbacks").get_data(as_text=True)
    with sessions() as s:
        assert s.get(Callback, moved.id).status == "cancelled" and s.get(Callback, theirs).status == "pending"


def test_the_pause_select_shows_the_reason_in_force(client, auth, floor):
    start(auth, floor)
    auth.post("/agent/pause", {"reason": "lunch"}, page="/agent/")
    page = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'<option selected value="lunch">|<option value="lunch" selected>', page)
