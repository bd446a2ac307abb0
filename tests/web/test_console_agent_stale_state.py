"""Ready, Pause and Log out answer for the seat they were shown with, as the call buttons do
(``test_console_agent_stale_actions.py``): a Log out clicked on a page from before the next call popped hung that
customer up (its own confirmation says so), a late Pause or Ready acted on a seat the agent no longer saw. A click
for a seat that has moved on is refused (409) with the seat as it is now and nothing done; the plain cases (Ready
when paused, Pause when idle, Log out when idle) still go through."""

from __future__ import annotations

import re

import pytest

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.dispatch.models import Call
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)
from tests.web.test_console_agent_stale import _form_fields, _ring_bob

BUTTONS = {"Log out": ("/agent/offline", {}), "Pause": ("/agent/pause", {"reason": "lunch"}),
           "Ready": ("/agent/ready", {})}


def _after_ann(client, auth, floor, sessions, clock, then: str) -> tuple[int, int]:  # noqa: F811
    """The seat on campaign Spring, Ann's call taken and dispositioned, then ready or paused."""
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ann_call = ring(sessions, clock, floor, seat)
    assert auth.post("/agent/disposition", {"code": "NI", "then": then, "pause_reason": "break"},
                     page="/agent/").status_code == 302
    return seat, ann_call


def _seat(sessions, seat: int, call_id: int) -> tuple:
    with sessions() as s:
        a, c = s.get(Agent, seat), s.get(Call, call_id)
        return a.state, a.state_reason, a.call_id, c.hangup_requested_at, c.ended_at


@pytest.mark.parametrize("button", list(BUTTONS))
def test_a_state_button_clicked_after_the_next_call_popped_is_refused(client, auth, floor, sessions, clock,  # noqa: F811
                                                                      button):
    path, fields = BUTTONS[button]
    seat, _ann = _after_ann(client, auth, floor, sessions, clock, "pause" if button == "Ready" else "ready")
    shown = _form_fields(client.get("/agent/").get_data(as_text=True), path)  # the button as the page showed it
    clock.advance(5)
    if button == "Ready":  # meanwhile the agent went ready in a second tab
        with sessions() as s:
            agents.go_ready(s, seat, clock.now())
            s.commit()
    bob_call = _ring_bob(sessions, clock, floor, seat)  # the predictive dialer pops the next customer at once
    before = _seat(sessions, seat, bob_call)
    r = client.post(path, data={**shown, **fields})  # the late click
    assert _seat(sessions, seat, bob_call) == before, button  # Bob is still on the line, the seat talking to him
    assert r.status_code == 409, (button, r.status_code)
    body = r.get_data(as_text=True)
    assert "Your seat has changed since this page was shown" in body and "nothing was done" in body
    assert f'name="call" value="{bob_call}"' in body  # the seat as it is now: Bob's call on it


@pytest.mark.parametrize("button", ["Log out", "Pause"])
def test_a_state_button_naming_no_seat_is_refused_asking_to_reload(client, auth, floor, sessions, clock,  # noqa: F811
                                                                   button):
    path, fields = BUTTONS[button]
    seat, _ann = _after_ann(client, auth, floor, sessions, clock, "ready")
    bob_call = _ring_bob(sessions, clock, floor, seat)
    token = _form_fields(client.get("/agent/").get_data(as_text=True), "/agent/disposition")["csrf_token"]
    before = _seat(sessions, seat, bob_call)
    r = client.post(path, data={**fields, "csrf_token": token})  # a page from before the upgrade
    assert _seat(sessions, seat, bob_call) == before
    assert r.status_code == 409 and "reload" in r.get_data(as_text=True).lower()


def test_the_state_buttons_name_the_seat_shown_and_the_plain_cases_go_through(client, auth, floor, sessions,  # noqa: F811
                                                                               clock):
    seat, ann_call = _after_ann(client, auth, floor, sessions, clock, "ready")
    html = client.get("/agent/").get_data(as_text=True)
    for path in ("/agent/pause", "/agent/offline"):  # idle: Pause and Log out
        assert _form_fields(html, path).get("seat") == f"ready:{ann_call}", path
    assert client.post("/agent/pause", data={**_form_fields(html, "/agent/pause"), "reason": "lunch"}
                       ).status_code == 302
    html = client.get("/agent/").get_data(as_text=True)
    assert _form_fields(html, "/agent/ready").get("seat") == f"paused:{ann_call}"
    assert client.post("/agent/ready", data=_form_fields(html, "/agent/ready")).status_code == 302
    assert client.get("/agent/state").get_json()["state"] == "ready"
    html = client.get("/agent/").get_data(as_text=True)
    assert client.post("/agent/offline", data=_form_fields(html, "/agent/offline")).status_code == 302
    with sessions() as s:
        assert s.get(Agent, seat).state == "offline"
    # talking: Log out names the call on the line, and hangs it up as its confirmation says
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    bob_call = _ring_bob(sessions, clock, floor, seat)
    html = client.get("/agent/").get_data(as_text=True)
    assert re.search(r"The call in progress is hung up", html)
    assert _form_fields(html, "/agent/offline").get("seat") == f"talking:{bob_call}"
    assert client.post("/agent/offline", data=_form_fields(html, "/agent/offline")).status_code == 302
    with sessions() as s:
        assert s.get(Call, bob_call).hangup_requested_at is not None and s.get(Agent, seat).state == "offline"
