"""The seat check and the action it guards are one step: the dial loop cannot pop a customer onto the seat between
the check ("this click is for the seat as it is") and the action (log out, flag the call's caller ID).

The hook runs the dial loop's connect (``agents.connect``, in its own session and thread, as the worker does) right
after the check has read the seat, and gives it two seconds. Read without the action's lock, the pop slipped through
on PostgreSQL and the click acted on the new customer: Log out hung him up (or left him on an offline seat) and the
flag went to his caller ID. With the lock the pop waits for the click's commit, then finds the seat no longer ready
or takes it afterwards. (SQLite's write lock, taken by the request's first statement, closed it already there.)
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.callerid import service as callerid
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)
from tests.web.test_console_agent_stale import BOB, _form_fields
from web import seat_call

POOL_NUMBER = "+12125550177"  # one of the campaign's caller IDs: a flag counts towards retiring it
POSTS = {"Log out": "/agent/offline", "caller ID flag": "/agent/callerid/flag"}


def _bob_answers(sessions, clock, floor) -> int:  # noqa: F811
    """Bob's call, answered and waiting for an agent (the dial loop connects it next), showing a pool number."""
    t = clock.now()
    with sessions() as s:
        bob = Lead(campaign_id=floor["campaign"], list_id=floor["list"], phone=BOB, first_name="Bob", last_name="Ray",
                   state="IL", timezones="America/Chicago", status="dialing", created_at=t, updated_at=t)
        s.add(bob)
        s.flush()
        call = Call(campaign_id=floor["campaign"], lead_id=bob.id, list_id=floor["list"], phone=BOB, attempt=1,
                    placed_at=t - timedelta(seconds=15), answered_at=t, answered_by="human", status="answered",
                    caller_id=POOL_NUMBER)
        s.add(call)
        callerid.add_number(s, s.get(Campaign, floor["campaign"]), POOL_NUMBER, t)
        s.commit()
        return call.id


@pytest.mark.parametrize("button", list(POSTS))
def test_a_call_popping_between_the_check_and_the_action_cannot_slip_through(client, auth, floor, sessions,  # noqa: F811
                                                                              clock, monkeypatch, button):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ann_call = ring(sessions, clock, floor, seat)  # Ann's call shows no caller ID: nothing of hers to flag
    assert auth.post("/agent/disposition", {"code": "NI", "then": "ready"}, page="/agent/").status_code == 302
    path = POSTS[button]
    shown = _form_fields(client.get("/agent/").get_data(as_text=True), path) if button == "Log out" else \
        {"csrf_token": _form_fields(client.get("/agent/").get_data(as_text=True), "/agent/pause")["csrf_token"],
         "call": str(ann_call)}
    clock.advance(5)
    bob_call = _bob_answers(sessions, clock, floor)
    connected: list[bool] = []

    def pop() -> None:  # the worker's turn: the longest-idle ready agent gets Bob
        with sessions() as s:
            connected.append(agents.connect(s, bob_call, seat, clock.now()))
            s.commit()

    worker = threading.Thread(target=pop, daemon=True)
    checked = seat_call.seat_now

    def check_then_pop(*args, **kwargs):
        seen = checked(*args, **kwargs)
        worker.start()
        worker.join(timeout=2)  # the pop lands now, unless the check holds the seat until the click is done
        return seen

    monkeypatch.setattr(seat_call, "seat_now", check_then_pop)
    r = client.post(path, data=shown)
    worker.join(timeout=60)
    assert not worker.is_alive()
    with sessions() as s:
        a, bob = s.get(Agent, seat), s.get(Call, bob_call)
        assert bob.hangup_requested_at is None, (button, r.status_code)  # the click did not hang Bob up
        assert s.query(callerid.CallerIdFlag).count() == 0, button  # nor flag the number his call showed
        if connected == [True]:  # Bob popped after the click: the seat is talking to him
            assert (a.state, a.call_id, bob.agent_id) == ("talking", bob_call, seat), button
        else:  # the click came first: Bob was never put on the seat it logged out
            assert bob.connected_at is None and a.call_id is None, button
    if button == "Log out":
        assert connected == [False] and r.status_code == 302  # logged out first; the worker finds no ready seat
