"""The agent's seat: log in to a campaign, pause with a reason, a connected call pops the lead with its custom
fields, history and script, hang up, disposition (close, callback in the lead's time, DNC), own callbacks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.accounts.models import User
from campaigns.agents import service as agents
from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.scripts import set_script
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dnc import internal


@pytest.fixture
def floor(sessions, clock):
    return spring(sessions, clock)


def spring(sessions, clock) -> dict:
    """Campaign "Spring" (active) with a script and a lead called once before; returns ids."""
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        set_status(s, c, "active", t)
        set_script(s, c.id, "Hi {first_name}, this is {agent} for {seller}. Still at {Company}?", "mia", t)
        lst = LeadList(campaign_id=c.id, name="March", sha256="a" * 64, uploaded_at=t - timedelta(days=1))
        s.add(lst)
        s.flush()
        lead = Lead(campaign_id=c.id, list_id=lst.id, phone="+13125550123", first_name="Ann", last_name="Lee",
                    state="IL", postal_code="60601", timezones="America/Chicago", attempts=1,
                    custom={"Company": "Initech", "Notes": "met at the expo"}, status="dialing",
                    created_at=t, updated_at=t)
        s.add(lead)
        s.flush()
        s.add(Call(campaign_id=c.id, lead_id=lead.id, list_id=lst.id, phone=lead.phone, attempt=1,
                   placed_at=t - timedelta(days=1), ended_at=t - timedelta(days=1), outcome="no_answer",
                   status="completed"))
        s.commit()
        return {"campaign": c.id, "lead": lead.id, "list": lst.id}


def agent_id(sessions) -> int:
    with sessions() as s:
        return s.query(User).filter_by(username="agent-user").one().agent_id


def ring(sessions, clock, floor, seat: int) -> int:
    """What the dial loop does when a lead answers: a call, connected to the ready agent (``agents.connect``)."""
    t = clock.now()
    with sessions() as s:
        call = Call(campaign_id=floor["campaign"], lead_id=floor["lead"], list_id=floor["list"], phone="+13125550123",
                    attempt=2, placed_at=t - timedelta(seconds=20), answered_at=t, answered_by="human",
                    status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
        return call.id


def test_agent_logs_in_pauses_and_goes_ready(client, auth, floor, sessions, clock):
    auth.login("agent")
    page = client.get("/agent/").get_data(as_text=True)
    assert "Log in and go ready" in page and ">Spring</option>" in page
    r = auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    assert r.status_code == 302
    assert client.get("/agent/state").get_json()["state"] == "ready"
    assert "Waiting for the next call" in client.get("/agent/").get_data(as_text=True)
    auth.post("/agent/pause", {"reason": "lunch"}, page="/agent/")
    st = client.get("/agent/state").get_json()
    assert (st["state"], st["reason"]) == ("paused", "lunch")
    clock.advance(90)
    assert client.get("/agent/state").get_json()["seconds"] == 90
    auth.post("/agent/ready", page="/agent/")
    auth.post("/agent/offline", page="/agent/")
    with sessions() as s:
        states = [e.state for e in s.query(AgentStateEvent).order_by(AgentStateEvent.id)]
    assert states == ["ready", "paused", "ready", "offline"]


def test_a_connected_call_pops_the_lead_then_a_close_is_recorded(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    st = client.get("/agent/state").get_json()
    assert (st["state"], st["call_id"]) == ("talking", call_id)
    html = client.get("/agent/").get_data(as_text=True)
    assert 'id="lead-name">Ann Lee' in html and "+13125550123" in html
    assert "met at the expo" in html and "Initech" in html  # custom fields
    assert "Hi Ann, this is agent-user for Spring. Still at Initech?" in html  # the script, filled in
    assert "<td>no answer</td>" in html  # history: the earlier attempt, in words
    assert "Sale / close</label>" in html and "Do not call</label>" in html
    clock.advance(95)
    r = auth.post("/agent/disposition", {"code": "SALE", "notes": "annual plan", "then": "ready"}, page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        call, lead = s.get(Call, call_id), s.get(Lead, floor["lead"])
        assert (call.disposition_code, call.notes, lead.status) == ("SALE", "annual plan", "closed")
        assert call.hangup_requested_at is not None  # saving while talking ended the call first
        assert s.get(Agent, seat).state == "ready"


def test_hang_up_then_wrap_and_a_callback_in_the_leads_time(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    assert auth.post("/agent/hangup", page="/agent/").status_code == 302
    html = client.get("/agent/").get_data(as_text=True)
    assert 'id="wrap-timer"' in html and "America/Chicago" in html
    r = auth.post("/agent/disposition", {"code": "CALLBK", "then": "pause", "pause_reason": "break"}, page="/agent/")
    assert r.status_code == 400
    assert 'id="callback_at-error">A callback needs the date and time agreed with the customer.' in \
        r.get_data(as_text=True)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2030-01-09T17:30", "then": "pause",
                                         "pause_reason": "break"}, page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        lead = s.get(Lead, floor["lead"])
        assert lead.status == "callback"
        assert lead.callback_at == datetime(2030, 1, 9, 23, 30, tzinfo=UTC)  # 17:30 in Chicago
        assert (s.get(Agent, seat).state, s.get(Agent, seat).state_reason) == ("paused", "break")
    page = client.get("/agent/callbacks").get_data(as_text=True)
    assert "2030-01-09 23:30 UTC" in page and "Wed 17:30 CST at the lead" in page  # the console's zone, the lead's
    assert "waiting" in page and "Ann Lee" in page
    assert call_id


def test_dnc_disposition_puts_the_number_on_the_internal_list(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ring(sessions, clock, floor, seat)
    r = auth.post("/agent/disposition", {"code": "DNC", "then": "ready"}, page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        entries = internal.active(s, "+13125550123", None, clock.now())
        assert entries and entries[0].channel == "agent"
        assert s.get(Lead, floor["lead"]).status == "dnc"


def test_disposition_form_errors_sit_next_to_the_field(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ring(sessions, clock, floor, seat)
    r = auth.post("/agent/disposition", {"then": "ready"}, page="/agent/")
    assert r.status_code == 400 and 'id="code-error">Choose a disposition.' in r.get_data(as_text=True)
    r = auth.post("/agent/disposition", {"code": "NOPE", "then": "ready"}, page="/agent/")
    assert "Choose one of the dispositions shown." in r.get_data(as_text=True)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2020-01-01T10:00", "then": "ready"},
                  page="/agent/")
    assert r.status_code == 400 and "is not in the future" in r.get_data(as_text=True)


def test_a_user_without_a_seat_is_told(client, auth, sessions):
    with sessions() as s:
        s.query(User).filter_by(username="agent-user").one().agent_id = None
        s.commit()
    auth.login("agent")
    r = client.get("/agent/")
    assert r.status_code == 403 and "no agent seat" in r.get_data(as_text=True)


def test_with_twilio_the_seat_loads_the_browser_phone_and_gets_a_token(app_config, seed_users, floor, sessions):
    """With Twilio configured the page loads the vendored Voice SDK; /twilio/token gives this agent's identity."""
    import jwt

    from tests.dialer.carriers.twilio.support import env
    from tests.web.conftest import AuthActions
    from web import create_app

    app = create_app({**app_config, "TWILIO_ENVIRON": env("https://dialer.example.com")})
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    html = client.get("/agent/").get_data(as_text=True)
    assert "/static/vendor/twilio/twilio.min.js" in html and "/static/twilio/agent-phone.js" in html
    assert 'data-phone="1"' in html
    token = client.get("/twilio/token").get_json()
    seat = agent_id(sessions)
    assert token["identity"] == f"agent-{seat}"
    claims = jwt.decode(token["token"], options={"verify_signature": False})
    assert claims["grants"]["identity"] == f"agent-{seat}"
    assert client.get("/static/vendor/twilio/twilio.min.js").status_code == 200
    auth.logout()
    auth.login("manager")
    assert client.get("/twilio/token", headers={"Accept": "application/json"}).status_code == 403


def test_without_twilio_the_seat_has_no_phone(client, auth, floor):
    auth.login("agent")
    html = client.get("/agent/").get_data(as_text=True)
    assert "twilio.min.js" not in html and 'data-phone=""' in html
