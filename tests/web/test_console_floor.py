"""The live floor: agents by state and for how long, calls ringing and waiting, dial level, today's rates with
the 30-day abandon rate against the target, the pacer's published explanation, and warnings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.agents import service as agents
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.dispatch.service import save_pacing_status


@pytest.fixture
def live(sessions, clock):
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=3))
        set_status(s, c, "active", t)
        team = {}
        for name in ("ann", "bob", "cy"):
            a = agents.create_agent(s, name, t - timedelta(minutes=10), campaign=c)
            agents.go_ready(s, a.id, t - timedelta(minutes=5))
            team[name] = a.id
        agents.pause(s, team["cy"], "lunch", t - timedelta(minutes=2))
        # earlier today: 10 live answers, 1 abandoned; now: one talking, one ringing, one answered and waiting
        for i in range(10):
            placed = t - timedelta(hours=2, minutes=i)
            s.add(Call(campaign_id=c.id, phone=f"+1212736{4400 + i}", placed_at=placed, answered_at=placed,
                       answered_by="human", connected_at=None if i == 0 else placed, ended_at=placed,
                       outcome="abandoned" if i == 0 else "completed", status="completed"))
        talk = Call(campaign_id=c.id, phone="+12127364500", placed_at=t - timedelta(seconds=80),
                    answered_at=t - timedelta(seconds=70), answered_by="human", status="answered")
        s.add_all([talk, Call(campaign_id=c.id, phone="+12127364501", placed_at=t - timedelta(seconds=5),
                              status="ringing"),
                   Call(campaign_id=c.id, phone="+12127364502", placed_at=t - timedelta(seconds=9),
                        answered_at=t - timedelta(seconds=1), answered_by="human", status="answered")])
        s.flush()
        agents.connect(s, talk.id, team["ann"], t - timedelta(seconds=69))
        save_pacing_status(s, c.id, {"planned": 2, "allowed": 1, "placed": 1, "capped_by": "lines", "live_lines": 3,
                                     "pacer": {"t": 1.0, "mode": "progressive (cold start)", "n": 2,
                                               "agents_ready": 1, "abandon_budget_left": 0.2}}, t)
        s.commit()
        return c.id


def test_floor_json_has_every_figure(client, auth, live, clock):
    auth.login("manager")
    f = client.get(f"/floor/{live}/data").get_json()
    assert f["by_state"] == {"ready": 1, "talking": 1, "wrap": 0, "paused": 1, "offline": 0}
    states = {a["name"]: (a["state"], a["reason"], a["seconds"], a["phone"]) for a in f["agents"]}
    assert states["ann"] == ("talking", None, 69.0, "+12127364500")
    assert states["cy"] == ("paused", "lunch", 120.0, None)
    assert (f["ringing"], f["waiting"], f["talking"]) == (1, 1, 1)
    assert f["dial_level"] == 1.5  # 3 live lines / 2 agents taking calls (ann talking, bob ready)
    assert f["calls_per_ready_agent"] == 2.0  # ringing + waiting per ready agent
    # 13 dials today; live answers: the 10 earlier ones and the connected call (the waiting one is not yet either)
    assert f["today"]["dials"] == 13 and f["today"]["live_answers"] == 11
    assert f["today"]["abandon_rate"] == pytest.approx(1 / 11) == f["today"]["abandon_rate_30d"]
    assert {p["label"]: p["value"] for p in f["pacing"]}["mode used"] == "progressive (cold start)"
    assert f["decision"]["capped_by"] == "lines"
    assert any("30-day abandon rate 9.1 %" in w for w in f["warnings"])


def test_floor_page_renders_and_warns_when_the_worker_is_silent(client, auth, live, clock):
    auth.login("manager")
    html = client.get(f"/floor/?campaign_id={live}").get_data(as_text=True)
    assert "Live floor: Spring" in html and "progressive (cold start)" in html and "paused: lunch" in html
    assert 'class="tile bad" data-k="today.abandon_rate_30d"' in html
    clock.advance(60)
    f = client.get(f"/floor/{live}/data").get_json()
    assert any("is the dialer worker running?" in w for w in f["warnings"])
    assert client.get("/floor/999/data").status_code == 404
    assert client.get("/floor/").status_code == 200  # picks the active campaign


def test_floor_needs_the_manager_role(client, auth, live):
    auth.login("agent")
    assert client.get(f"/floor/{live}/data", headers={"Accept": "application/json"}).status_code == 403


def test_the_dialable_funnel_adds_up(client, auth, live, sessions, clock):
    from campaigns.leads.models import Lead, LeadList

    t = clock.now()
    with sessions() as s:
        lst = LeadList(campaign_id=live, name="March", sha256="c" * 64, uploaded_at=t)
        s.add(lst)
        s.flush()
        s.add_all([Lead(campaign_id=live, list_id=lst.id, phone="+12127364601", status="closed", created_at=t,
                        updated_at=t),
                   Lead(campaign_id=live, list_id=lst.id, phone="+12127364602", status="suppressed",
                        suppression="national_dnc", created_at=t, updated_at=t),
                   Lead(campaign_id=live, list_id=lst.id, phone="+12127364603", status="retry",
                        next_attempt_at=t + timedelta(hours=2), timezones="America/New_York", created_at=t,
                        updated_at=t)])
        s.commit()
    auth.login("manager")
    f = client.get(f"/floor/{live}/funnel").get_json()
    assert f["adds_up"] and f["total"] == 3
    assert f["final"]["closed"] == 1 and f["final"]["suppressed"] == 1
    rows = {r["key"]: r["leads"] for r in f["rows"]}
    assert sum(rows.values()) == 3 and rows["dialable"] == f["dialable"]
    html = client.get(f"/floor/?campaign_id={live}").get_data(as_text=True)
    assert "Dialable funnel" in html and "3 leads = 2 final" in html


def test_a_worker_holding_the_lease_is_never_stale_and_a_dead_one_shows_within_20_s(client, auth, live, clock,
                                                                                       sessions):
    from campaigns.leases import service as leases
    from campaigns.leases.ownership import lease_name

    auth.login("manager")
    clock.advance(60)  # the last published decision is a minute old ...
    with sessions() as s:  # ... but the worker holds the campaign's lease: it is alive, deciding
        assert leases.acquire(s, lease_name(live), "worker-1", clock.now(), 8)
        s.commit()
    f = client.get(f"/floor/{live}/data").get_json()
    assert not any("worker running" in w for w in f["warnings"])
    clock.advance(9)  # the worker died: its lease ran out and it has published nothing for over 20 s
    f = client.get(f"/floor/{live}/data").get_json()
    assert any("no dialing worker has taken this campaign in the last 20 s" in w for w in f["warnings"])


def test_the_floor_leads_with_one_plain_sentence_over_the_last_minute():
    from campaigns.floor.view import plain_sentence

    status = {"minute": {"seconds": 59.8, "placed": 14, "planned": 14},
              "pacer": {"sentence": "Placing 0 calls now for 3 agents ready and about 2 more expected free in the "
                                    "next seconds; held back by the risk that a person who answers finds no agent "
                                    "free (0.4 % for one more call).", "n": 0}}
    said = plain_sentence(status, {"ready": 3, "talking": 14, "wrap": 2, "paused": 1})
    assert said == ("Dialing 14 calls a minute for 19 agents taking calls; held back by the risk that a person who "
                    "answers finds no agent free (0.4 % for one more call).")
    assert plain_sentence({"pacer": {"sentence": "Not dialing: no agent is logged in and unpaused."}}, {}) \
        .startswith("Not dialing")
    assert plain_sentence(None, {}) == "The dialer has not published a decision for this campaign yet."


def test_with_no_lead_due_the_floor_says_so_not_what_the_pacer_asked_for():
    """The pacer asks for calls the list cannot give (nothing due): its own reason (the cap on calls per agent, the
    risk) is not why nothing is dialed; the loop's claim came back short (``capped_by`` leads)."""
    from campaigns.floor.view import plain_sentence

    status = {"capped_by": "leads", "minute": {"seconds": 60.0, "placed": 0, "planned": 9600},
              "pacer": {"sentence": "Placing 160 calls now for 19 agents ready and about 0 more expected free in the "
                                    "next seconds; held at the safety cap on calls per agent.", "n": 160}}
    said = plain_sentence(status, {"ready": 19})
    assert said == ("Dialing 0 calls a minute for 19 agents taking calls; no more leads are due now (the dialable "
                    "funnel says what holds the rest back).")


