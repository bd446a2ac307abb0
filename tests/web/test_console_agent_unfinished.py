"""A call the seat was moved on from before its disposition was saved (the wrap-up limit) is finished from the seat:
its own form, the same checks as the seat's form (a disposition chosen, a callback's time inside the customer's
window), the seat's state untouched; another agent's call, a call already dispositioned and a lead returned to the
queue are refused in words, nothing recorded."""

from __future__ import annotations

from campaigns.agents import service as agents
from campaigns.agents.wrap import end_overdue_wraps
from campaigns.campaign import dialing
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.dispatch.recycle import recycle
from campaigns.leads.models import Lead
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the fixture)

GONE = "That call has its disposition already, or its lead has moved on"


def _moved_on(client, auth, floor, sessions, clock) -> tuple[int, int]:  # noqa: F811
    """The agent takes a call, hangs up, and the 30 s wrap-up limit runs out: the seat is ready again."""
    seat = agent_id(sessions)
    with sessions() as s:
        dialing.apply(s, s.get(Campaign, floor["campaign"]), {"wrap_limit": "30"}, "mia", clock.now())
        s.commit()
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call = ring(sessions, clock, floor, seat)
    auth.post("/agent/hangup", page="/agent/")
    clock.advance(31)
    with sessions() as s:
        assert end_overdue_wraps(s, clock.now()) == 1
        s.commit()
    return seat, call


def test_the_call_is_finished_with_the_seats_checks_and_the_seat_untouched(client, auth, floor, sessions,  # noqa: F811
                                                                            clock):
    seat, call = _moved_on(client, auth, floor, sessions, clock)
    page = client.get("/agent/").get_data(as_text=True)
    assert f'id="unfinished-{call}"' in page and "Finish your call with Ann Lee" in page
    assert f'data-draft="{call}"' in page and f'data-drafts="{call}"' in page
    url = f"/agent/unfinished/{call}"
    r = auth.post(url, {f"call{call}-notes": "left a message"}, page="/agent/")
    assert r.status_code == 400 and f'id="call{call}-code-error">Choose a disposition.' in r.get_data(as_text=True)
    r = auth.post(url, {f"call{call}-code": "CALLBK", f"call{call}-callback_at": "2030-01-09T23:30"}, page="/agent/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "outside the customer&#39;s calling hours" in html
    assert 'name="callback_offer" value="2030-01-10T08:00"' in html
    with sessions() as s:
        assert s.get(Call, call).disposition_code is None
    r = auth.post(url, {f"call{call}-code": "NI", f"call{call}-notes": " left a message "}, page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        c = s.get(Call, call)
        assert (c.disposition_code, c.notes) == ("NI", "left a message")
        assert s.get(Lead, floor["lead"]).status != "dialing"
        assert agents.get_agent(s, seat).state == "ready"  # as the limit left it
    page = client.get("/agent/").get_data(as_text=True)
    assert "Saved: Not interested for your call with Ann Lee." in page and "unfinished-" not in page
    r = auth.post(url, {f"call{call}-code": "SALE"}, page="/agent/")
    assert GONE in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, call).disposition_code == "NI"


def test_a_lead_returned_to_the_queue_and_another_agents_call_are_refused(client, auth, floor, sessions,  # noqa: F811
                                                                          clock):
    _seat, call = _moved_on(client, auth, floor, sessions, clock)
    with sessions() as s:
        s.get(Call, call).ended_at = clock.now()  # the carrier's word that the customer's line is down
        s.commit()
    clock.advance(31 * 60)
    with sessions() as s:
        assert recycle(s, clock.now()).undispositioned == 1  # the dialer gave up waiting
        s.commit()
    assert "unfinished-" not in client.get("/agent/").get_data(as_text=True)
    auth.post(f"/agent/unfinished/{call}", {f"call{call}-code": "SALE"}, page="/agent/")
    assert GONE in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, call).disposition_code is None
        zoe = agents.create_agent(s, "Zoe", clock.now())
        s.get(Call, call).agent_id = zoe.id  # someone else's call
        s.get(Lead, floor["lead"]).status = "dialing"
        s.commit()
    auth.post(f"/agent/unfinished/{call}", {f"call{call}-code": "SALE"}, page="/agent/")
    assert GONE in client.get("/agent/").get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, call).disposition_code is None
