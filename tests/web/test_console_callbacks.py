"""The callback queue page (issue 8): due, waiting, missed (highlighted), recently cancelled with the reason, dialed;
move a callback in the lead's local time (refused outside the window, with the opening offered), cancel with a
reason, reassign; and the agent's "My callbacks" built on the callback table."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.accounts.models import User
from campaigns.agents.service import create_agent
from campaigns.callbacks import service as cb
from campaigns.campaign.dial_settings import update
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign, set_status
from campaigns.leads.models import Lead, LeadList
from tests.web.test_console_agent import agent_id, floor, ring  # noqa: F401  (floor: the agent tests' fixture)

CHICAGO_LEADS = (("Ann", "+13125550101"), ("Bob", "+13125550102"), ("Cy", "+13125550103"), ("Di", "+13125550104"),
                 ("Ed", "+13125550105"), ("Flo", "+13125550106"))


def add_lead(s, campaign_id: int, list_id: int, first: str, phone: str, t: datetime) -> Lead:
    lead = Lead(campaign_id=campaign_id, list_id=list_id, phone=phone, first_name=first, last_name="Test",
                state="IL", postal_code="60601", timezones="America/Chicago", attempts=1, status="retry",
                created_at=t, updated_at=t)
    s.add(lead)
    s.flush()
    return lead


@pytest.fixture
def queue(sessions, clock, seed_users):
    """Campaign "Spring" with six Chicago leads whose callbacks stand, two hours later, as: Ann missed (personal to
    the agent-user's seat), Bob missed (anyone), Cy waiting (in two days), Di cancelled by a DNC request, Ed due,
    Flo dialed. Returns ids by first name."""
    t0 = clock.now()  # 2030-01-08 09:00 in Chicago
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t0 - timedelta(days=1))
        set_status(s, c, "active", t0)
        other = create_campaign(s, "Autumn", "+12125550100", t0 - timedelta(days=1))
        lst = LeadList(campaign_id=c.id, name="March", sha256="a" * 64, uploaded_at=t0)
        s.add(lst)
        s.flush()
        seat = s.query(User).filter_by(username="agent-user").one().agent_id
        leads = {first: add_lead(s, c.id, lst.id, first, phone, t0) for first, phone in CHICAGO_LEADS}
        rows = {"Ann": cb.schedule(s, leads["Ann"], t0 + timedelta(minutes=10), t0, agent_id=seat, note="after 9"),
                "Bob": cb.schedule(s, leads["Bob"], t0 + timedelta(minutes=20), t0),
                "Cy": cb.schedule(s, leads["Cy"], t0 + timedelta(days=2), t0),
                "Di": cb.schedule(s, leads["Di"], t0 + timedelta(hours=3), t0),
                "Ed": cb.schedule(s, leads["Ed"], t0 + timedelta(minutes=110), t0),
                "Flo": cb.schedule(s, leads["Flo"], t0 + timedelta(minutes=5), t0)}
        cb.cancel_for_number(s, leads["Di"].phone, "do-not-call request (agent)", t0 + timedelta(minutes=1))
        cb.fired(s, leads["Flo"].id, t0 + timedelta(minutes=6))
        clock.advance(2 * 3600)
        assert cb.mark_missed(s, clock.now()) == 2  # Ann and Bob: more than an hour past due
        create_agent(s, "Zoe", t0, campaign=c)
        lost = add_lead(s, other.id, lst.id, "Gus", "+13125550107", t0)
        elsewhere = cb.schedule(s, lost, clock.now() + timedelta(hours=1), clock.now())
        s.commit()
        return {"campaign": c.id, "seat": seat, "elsewhere": elsewhere.id,
                **{k: v.id for k, v in rows.items()}, **{f"lead_{k}": v.id for k, v in leads.items()}}


def url(q, tail: str = "") -> str:
    return f"/campaigns/{q['campaign']}/callbacks/{tail}"


def test_the_queue_shows_each_state_with_the_missed_ones_first_and_highlighted(client, auth, queue):
    auth.login("manager")
    html = client.get(url(queue)).get_data(as_text=True)
    tiles = dict(re.findall(r'data-k="(\w+)"><div class="label">[^<]+</div><div class="value" data-value>(\d+)<', html))
    assert tiles == {"missed": "2", "due": "1", "waiting": "1", "fired": "1", "cancelled": "1"}
    missed = html.split('id="cb-missed"')[1].split('id="cb-due"')[0]
    assert 'class="panel missed"' in html and missed.count('class="missed"') == 2
    assert "Ann Test" in missed and "Bob Test" in missed and "personal: agent-user" in missed
    assert "anyone on the campaign" in missed
    assert "2030-01-08 10:10 EST" in missed  # the campaign's zone, sorted by it, the lead's own clock beside it
    assert "Tue 09:10 CST at the lead" in missed
    assert "Ed Test" in html.split('id="cb-due"')[1].split('id="cb-waiting"')[0]
    assert "Cy Test" in html.split('id="cb-waiting"')[1].split('id="cb-cancelled"')[0]
    cancelled = html.split('id="cb-cancelled"')[1].split('id="cb-fired"')[0]
    assert "Di Test" in cancelled and "do-not-call request (agent)" in cancelled
    assert "Flo Test" in html.split('id="cb-fired"')[1]
    assert ">personal: Zoe</option>" in html  # an agent of the campaign can be given a callback
    assert "Gus" not in html  # another campaign's callback


def test_the_campaign_page_links_the_queue(client, auth, queue):
    auth.login("manager")
    html = client.get(f"/campaigns/{queue['campaign']}").get_data(as_text=True)
    assert f'href="/campaigns/{queue["campaign"]}/callbacks/">Callbacks</a>' in html


def test_a_move_outside_the_window_offers_the_opening_and_accepting_it_moves_the_callback(client, auth, queue,
                                                                                          sessions):
    auth.login("manager")
    r = auth.post(url(queue, f"{queue['Ann']}/move"), {"at": "2030-01-09T22:30"}, page=url(queue))
    assert r.status_code == 200  # the page again, offering the opening: nothing moved yet
    html = r.get_data(as_text=True)
    assert 'id="offer"' in html
    assert "2030-01-09 22:30 CST is outside the lead&#39;s calling window; it next opens 2030-01-10 08:00 CST" in html
    assert 'name="at" value="2030-01-10T08:00"' in html
    assert "Move it to the opening, 2030-01-10 08:00 CST" in html
    with sessions() as s:
        assert s.get(cb.Callback, queue["Ann"]).status == "missed"  # nothing changed yet
    r = auth.post(url(queue, f"{queue['Ann']}/move"), {"at": "2030-01-10T08:00"}, page=url(queue))
    assert r.status_code == 302
    html = client.get(url(queue)).get_data(as_text=True)
    assert "Callback moved to 2030-01-10 09:00 EST (Thu 08:00 CST at the lead)." in html  # the page's zone first
    with sessions() as s:
        old = s.get(cb.Callback, queue["Ann"])
        assert (old.status, old.cancelled_reason) == ("cancelled", cb.REPLACED)
        new = s.query(cb.Callback).filter_by(lead_id=queue["lead_Ann"], status="pending").one()
        assert new.due_at == datetime(2030, 1, 10, 14, 0, tzinfo=UTC)
        assert new.agent_id == queue["seat"]  # still personal
    waiting = html.split('id="cb-waiting"')[1].split('id="cb-cancelled"')[0]
    assert "Ann Test" in waiting
    assert cb.REPLACED not in html.split('id="cb-cancelled"')[1]  # a move is not listed as a cancellation


@pytest.mark.parametrize(("at", "message"), [
    ("", "Give the new date and time."),
    ("next tuesday", "New time: Give a date and time, e.g. 2030-01-09 17:30."),
    ("2030-01-08T10:30", "Is not in the future"),
])
def test_a_bad_move_is_refused_with_a_message(client, auth, queue, sessions, at, message):
    auth.login("manager")
    r = auth.post(url(queue, f"{queue['Bob']}/move"), {"at": at}, page=url(queue), follow_redirects=True)
    html = r.get_data(as_text=True)
    assert 'class="flash error"' in html and message.lower() in html.lower()
    with sessions() as s:
        assert s.get(cb.Callback, queue["Bob"]).status == "missed"


def test_cancel_needs_a_reason_and_lists_it(client, auth, queue, sessions):
    auth.login("manager")
    r = auth.post(url(queue, f"{queue['Bob']}/cancel"), {"reason": "  "}, page=url(queue), follow_redirects=True)
    assert "Say why the callback is cancelled." in r.get_data(as_text=True)
    r = auth.post(url(queue, f"{queue['Bob']}/cancel"), {"reason": "bought elsewhere"}, page=url(queue),
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert f"Callback {queue['Bob']} cancelled: bought elsewhere." in html
    assert "bought elsewhere" in html.split('id="cb-cancelled"')[1]
    with sessions() as s:
        assert s.get(cb.Callback, queue["Bob"]).status == "cancelled"
        assert s.get(Lead, queue["lead_Bob"]).status == "retry"
    r = auth.post(url(queue, f"{queue['Bob']}/cancel"), {"reason": "again"}, page=url(queue), follow_redirects=True)
    assert f"Callback {queue['Bob']} is cancelled; only pending or missed callbacks can change." in \
        r.get_data(as_text=True)


def test_reassign_to_anyone_or_to_an_agent(client, auth, queue, sessions):
    auth.login("manager")
    r = auth.post(url(queue, f"{queue['Ann']}/assign"), {"to": "anyone"}, page=url(queue), follow_redirects=True)
    assert f"Callback {queue['Ann']} is now for anyone on the campaign." in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(cb.Callback, queue["Ann"]).agent_id is None
        zoe = s.query(cb.Agent).filter_by(name="Zoe").one().id
    auth.post(url(queue, f"{queue['Ed']}/assign"), {"to": str(zoe)}, page=url(queue))
    with sessions() as s:
        assert s.get(cb.Callback, queue["Ed"]).agent_id == zoe
        assert s.get(Lead, queue["lead_Ed"]).callback_agent_id == zoe
    for to, message in (("9999", "No agent 9999."),
                        ("someone", "For: choose an agent or anyone, got &#39;someone&#39;.")):
        r = auth.post(url(queue, f"{queue['Ed']}/assign"), {"to": to}, page=url(queue), follow_redirects=True)
        assert message in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(cb.Callback, queue["Ed"]).agent_id == zoe


def test_a_callback_of_another_campaign_or_an_unknown_one_is_not_found(client, auth, queue):
    auth.login("manager")
    assert auth.post(url(queue, f"{queue['elsewhere']}/cancel"), {"reason": "x"}, page=url(queue)).status_code == 404
    assert auth.post(url(queue, "987654/move"), {"at": "2030-01-10T09:00"}, page=url(queue)).status_code == 404
    assert client.get("/campaigns/987654/callbacks/").status_code == 404


def test_without_csrf_token_nothing_changes(client, auth, queue, sessions):
    auth.login("manager")
    r = client.post(url(queue, f"{queue['Bob']}/cancel"), data={"reason": "no token"})
    assert r.status_code == 400
    with sessions() as s:
        assert s.get(cb.Callback, queue["Bob"]).status == "missed"


def test_my_callbacks_follows_a_moved_callback_and_marks_the_missed_ones(client, auth, queue, sessions, clock):
    with sessions() as s:
        moved = cb.reschedule(s, queue["Ann"], datetime(2030, 1, 10, 15, 0, tzinfo=UTC), clock.now())
        s.commit()
        assert moved.agent_id == queue["seat"]
    auth.login("agent")
    html = client.get("/agent/callbacks").get_data(as_text=True)
    assert "2030-01-10 15:00 UTC" in html and "Thu 09:00 CST at the lead" in html  # the console's zone, the lead's
    assert "Ann Test" in html and "only me" in html
    assert cb.REPLACED not in html  # the old row gave way to the new one
    with sessions() as s:
        cb.assign(s, moved.id, None, clock.now())
        s.commit()
    html = client.get("/agent/callbacks").get_data(as_text=True)
    ann = html.split("Ann Test")[1].split("</tr>")[0]
    assert "anyone on the campaign" in ann and "only me" not in ann  # handed on: the agent sees where it went


def test_my_callbacks_lists_the_ones_the_agent_scheduled_with_where_they_stand(sessions, queue, clock):
    from campaigns.agents.desk import my_callbacks
    from campaigns.dispatch.models import Call

    t = clock.now()
    with sessions() as s:
        # Bob's callback was scheduled by this agent's disposition (for anyone): the call and the callback share
        # the instant, which is how the agent's list finds the callbacks it scheduled without keeping them
        bob = s.get(cb.Callback, queue["Bob"])
        s.add(Call(campaign_id=queue["campaign"], lead_id=queue["lead_Bob"], phone="+13125550102", attempt=1,
                   placed_at=bob.created_at - timedelta(minutes=3), agent_id=queue["seat"],
                   connected_at=bob.created_at - timedelta(minutes=2), dispositioned_at=bob.created_at,
                   disposition_code="CALLBK", status="completed"))
        s.flush()
        rows = my_callbacks(s, queue["seat"], t)
        assert [(r["name"], r["status"], r["personal"], r["open"]) for r in rows] == [
            ("Ann Test", "missed", True, True), ("Bob Test", "missed", False, True)]
        cb.cancel(s, queue["Bob"], "bought elsewhere", t)
        rows = my_callbacks(s, queue["seat"], t)
        assert [(r["name"], r["status"]) for r in rows] == [("Ann Test", "missed"),
                                                           ("Bob Test", "cancelled: bought elsewhere")]


def test_the_agent_chooses_personal_or_anyone_for_a_callback_defaulting_to_the_campaign(client, auth, sessions,
                                                                                         clock, floor):  # noqa: F811
    spot = floor
    seat = agent_id(sessions)
    auth.login("agent")
    auth.post("/agent/start", {"campaign": str(spot["campaign"])}, page="/agent/")
    ring(sessions, clock, spot, seat)
    html = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'<input checked id="callback_for-0"[^>]*value="personal"', html)  # the default setting
    with sessions() as s:
        update(s, s.get(Campaign, spot["campaign"]), clock.now(), callbacks_personal=False)
        s.commit()
    html = client.get("/agent/").get_data(as_text=True)
    assert re.search(r'<input checked id="callback_for-1"[^>]*value="anyone"', html)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2030-01-09T17:30",
                                         "callback_for": "nobody", "then": "ready"}, page="/agent/")
    assert r.status_code == 400 and 'id="callback_for-error">Choose personal (only me) or anyone' in \
        r.get_data(as_text=True)
    r = auth.post("/agent/disposition", {"code": "CALLBK", "callback_at": "2030-01-09T17:30",
                                         "callback_for": "personal", "then": "ready"}, page="/agent/")
    assert r.status_code == 302
    with sessions() as s:
        row = s.query(cb.Callback).filter_by(lead_id=spot["lead"]).one()
        assert row.agent_id == seat  # the agent's choice beats the campaign's default
    html = client.get("/agent/callbacks").get_data(as_text=True)
    assert "only me" in html and "waiting" in html


def test_the_floor_counts_the_missed_callbacks_and_links_the_queue(client, auth, queue):
    auth.login("manager")
    html = client.get(f"/floor/?campaign_id={queue['campaign']}").get_data(as_text=True)
    tile = html.split('data-k="guard.missed_callbacks"')[1].split("</div></div>")[0]
    assert 'data-value>2<' in tile and f'href="{url(queue)}">open the callback queue</a>' in tile
    assert "2 missed callback(s) wait in the callback queue" in html
    assert f'<a href="{url(queue)}">Open the callback queue</a>' in html  # on the warning itself
    g = client.get(f"/floor/{queue['campaign']}/data").get_json()["guard"]
    assert (g["missed_callbacks"], g["callbacks_url"], g["level"]) == (2, url(queue), None)


def test_a_move_outside_the_campaigns_own_hours_offers_their_next_opening(client, auth, queue, sessions):
    """The campaign calls 09:00-17:00 on weekdays at the called party: a move to 18:00, legal by the law's window,
    would be dialed only the next morning, so it is refused with that opening offered as well."""
    from campaigns.campaign.models import Campaign

    with sessions() as s:
        c = s.get(Campaign, queue["campaign"])
        c.calling_hours, c.calling_days = "09:00-17:00", "12345"
        s.commit()
    auth.login("manager")
    r = auth.post(url(queue, f"{queue['Ann']}/move"), {"at": "2030-01-09T18:00"}, page=url(queue))
    assert r.status_code == 200 and 'id="offer"' in r.get_data(as_text=True)
    assert ("2030-01-09 18:00 CST is outside the lead&#39;s calling window; it next opens 2030-01-10 09:00 CST"
            in r.get_data(as_text=True))
    r = auth.post(url(queue, f"{queue['Ann']}/move"), {"at": "2030-01-12T10:00"}, page=url(queue))  # a Saturday
    assert "it next opens 2030-01-14 09:00 CST" in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(cb.Callback, queue["Ann"]).status == "missed"  # nothing moved
