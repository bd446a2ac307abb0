"""Every call button of the agent's seat answers for the call it was shown with, never for the next one: a double
click, the back button, a second tab or a slow network re-sends a click after the seat moved on to another customer
(the page reloads every ~2 s, so the next call pops between the click and its arrival). A click for an earlier
call is refused (409) with nothing done on the call now on the line or its lead; a click that names no call (a page
from before the upgrade) is refused too, asking to reload. The disposition form's own case:
``test_console_agent_stale.py``."""

from __future__ import annotations

import re

import pytest

from campaigns.agents import transfer as transfers
from campaigns.agents.models import Agent, CallAction
from campaigns.callerid import service as callerid
from campaigns.dispatch.models import Call
from dnc import internal
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)
from tests.web.test_console_agent_stale import BOB, _ring_bob

ACTIONS = {  # path, the fields the button sends besides the call, what Bob's call is doing when it arrives
    "hangup": ("/agent/hangup", {}, "talking"),
    "hold": ("/agent/call/hold", {}, "talking"),
    "resume": ("/agent/call/resume", {}, "held"),
    "cold transfer": ("/agent/call/transfer", {"number": "(212) 555-0199"}, "talking"),
    "consult a number": ("/agent/call/consult", {"number": "+12125550198"}, "talking"),
    "complete": ("/agent/call/complete", {}, "consult"),
    "cancel": ("/agent/call/cancel", {}, "consult"),
    "flag caller ID": ("/agent/callerid/flag", {}, "talking"),
}


def _token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def _snapshot(sessions, seat: int, call_id: int) -> tuple:
    """What a refused click must leave as it was: the seat, the call, its actions, its lead, the DNC list, flags."""
    with sessions() as s:
        a, c = s.get(Agent, seat), s.get(Call, call_id)
        actions = [(x.kind, x.to_number) for x in s.query(CallAction).filter_by(call_id=call_id)]
        return ((a.state, a.call_id), (c.agent_id, c.hangup_requested_at, c.ended_at, c.disposition_code),
                actions, s.query(callerid.CallerIdFlag).count())


def _bob_on_the_line(client, auth, floor, sessions, clock, bob_is: str):  # noqa: F811
    """Ann's call shown on the seat (the page the click comes from), then dispositioned, and Bob popped."""
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ann_call = ring(sessions, clock, floor, seat)
    token = _token(client.get("/agent/").get_data(as_text=True))
    assert auth.post("/agent/disposition", {"code": "NI", "then": "ready", "call": str(ann_call)},
                     page="/agent/").status_code == 302
    clock.advance(5)
    bob_call = _ring_bob(sessions, clock, floor, seat)
    with sessions() as s:
        s.get(Call, bob_call).caller_id = "+12125550100"  # the campaign's number: a flag would retire it
        if bob_is in ("held", "consult"):
            transfers.hold(s, seat, clock.now())
        if bob_is == "consult":
            transfers.resume(s, seat, clock.now())
            transfers.start_consult(s, seat, clock.now(), to_number="+12125550198")
        s.commit()
    return seat, ann_call, bob_call, token


@pytest.mark.parametrize("action", list(ACTIONS))
def test_a_call_button_sent_for_the_previous_call_is_refused(client, auth, floor, sessions, clock,  # noqa: F811
                                                             action):
    path, fields, bob_is = ACTIONS[action]
    seat, ann_call, bob_call, token = _bob_on_the_line(client, auth, floor, sessions, clock, bob_is)
    before = _snapshot(sessions, seat, bob_call)
    r = client.post(path, data={**fields, "csrf_token": token, "call": str(ann_call)})  # Ann's page, late
    assert _snapshot(sessions, seat, bob_call) == before, action
    assert r.status_code == 409, (action, r.status_code)
    body = r.get_data(as_text=True)
    assert "The call has changed" in body and "nothing was done" in body, action
    assert f'name="call" value="{bob_call}"' in body  # a fresh page, whose buttons name Bob's call
    with sessions() as s:
        assert internal.active(s, BOB, None, clock.now()) == []
    assert client.get("/agent/state").get_json()["call_id"] == bob_call


@pytest.mark.parametrize("action", [*ACTIONS, "disposition"])
def test_a_call_button_that_names_no_call_is_refused_asking_to_reload(client, auth, floor, sessions,  # noqa: F811
                                                                      clock, action):
    path, fields, bob_is = ACTIONS.get(action, ("/agent/disposition", {"code": "DNC", "then": "ready"}, "talking"))
    seat, _ann_call, bob_call, token = _bob_on_the_line(client, auth, floor, sessions, clock, bob_is)
    before = _snapshot(sessions, seat, bob_call)
    r = client.post(path, data={**fields, "csrf_token": token})  # a page from before the upgrade: no call named
    assert _snapshot(sessions, seat, bob_call) == before, action
    assert r.status_code == 409, (action, r.status_code)
    assert "reload" in r.get_data(as_text=True).lower(), action
    with sessions() as s:
        assert internal.active(s, BOB, None, clock.now()) == []


def test_every_call_button_on_the_seat_names_the_call_shown(client, auth, floor, sessions, clock):  # noqa: F811
    seat, _ann_call, bob_call, _token_ = _bob_on_the_line(client, auth, floor, sessions, clock, "talking")
    html = client.get("/agent/").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="(/agent/(?:hangup|call/[a-z]+|disposition|callerid/flag))"'
                       r'[^>]*>(.*?)</form>', html, re.S)
    posts = {a for a, _ in forms}
    assert {"/agent/hangup", "/agent/call/hold", "/agent/call/transfer", "/agent/call/consult",
            "/agent/disposition"} <= posts, posts
    for action, inner in forms:
        if action == "/agent/call/dial":
            continue  # manual dial starts a call, it acts on none
        assert f'name="call" value="{bob_call}"' in inner, action