def test_a_paused_campaigns_floor_says_it_is_not_dialing_because_it_is_paused(client, auth, live, sessions, clock):
    """Paused, the worker gives the campaign back and publishes no more decisions: the last one stayed on the floor,
    so "Why it is dialing like this" said "Dialing 4 calls a minute for 19 agents taking calls" under the banner
    "The campaign is paused: nothing is dialed" (found pausing the demo's campaign)."""
    from campaigns.campaign.models import Campaign

    auth.login("manager")
    with sessions() as s:
        save_pacing_status(s, live, {"minute": {"seconds": 60.0, "placed": 4, "planned": 4},
                                     "pacer": {"sentence": "Placing 1 call now (1 agent ready, 0 calls ringing); "
                                                           "one call for each ready agent not already covered by a "
                                                           "ringing call.", "n": 1}}, clock.now())
        s.commit()
    assert client.get(f"/floor/{live}/data").get_json()["sentence"].startswith("Dialing 4 calls a minute")
    for status, words in (("paused", "Not dialing: the campaign is paused."),
                          ("finished", "Not dialing: the campaign is finished."),
                          ("draft", "Not dialing: the campaign has not been started.")):
        with sessions() as s:
            s.get(Campaign, live).status = status
            s.commit()
        assert client.get(f"/floor/{live}/data").get_json()["sentence"] == words


def test_an_active_campaign_with_no_lead_to_call_says_so_on_its_floor(client, auth, sessions, clock):
    """Started with no list (the start page warned once), its floor said only "No agent is taking calls" and, in the
    funnel, "nothing is dialable now": nothing told the manager watching it that there is no lead to call."""
    from campaigns.leads.models import Lead, LeadList

    with sessions() as s:
        c = create_campaign(s, "Winter", "+12125550100", clock.now())
        set_status(s, c, "active", clock.now())
        s.commit()
        cid = c.id
    auth.login("manager")
    warnings = client.get(f"/floor/{cid}/data").get_json()["warnings"]
    assert "no lead left to call, so nothing is dialed: upload a list of leads" in warnings
    with sessions() as s:
        lst = LeadList(campaign_id=cid, name="w", sha256="w" * 64, uploaded_at=clock.now())
        s.add(lst)
        s.flush()
        s.add(Lead(campaign_id=cid, list_id=lst.id, phone="+12127364421", created_at=clock.now(),
                   updated_at=clock.now()))
        s.commit()
    warnings = client.get(f"/floor/{cid}/data").get_json()["warnings"]
    assert not any("no lead left" in w for w in warnings)
