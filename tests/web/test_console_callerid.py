"""The caller-ID pool page (issue 8): each number's state and cap with its health, add numbers (E.164, all or
none, the bad one named), flag as spam by the manager with a reason (the threshold retires), retire and restore."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campaigns.callerid import service as callerid
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from tests.web.test_console_agent import agent_id


@pytest.fixture
def pool(sessions, clock, seed_users) -> dict:
    """Campaign "Spring" with two pool numbers: +13125550100 dialed 4 times today (3 answered by a person, one by a
    machine), +13125550101 unused; the campaign's cap 150, threshold 2."""
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1))
        set_status(s, c, "active", t)
        c.spam_flag_threshold = 2
        callerid.add_number(s, c, "+13125550100", t)
        callerid.add_number(s, c, "+13125550101", t, daily_cap=40)
        for i, by in enumerate(("human", "human", "human", "machine")):
            s.add(Call(campaign_id=c.id, phone=f"+1312555020{i}", attempt=1, caller_id="+13125550100",
                       placed_at=t - timedelta(minutes=30 + i), answered_at=t - timedelta(minutes=29 + i),
                       answered_by=by, connected_at=t - timedelta(minutes=29 + i) if by == "human" else None,
                       ended_at=t - timedelta(minutes=28 + i), outcome="completed" if by == "human" else "machine",
                       status="completed"))
        s.commit()
        return {"id": c.id}


def url(pool, tail: str = "") -> str:
    return f"/campaigns/{pool['id']}/callerid/{tail}"


def row(html: str, number: str) -> str:
    return html.split(f'id="cid-{number.lstrip("+")}"')[1].split("</tr>")[0]


def test_the_pool_shows_each_numbers_health(client, auth, pool):
    auth.login("manager")
    html = client.get(url(pool)).get_data(as_text=True)
    busy = row(html, "+13125550100")
    assert "IL · 312" in busy and ">active<" in busy
    cells = re.findall(r'<td class="num">([^<]+)', busy)
    assert cells[:3] == ["4 / 150", "4", "75.0 %"]  # the machine answer is not a person
    assert "4 / 40" not in html and "0 / 40" in row(html, "+13125550101")
    assert f'href="{url(pool)}">Caller IDs</a>' in client.get(f"/campaigns/{pool['id']}").get_data(as_text=True)


def test_adding_numbers_is_all_or_none_and_names_the_bad_one(client, auth, pool, sessions):
    auth.login("manager")
    r = auth.post(url(pool, "add"), {"numbers": "+13125550102\n(312) 555-01"}, page=url(pool))
    assert r.status_code == 400
    assert 'id="numbers-error">Caller ID &#39;(312) 555-01&#39; is not a valid number. Nothing was added.' in \
        r.get_data(as_text=True)
    r = auth.post(url(pool, "add"), {"numbers": "+13125550102, 312 555 0199"}, page=url(pool))
    assert r.status_code == 302
    r = auth.post(url(pool, "add"), {"numbers": "+13125550103; +13125550100"}, page=url(pool))
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "+13125550100 is already in the pool of campaign &#39;Spring&#39;." in html
    r = auth.post(url(pool, "add"), {"numbers": "+1555", "daily_cap": "5"}, page=url(pool))
    assert 'id="numbers-error">Caller ID &#39;+1555&#39; is not a valid number. Nothing was added.' in \
        r.get_data(as_text=True)
    r = auth.post(url(pool, "add"), {"numbers": "+13125550104", "daily_cap": "0"}, page=url(pool))
    assert 'id="daily_cap-error">Between 1 and 10000.' in r.get_data(as_text=True)
    r = auth.post(url(pool, "add"), {"numbers": " "}, page=url(pool))
    assert 'id="numbers-error">Enter at least one number.' in r.get_data(as_text=True)
    with sessions() as s:
        assert sorted(n.number for n in callerid.pool(s, pool["id"])) == [
            "+13125550100", "+13125550101", "+13125550102", "+13125550199"]


