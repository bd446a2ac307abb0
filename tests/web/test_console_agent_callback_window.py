"""An agent's callback at a time the customer may not be called is refused with the window's next opening offered,
as the manager's move of a callback is (``test_console_callbacks.py``): the disposition form saved it silently and
the callback rang at another time than the one the agent promised the customer."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.callbacks.models import Callback
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)
from tests.web.test_console_agent_stale import _form_fields

LATE = "2030-01-09T22:30"  # Wednesday 22:30 in Chicago, where Ann is: after the federal 21:00
OPENING = "2030-01-10T08:00"  # the next opening of her window, Thursday 08:00 Chicago time


def _in_wrap(client, auth, floor, sessions, clock) -> int:  # noqa: F811
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    assert auth.post("/agent/hangup", page="/agent/").status_code == 302
    return call_id


def test_a_callback_outside_the_customers_hours_is_refused_with_the_opening_offered(client, auth, floor,  # noqa: F811
                                                                                      sessions, clock):
    call_id = _in_wrap(client, auth, floor, sessions, clock)
    sent = _form_fields(client.get("/agent/").get_data(as_text=True), "/agent/disposition") | \
        {"code": "CALLBK", "callback_at": LATE, "notes": "call back about the 6 kW plan", "then": "ready"}
    r = client.post("/agent/disposition", data=sent)
    assert r.status_code == 200, r.status_code  # the form again with a choice to make, as the manager's offer
    html = r.get_data(as_text=True)
    assert ("2030-01-09 22:30 CST is outside the customer&#39;s calling hours; the earliest allowed time is "
            "2030-01-10 08:00 CST (the customer&#39;s time).") in html
    offer = _form_fields(html, "/agent/disposition")
    assert f'name="callback_offer" value="{OPENING}"' in html
    assert "Save with the callback at 2030-01-10 08:00 CST" in html
    assert "call back about the 6 kW plan" in html  # what the agent typed is still in the form
    with sessions() as s:
        assert s.get(Call, call_id).disposition_code is None and s.query(Callback).count() == 0  # nothing saved
    r = client.post("/agent/disposition", data=sent | {"csrf_token": offer["csrf_token"], "callback_offer": OPENING})
    assert r.status_code == 302, r.status_code  # the opening offered, taken with one click
    with sessions() as s:
        cb = s.query(Callback).one()
        assert cb.due_at == cb.requested_at == datetime(2030, 1, 10, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
        assert s.get(Lead, floor["lead"]).status == "callback"
        assert s.get(Call, call_id).notes == "call back about the 6 kW plan"


def test_a_callback_inside_the_customers_hours_is_saved_as_asked(client, auth, floor, sessions, clock):  # noqa: F811
    _in_wrap(client, auth, floor, sessions, clock)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2030-01-09T20:30", "then": "ready"},
                  page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        assert s.query(Callback).one().due_at == datetime(2030, 1, 10, 2, 30, tzinfo=UTC)  # 20:30 in Chicago


def test_a_callback_outside_the_campaigns_own_hours_is_refused_with_their_opening(client, auth, floor, sessions,  # noqa: F811
                                                                                  clock):
    """The campaign calls 09:00-17:00 at the called party: 18:00 is legal, but the dialer would ring the next
    morning, not when the agent promised."""
    from campaigns.campaign.models import Campaign

    with sessions() as s:
        s.get(Campaign, floor["campaign"]).calling_hours = "09:00-17:00"
        s.commit()
    call_id = _in_wrap(client, auth, floor, sessions, clock)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2030-01-09T18:00", "then": "ready"},
                  page="/agent/")
    assert "the earliest allowed time is 2030-01-10 09:00 CST" in r.get_data(as_text=True)
    assert 'name="callback_offer" value="2030-01-10T09:00"' in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, call_id).disposition_code is None and s.query(Callback).count() == 0
