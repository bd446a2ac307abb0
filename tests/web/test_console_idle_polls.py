"""An unattended console signs out after an hour idle, and a page's own polling is not someone at the keyboard:
the live floor or an import's progress left open in a browser used to keep its session alive to the 12-hour cap.
Only what a person does counts (a page, a form, a click), with one exception a contact centre expects: an agent
whose seat is taking calls (ready, on a call, in wrap) is at work while their page waits for the next call, so
that seat's polls count. A paused seat's polls keep it on the floor (the seat is present) but not the session."""

from __future__ import annotations

from campaigns.accounts.sessions import SessionPolicy, unattended_seats
from campaigns.agents.service import pause
from tests.web.test_console_seats_offline import _ready, _state, seat  # noqa: F401  (fixture)

IDLE = SessionPolicy().idle_s
JSON = {"Accept": "application/json"}  # as the pages' script asks: a signed-out poll is a 401


def _poll_for(client, clock, path: str, seconds: int, every: int = 30) -> None:
    """The page's script: ``path`` every ``every`` s for ``seconds``, each answered while signed in."""
    for _ in range(seconds // every):
        clock.advance(every)
        r = client.get(path, headers=JSON)
        assert r.status_code == 200, (path, r.status_code)


def test_the_floors_polls_alone_do_not_keep_an_idle_session(client, auth, clock, seat):  # noqa: F811
    campaign_id, _ = seat
    auth.login("manager")
    assert client.get("/floor/", query_string={"campaign_id": campaign_id}).status_code == 200
    _poll_for(client, clock, f"/floor/{campaign_id}/data", IDLE - 60)
    clock.advance(90)  # an hour and half a minute since the manager last did anything
    r = client.get(f"/floor/{campaign_id}/data", headers=JSON)
    assert r.status_code == 401 and r.get_json()["error"] == "not signed in"
    assert client.get("/campaigns/").status_code == 302  # signed out for pages too


def test_a_person_acting_keeps_the_session_and_the_hour_counts_from_their_last_action(client, auth, clock,
                                                                                   seat):  # noqa: F811
    campaign_id, _ = seat
    auth.login("manager")
    _poll_for(client, clock, f"/floor/{campaign_id}/funnel", IDLE - 300)
    assert client.get("/campaigns/").status_code == 200  # the manager opens a page: activity
    _poll_for(client, clock, f"/floor/{campaign_id}/data", IDLE - 60)
    clock.advance(90)
    assert client.get(f"/floor/{campaign_id}/data", headers=JSON).status_code == 401


def test_a_ready_agent_waiting_for_calls_is_not_signed_out_under_them(client, auth, sessions, clock,
                                                                     seat):  # noqa: F811
    _, agent_id = seat
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    _poll_for(client, clock, "/agent/state", 3 * IDLE)  # three hours ready, no call, no click
    assert client.get("/agent/").status_code == 200
    assert _state(sessions, agent_id) == "ready"


def test_a_paused_seat_stays_present_but_its_session_idles_out_after_the_hour(client, auth, sessions, clock,
                                                                             seat):  # noqa: F811
    _, agent_id = seat
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    with sessions() as s:
        pause(s, agent_id, "lunch", clock.now())
        s.commit()
    for _ in range(4):  # 20 minutes on a break: the page polls, the seat is not taken off as unattended
        _poll_for(client, clock, "/agent/state", 300)
        with sessions() as s:
            assert unattended_seats(s, clock.now()) == []
            s.commit()
    _poll_for(client, clock, "/agent/state", IDLE - 20 * 60 - 60)
    clock.advance(90)
    assert client.get("/agent/state", headers=JSON).status_code == 401
    assert _state(sessions, agent_id) == "paused"  # the worker's job takes it off within its grace


def test_the_absolute_cap_holds_even_for_a_ready_seat(client, auth, sessions, clock, seat):  # noqa: F811
    _, agent_id = seat
    auth.login("agent")
    _ready(client, sessions, agent_id, clock)
    _poll_for(client, clock, "/agent/state", SessionPolicy().absolute_s, every=600)  # 12 h to the second
    clock.advance(60)
    assert client.get("/agent/state", headers=JSON).status_code == 401


def test_every_polling_endpoint_named_exists(app):
    from web.activity import POLLS

    assert set(app.view_functions) >= POLLS, POLLS - set(app.view_functions)