def test_a_managers_spam_flags_retire_the_number_at_the_threshold(client, auth, pool, sessions):
    auth.login("manager")
    r = auth.post(url(pool, "flag"), {"number": "+13125550100", "reason": "customer saw Spam Likely"},
                  page=url(pool), follow_redirects=True)
    assert "+13125550100 flagged as spam; it is active." in r.get_data(as_text=True)
    r = auth.post(url(pool, "flag"), {"number": "+13125550100", "reason": "again"}, page=url(pool),
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "it is retired (2 spam flags (threshold 2))." in html
    assert ">retired<" in row(html, "+13125550100")
    with sessions() as s:
        flags = s.query(callerid.CallerIdFlag).order_by(callerid.CallerIdFlag.id).all()
        assert [(f.flagged_by, f.reason) for f in flags] == [("manager-user", "customer saw Spam Likely"),
                                                              ("manager-user", "again")]


def test_retire_needs_a_reason_and_restore_puts_it_back(client, auth, pool, sessions):
    auth.login("manager")
    r = auth.post(url(pool, "retire"), {"number": "+13125550101"}, page=url(pool), follow_redirects=True)
    assert "Give the reason." in r.get_data(as_text=True)
    r = auth.post(url(pool, "retire"), {"number": "+13125550101", "reason": "carrier label"}, page=url(pool),
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "+13125550101 is retired (carrier label)." in html and "carrier label" in row(html, "+13125550101")
    r = auth.post(url(pool, "retire"), {"number": "+13125550101", "reason": "twice"}, page=url(pool),
                  follow_redirects=True)
    assert "+13125550101 is already retired (carrier label)." in r.get_data(as_text=True)
    r = auth.post(url(pool, "restore"), {"number": "+13125550101"}, page=url(pool), follow_redirects=True)
    assert "+13125550101 is active again" in r.get_data(as_text=True)
    with sessions() as s:
        assert all(n.active for n in callerid.pool(s, pool["id"]))


def test_an_unknown_number_or_campaign_is_refused(client, auth, pool):
    auth.login("manager")
    r = auth.post(url(pool, "flag"), {"number": "+13125550177", "reason": "spam"}, page=url(pool),
                  follow_redirects=True)
    assert "+13125550177 is not in the caller-ID pool of campaign &#39;Spring&#39;." in r.get_data(as_text=True)
    assert client.get("/campaigns/987654/callerid/").status_code == 404


def test_a_campaign_without_a_pool_says_which_number_it_shows(client, auth, sessions, clock, seed_users):
    with sessions() as s:
        c = create_campaign(s, "Bare", "+12125550100", clock.now())
        s.commit()
        cid = c.id
    auth.login("manager")
    html = client.get(f"/campaigns/{cid}/callerid/").get_data(as_text=True)
    assert "No pool: every call shows the campaign's caller ID" in html and "The pool is empty." in html


def test_the_agent_flags_the_caller_id_of_the_current_and_then_the_last_call(client, auth, pool, sessions, clock):
    from campaigns.agents import service as agents
    from campaigns.agents.models import Agent
    from campaigns.campaign.models import Campaign

    seat = agent_id(sessions)
    t = clock.now()
    with sessions() as s:
        agents.assign(s, s.get(Agent, seat), s.get(Campaign, pool["id"]))
        agents.go_ready(s, seat, t)
        call = Call(campaign_id=pool["id"], phone="+13125550300", attempt=1, caller_id="+13125550101",
                    placed_at=t - timedelta(seconds=20), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, seat, t)
        name = s.get(Agent, seat).name
        s.commit()
    auth.login("agent")
    html = client.get("/agent/").get_data(as_text=True)
    assert "Your current call showed <span class=\"mono\">+13125550101</span>" in html
    assert "Caller ID shown as spam</button>" in html
    r = auth.post("/agent/callerid/flag", page="/agent/", follow_redirects=True)
    assert "Thanks: caller ID +13125550101 flagged as spam." in r.get_data(as_text=True)
    auth.post("/agent/disposition", {"code": "SALE", "then": "ready"}, page="/agent/")
    html = client.get("/agent/").get_data(as_text=True)
    assert "Your last call showed" in html  # after the call, the flag is still at hand
    auth.post("/agent/callerid/flag", page="/agent/")
    with sessions() as s:
        flags = s.query(callerid.CallerIdFlag).all()
        assert [(f.flagged_by, f.reason) for f in flags] == [(name, "shown as spam (agent)")] * 2
        retired = {n.number: n.active for n in callerid.pool(s, pool["id"])}
        assert retired == {"+13125550100": True, "+13125550101": False}  # threshold 2


def test_an_agent_without_a_call_or_a_pool_number_is_told(client, auth, pool, sessions, clock):
    auth.login("agent")
    r = auth.post("/agent/callerid/flag", page="/agent/", follow_redirects=True)
    assert "There is no call whose caller ID could be flagged." in r.get_data(as_text=True)
    seat = agent_id(sessions)
    with sessions() as s:
        call = Call(campaign_id=pool["id"], phone="+13125550300", attempt=1, caller_id="+12125550100",
                    agent_id=seat, placed_at=clock.now(), connected_at=clock.now(), status="completed")
        s.add(call)
        s.commit()
    assert 'id="caller-id"' not in client.get("/agent/").get_data(as_text=True)  # not a pool number: no button
    # (posted by hand, naming the call as a button would: web.seat_call)
    r = auth.post("/agent/callerid/flag", {"call": str(call.id)}, page="/agent/", follow_redirects=True)
    assert "+12125550100 is not in the caller-ID pool of campaign &#39;Spring&#39;." in r.get_data(as_text=True)


def test_the_pools_answer_rate_is_the_reports_answer_rate(client, auth, sessions, clock, seed_users):
    """The glossary's answer rate is live answers ÷ dials (a live answer: completed or abandoned, or with an agent
    now), and the caller-ID page must read the same calls the same way. One number, eight dials this morning:
    two completed, an abandon, an imported abandon (no answer time recorded), a machine an agent heard before
    detection decided (no AMD verdict stored), a person answered and waiting for an agent, two no answers.
    Live answers 4 of 8 = 50.0 %; counting "answered and not by a machine" said 5 of 8 = 62.5 %."""
    from campaigns.reports.catalog import run_report

    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Rate", "+12125550100", t - timedelta(days=1))
        callerid.add_number(s, c, "+13125550100", t)
        kinds = [("completed", True, True, "human"), ("completed", True, True, "human"),
                 ("abandoned", True, False, "human"), ("abandoned", False, False, None),
                 ("machine", True, True, None), (None, True, False, "human"),
                 ("no_answer", False, False, None), ("no_answer", False, False, None)]
        for i, (outcome, answered, connected, by) in enumerate(kinds):
            placed = t - timedelta(minutes=30 + i)
            s.add(Call(campaign_id=c.id, phone=f"+1312555030{i}", attempt=1, caller_id="+13125550100",
                       placed_at=placed, answered_at=placed + timedelta(seconds=5) if answered else None,
                       answered_by=by, connected_at=placed + timedelta(seconds=6) if connected else None,
                       ended_at=None if outcome is None else placed + timedelta(seconds=40), outcome=outcome,
                       status="completed" if outcome else "answered"))
        s.commit()
        report = run_report(s, "hit-rate", "Rate", t, t.date(), t.date(), "campaign").rows[0]
        s.commit()
        health = {h.number: h for h in callerid.health(s, c, t, write=False)}["+13125550100"]
    assert (report["dials"], report["live_answers"], report["answer_rate"]) == (8, 4, 0.5)
    assert (health.dials_7d, health.answered_7d, health.answer_rate_7d) == (8, 4, 0.5), \
        "the caller-ID answer rate must count live answers as the reports do"
    auth.login("manager")
    html = client.get(f"/campaigns/{c.id}/callerid/").get_data(as_text=True)
    assert re.findall(r'<td class="num">([^<]+)', row(html, "+13125550100"))[1:3] == ["8", "50.0 %"]
