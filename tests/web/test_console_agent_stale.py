"""The agent's disposition form answers for the call it was shown with, never for the next one: a double click,
the back button or a second tab re-sends a form after the seat moved on to another customer."""

from __future__ import annotations

import re
from datetime import timedelta

from campaigns.agents import service as agents
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dnc import internal
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)

BOB = "+13125550187"


def _form_fields(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the page's form that posts to ``action`` (what the browser sends with the choice)."""
    form = re.search(rf'<form[^>]*action="{re.escape(action)}".*?</form>', html, re.S)
    assert form, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(0))) | \
        dict(re.findall(r'<input [^>]*name="([^"]+)" type="hidden" value="([^"]*)"', form.group(0)))


def _ring_bob(sessions, clock, floor, seat: int) -> int:  # noqa: F811
    t = clock.now()
    with sessions() as s:
        bob = Lead(campaign_id=floor["campaign"], list_id=floor["list"], phone=BOB, first_name="Bob", last_name="Ray",
                   state="IL", timezones="America/Chicago", status="dialing", created_at=t, updated_at=t)
        s.add(bob)
        s.flush()
        call = Call(campaign_id=floor["campaign"], lead_id=bob.id, list_id=floor["list"], phone=BOB, attempt=1,
                    placed_at=t - timedelta(seconds=15), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
        return call.id


def test_a_disposition_sent_again_after_the_next_call_popped_is_refused(client, auth, floor, sessions,  # noqa: F811
                                                                         clock):
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    ann_call = ring(sessions, clock, floor, seat)
    sent = _form_fields(client.get("/agent/").get_data(as_text=True), "/agent/disposition") | \
        {"code": "DNC", "notes": "asked not to be called", "then": "ready"}
    assert client.post("/agent/disposition", data=sent).status_code == 302
    clock.advance(5)
    bob_call = _ring_bob(sessions, clock, floor, seat)  # the predictive dialer pops the next customer at once
    r = client.post("/agent/disposition", data=sent)  # the same form again: a double click, back + resend, tab 2
    assert r.status_code == 409, r.status_code
    assert "already saved" in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, ann_call).disposition_code == "DNC"
        bob = s.get(Call, bob_call)
        assert bob.disposition_code is None and bob.hangup_requested_at is None  # Bob is still on the line
        assert internal.active(s, BOB, None, clock.now()) == []  # and nobody put him on the DNC list
    assert client.get("/agent/state").get_json()["call_id"] == bob_call


def test_a_callback_at_the_end_of_the_calendar_is_refused_in_words(client, auth, floor, sessions, clock):  # noqa: F811
    """A year typed as 9999 in the callback's date: the lead's local time overflowed on its way to UTC, a server
    error while the customer waited for the agent to finish."""
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(floor["campaign"])}, page="/agent/")
    call_id = ring(sessions, clock, floor, seat)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "9999-12-31T23:59", "then": "ready"},
                  page="/agent/")
    assert r.status_code == 400 and "9999" in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Call, call_id).disposition_code is None  # nothing half-written: the agent can try again
