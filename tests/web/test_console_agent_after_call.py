"""The seat's "Then" during a call tells the dialer at once (``/agent/after-call``): the seat is counted out by the
pacer, the disposition form keeps the choice, and saving it sends the seat there (paused with its reason, or logged
out); a choice for a call the page no longer shows is refused."""

from __future__ import annotations

import pytest

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.floor.view import floor as live_floor
from tests.web.test_console_agent import agent_id, ring, spring

JSON = {"Accept": "application/json"}


@pytest.fixture
def floor(sessions, clock):
    return spring(sessions, clock)


def _seat(sessions, seat: int) -> tuple:
    with sessions() as s:
        a = s.get(Agent, seat)
        return a.state, a.state_reason, a.after_call, a.after_call_reason


def test_then_chosen_during_the_call_is_kept_and_done_after_the_disposition(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    html = client.get("/agent/").get_data(as_text=True)
    assert '<option value="offline">Log out</option>' in html and 'id="after-call-tell"' in html
    r = auth.post("/agent/after-call", {"then": "pause", "pause_reason": "lunch"}, page="/agent/", headers=JSON)
    assert r.status_code == 200
    assert r.get_json()["message"] == ("After this call you pause (lunch): the dialer no longer counts on you for "
                                       "the next call.")
    assert _seat(sessions, seat) == ("talking", None, "paused", "lunch")
    with sessions() as s:  # the manager's live floor shows it beside the seat's state
        f = live_floor(s, s.get(Campaign, floor["campaign"]), clock.now())
        assert [(a.state, a.after_call) for a in f.agents if a.id == seat] == [("talking", "pause (lunch)")]
    html = client.get("/agent/").get_data(as_text=True)
    assert '<option selected value="pause">Pause</option>' in html  # the form shows what was said
    assert '<option selected value="lunch">' in html and "After this call you pause (lunch)" in html
    r = auth.post("/agent/after-call", {"then": "ready"}, page="/agent/")  # no script: a plain form post
    assert r.status_code == 302 and _seat(sessions, seat) == ("talking", None, None, None)
    auth.post("/agent/after-call", {"then": "offline"}, page="/agent/", headers=JSON)
    assert _seat(sessions, seat)[2] == "offline"
    clock.advance(60)
    r = auth.post("/agent/disposition", {"code": "SALE", "then": "offline"}, page="/agent/")
    assert r.status_code == 302
    assert _seat(sessions, seat) == ("offline", None, None, None)
    assert "You are logged out of the campaign." in client.get("/agent/").get_data(as_text=True)
    assert call_id


def test_a_choice_for_a_call_no_longer_shown_or_unknown_is_refused(client, auth, floor, sessions, clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    r = auth.post("/agent/after-call", {"then": "pause", "call": str(call_id + 99)}, page="/agent/", headers=JSON)
    assert r.status_code == 409 and _seat(sessions, seat)[2] is None
    r = auth.post("/agent/after-call", {"then": "sleep"}, page="/agent/", headers=JSON)
    assert r.status_code == 400 and r.get_json()["error"] == "Choose ready, pause or log out for after this call."
    r = auth.post("/agent/after-call", {"then": "pause", "pause_reason": "a b"}, page="/agent/", headers=JSON)
    assert r.status_code == 400 and "must be 1-64 letters" in r.get_json()["error"]
    assert _seat(sessions, seat) == ("talking", None, None, None)
