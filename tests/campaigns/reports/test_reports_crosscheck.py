"""Every path that shows a figure agrees with the calls that made it, on a floor counted by hand.

Campaign "Cross" in New York; "now" is Tue 12 March 2030 10:00 EDT. US summer time began on Sun 10 March at
02:00 (02:00-03:00 local does not exist that day). Local dates and times:

  #  lead list  placed             what                                            agent
  0  z0   L1    Sun 10 Feb 12:00    abandoned (30 days ago: in [now - 30 d, now), not in the 30 local days)
  1  a0   L1    Sat  9 Mar 23:30    CALLBK (first contact, UTC date is already the 10th)   ann
  2  a1   L1    Sun 10 Mar 01:30    SALE on the first contact (EST)                        bob
  3  a2   L1    Sun 10 Mar 03:30    machine, heard by an agent (EDT)                        ann
  4  a3   L1    Sun 10 Mar 03:40    abandoned (safe-harbor message)
  5  a4   L2    Sun 10 Mar 23:59:59 abandoned although "connected" (a bridge that never joined)  bob
  6  a0   L1    Mon 11 Mar 09:00    SALE on attempt 2 (a callback: a close, not a first-call close)  bob
  7  a5   L2    Mon 11 Mar 10:00    SALE on the first contact                               ann
  8-10 a6-a8 L2 Mon 11 Mar 11:0x    no answer
  11 a9   L1    Tue 12 Mar 09:59    in flight, talking to ann (no outcome yet)             ann
  12 a6   L2    Tue 12 Mar 09:58    in flight, ringing (attempt 2)

Every lead belongs to list L1 now (a4, a5, a6-a8 were dialed from L2 and moved since).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.floor.view import floor
from campaigns.leads.models import Lead
from campaigns.reports.catalog import run_report
from campaigns.reports.history import abandon_history
from tests.campaigns.reports.support import add_call, add_lead, add_list

NY = ZoneInfo("America/New_York")
RANGE = ("2030-03-09", "2030-03-12")


def at(month: int, day: int, hms: str) -> datetime:
    h, mi, s = (int(x) for x in hms.split(":"))
    return datetime(2030, month, day, h, mi, s, tzinfo=NY).astimezone(UTC)


NOW = at(3, 12, "10:00:00")


@pytest.fixture
def cross(sessions) -> dict:
    with sessions.begin() as s:
        return build_cross(s)


def build_cross(s) -> dict:
    """The floor of the table above; returns the campaign's id and the id of call 7 (a5's sale)."""
    cid = create_campaign(s, "Cross", "+12125550100", NOW - timedelta(days=90)).id
    l1, l2 = add_list(s, cid, "L1"), add_list(s, cid, "L2")
    ann, bob = Agent(name="ann", campaign_id=cid), Agent(name="bob", campaign_id=cid)
    s.add_all([ann, bob])
    s.flush()
    z0 = add_lead(s, cid, l1.id, "+12125559000")
    a = [add_lead(s, cid, l1.id, f"+1212555{i:04d}") for i in range(10)]

    def talk(lead, list_id, attempt, placed, agent, dispo, secs=60):
        return add_call(s, cid, lead, list_id, attempt, placed, outcome="completed",
                        connected=placed + timedelta(seconds=5), agent_id=agent.id,
                        ended=placed + timedelta(seconds=5 + secs), dispo=dispo,
                        dispo_at=placed + timedelta(seconds=10 + secs))

    add_call(s, cid, z0, l1.id, 1, at(2, 10, "12:00:00"), outcome="abandoned",
             answered=at(2, 10, "12:00:05"), ended=at(2, 10, "12:00:09"))
    talk(a[0], l1.id, 1, at(3, 9, "23:30:00"), ann, "CALLBK")
    talk(a[1], l1.id, 1, at(3, 10, "01:30:00"), bob, "SALE")
    add_call(s, cid, a[2], l1.id, 1, at(3, 10, "03:30:00"), outcome="machine", answered=at(3, 10, "03:30:04"),
             connected=at(3, 10, "03:30:05"), agent_id=ann.id, ended=at(3, 10, "03:30:15"))
    add_call(s, cid, a[3], l1.id, 1, at(3, 10, "03:40:00"), outcome="abandoned", answered=at(3, 10, "03:40:04"),
             ended=at(3, 10, "03:40:15"))
    add_call(s, cid, a[4], l2.id, 1, at(3, 10, "23:59:59"), outcome="abandoned",
             answered=at(3, 10, "23:59:59"), connected=at(3, 11, "00:00:01"), agent_id=bob.id,
             ended=at(3, 11, "00:00:30"))
    talk(a[0], l1.id, 2, at(3, 11, "09:00:00"), bob, "SALE", 120)
    late = talk(a[5], l2.id, 1, at(3, 11, "10:00:00"), ann, "SALE")
    for i in range(3):
        add_call(s, cid, a[6 + i], l2.id, 1, at(3, 11, f"11:0{i}:00"), outcome="no_answer",
                 ended=at(3, 11, f"11:0{i}:30"))
    add_call(s, cid, a[9], l1.id, 1, at(3, 12, "09:59:00"), outcome=None, connected=at(3, 12, "09:59:05"),
             agent_id=ann.id)
    add_call(s, cid, a[6], l2.id, 2, at(3, 12, "09:58:00"), outcome=None)
    return {"campaign_id": cid, "late_sale": late.id}


def run(sessions, name, by=None, first=RANGE[0], last=RANGE[1], now=NOW):
    with sessions.begin() as s:
        return run_report(s, name, "Cross", now, first, last, by)


def rows_by(report, key):
    return {r[key]: r for r in report.rows}


def test_hit_rate_days_are_local_across_midnight_and_dst(cross, sessions):
    days = rows_by(run(sessions, "hit-rate", "day"), "day")
    assert {d: (r["dials"], r["live_answers"], r["contacts"]) for d, r in days.items()} == {
        "2030-03-09": (1, 1, 1), "2030-03-10": (4, 3, 1), "2030-03-11": (5, 2, 2), "2030-03-12": (2, 1, 1)}
    hours = rows_by(run(sessions, "hit-rate", "hour"), "hour")
    assert (hours["01:00"]["dials"], hours["03:00"]["dials"], hours["23:00"]["dials"]) == (1, 2, 2)
    total = run(sessions, "hit-rate", "list").total
    assert (total["dials"], total["contacts"], total["hit_rate"]) == (12, 5, pytest.approx(5 / 12))


def test_first_call_close_counts_no_retry_and_follows_a_changed_disposition(cross, sessions):
    s = run(sessions, "summary").payload()
    assert (s["first_contacts"], s["first_contact_closes"], s["closes"]) == (4, 2, 3)  # a0 closed on attempt 2
    by_agent = rows_by(run(sessions, "first-call-close", "agent"), "agent")
    assert (by_agent["ann"]["first_contacts"], by_agent["ann"]["first_contact_closes"]) == (3, 1)
    assert (by_agent["bob"]["first_contacts"], by_agent["bob"]["first_contact_closes"]) == (1, 1)
    with sessions.begin() as ss:
        ss.get(Call, cross["late_sale"]).disposition_code = "NI"  # the sale of a5 was no sale after all
    s = run(sessions, "summary").payload()
    assert (s["contacts"], s["closes"], s["first_contact_closes"]) == (5, 2, 1)
    lc = rows_by(run(sessions, "list-close"), "list")
    assert (lc["L1"]["closed"], lc["L1"]["reached_not_closed"], lc["L1"]["never_reached"]) == (2, 2, 7)


def test_abandons_per_day_and_list(cross, sessions):
    days = rows_by(run(sessions, "abandon"), "day")
    assert (days["2030-03-10"]["live_answers"], days["2030-03-10"]["abandoned"]) == (3, 2)
    lists = rows_by(run(sessions, "outcomes", "list"), "list")
    assert (lists["L1"]["dials"], lists["L1"]["abandoned"], lists["L1"]["machines"]) == (6, 1, 1)
    assert (lists["L2"]["dials"], lists["L2"]["abandoned"], lists["L2"]["no_answers"]) == (6, 1, 3)


def test_the_floors_30_day_abandon_rate_is_the_one_the_pacer_and_compliance_read(cross, sessions):
    """The floor's 30-day tile (and its warning) must show what the abandon guard, the compliance page and the
    pacer read: the calls placed in [now - 30 days, now) = [Sun 10 Feb 09:00 EST, now). Call 0 (10 Feb 12:00) is in
    it: live answers 0, 1, 2, 4, 5, 6, 7, 11 = 8 (the machine 3 and the ringing 12 are not), abandoned 0, 4, 5 = 3.
    The floor showed 2 of 7 (28.6 %): the 30 local days from 11 Feb 00:00, which leave call 0 out."""
    cid = cross["campaign_id"]
    with sessions.begin() as s:
        assert abandon_history(s, cid, NOW, absorb=False) == (8, 3)
        assert abandon_history(s, cid, NOW) == (8, 3)
    with sessions.begin() as s:
        today = floor(s, s.get(Campaign, cid), NOW).today
    assert (today["live_answers_30d"], today["abandoned_30d"]) == (8, 3), \
        f"floor 30-day abandon: expected 3 of 8, reported {today['abandoned_30d']} of {today['live_answers_30d']}"
    assert today["abandon_rate_30d"] == pytest.approx(3 / 8)
    summary = run(sessions, "summary", first="2030-03-12", last="2030-03-12").payload()
    assert (summary["live_answers_30d"], summary["abandoned_30d"]) == (8, 3)


def test_rollups_plus_raw_calls_equal_a_full_count(cross, sessions):
    """After a report absorbed everything, new calls and late changes wait in the change log: the pacer's read
    (absorb=False: rollups for clean hours, the calls for dirty ones) and a report (absorbs first) agree."""
    cid = cross["campaign_id"]
    run(sessions, "summary")  # everything absorbed
    with sessions.begin() as s:
        lead = s.get(Lead, s.get(Call, cross["late_sale"]).lead_id)
        add_call(s, cid, lead, lead.list_id, 2, at(3, 12, "09:30:00"), outcome="abandoned",
                 answered=at(3, 12, "09:30:04"), ended=at(3, 12, "09:30:10"))
        late = s.scalars(select(Call).where(Call.campaign_id == cid, Call.outcome == "no_answer")
                         .order_by(Call.id)).first()
        late.outcome, late.answered_at, late.ended_at = "abandoned", late.placed_at, late.placed_at
    with sessions.begin() as s:
        assert abandon_history(s, cid, NOW, absorb=False) == (10, 5)
    with sessions.begin() as s:
        assert abandon_history(s, cid, NOW) == (10, 5)
    days = rows_by(run(sessions, "abandon"), "day")
    assert (days["2030-03-11"]["abandoned"], days["2030-03-12"]["abandoned"]) == (1, 1)
    assert (days["2030-03-12"]["live_answers_30d"], days["2030-03-12"]["abandoned_30d"]) == (10, 5)


def test_an_abandoned_call_is_no_call_taken(cross, sessions):
    """Call 5 was "connected" to bob by a worker that died before the carrier joined them: it is abandoned (no agent
    took the person within 2 seconds), so it is not one of bob's calls taken, and its 29 s are not his talk time.
    Bob took calls 2 (60 s talk, 5 s wrap) and 6 (120 s, 5 s); ann took 1 and 7 (60 s, 5 s each) and heard the
    machine 3 (10 s, no wrap)."""
    agents = rows_by(run(sessions, "agent-time", "agent"), "agent")
    bob = agents["bob"]
    assert bob["handled"] == 2, f"bob's calls taken: expected 2, reported {bob['handled']}"
    assert bob["aht_seconds"] == pytest.approx((180 + 10) / 2)
    assert (agents["ann"]["handled"], agents["ann"]["aht_seconds"]) == (3, pytest.approx((130 + 10) / 3))
    s = run(sessions, "summary").payload()
    assert (s["handled"], s["abandoned"]) == (5, 2)


def test_a_lead_moved_after_its_calls_moves_its_outcome_not_its_dials(cross, sessions):
    """a5 (dialed from L2, closed on its first contact Mon 11) is moved from L1 to L2 after a report absorbed it:
    list close follows the lead (L2: 1 prospect, closed), the dials and first contacts stay where they were made."""
    before = rows_by(run(sessions, "first-call-close", "day"), "day")
    assert {d: (r["first_contacts"], r["first_contact_closes"]) for d, r in before.items()} == {
        "2030-03-09": (1, 0), "2030-03-10": (1, 1), "2030-03-11": (1, 1), "2030-03-12": (1, 0)}
    with sessions.begin() as s:
        lead = s.get(Lead, s.get(Call, cross["late_sale"]).lead_id)
        lead.list_id = next(i for i, in s.execute(select(Call.list_id).where(Call.id == cross["late_sale"])))
    lc = rows_by(run(sessions, "list-close"), "list")
    assert (lc["L1"]["prospects"], lc["L1"]["closed"], lc["L2"]["prospects"], lc["L2"]["closed"]) == (10, 2, 1, 1)
    board = rows_by(run(sessions, "list-leaderboard"), "list")
    assert (board["L2"]["dials"], board["L2"]["contacts"], board["L2"]["closes"]) == (6, 1, 1)
    fcc = rows_by(run(sessions, "first-call-close", "list"), "list")
    assert (fcc["L1"]["first_contacts"], fcc["L2"]["first_contacts"], fcc["L2"]["first_contact_closes"]) == (3, 1, 1)


def test_an_agent_on_two_campaigns_splits_her_time_and_calls(cross, sessions):
    """ann is on Cross 08:00-09:00 (ready) and on "Other" from 09:00 (ready until 09:30, talking until 09:31, then
    ready, still open at now = 10:00) on Tue 12 March: each campaign gets its own hours and calls."""
    with sessions.begin() as s:
        other = create_campaign(s, "Other", "+12125550111", NOW - timedelta(days=90)).id
        ann = s.scalars(select(Agent).where(Agent.name == "ann")).one()
        lst = add_list(s, other, "O1")
        lead = add_lead(s, other, lst.id, "+12125558000")
        add_call(s, other, lead, lst.id, 1, at(3, 12, "09:29:55"), outcome="completed",
                 connected=at(3, 12, "09:30:00"), agent_id=ann.id, ended=at(3, 12, "09:31:00"), dispo="SALE",
                 dispo_at=at(3, 12, "09:31:00"))
        for hms, state, cid in [("08:00:00", "ready", cross["campaign_id"]), ("09:00:00", "ready", other),
                                ("09:30:00", "talking", other), ("09:31:00", "ready", other)]:
            s.add(AgentStateEvent(agent_id=ann.id, campaign_id=cid, state=state, at=at(3, 12, hms)))
    mine = rows_by(run(sessions, "agent-time", "agent", first="2030-03-12", last="2030-03-12"), "agent")["ann"]
    assert mine["agent_hours"] == pytest.approx(1.0)
    theirs = rows_by(with_campaign(sessions, "Other", "agent-time"), "agent")["ann"]
    assert (theirs["handled"], theirs["agent_hours"]) == (1, pytest.approx(1.0))
    assert theirs["occupancy"] == pytest.approx(60 / 3600)


def with_campaign(sessions, name, report):
    with sessions.begin() as s:
        return run_report(s, report, name, NOW, "2030-03-12", "2030-03-12", "agent")


def test_the_abandon_reports_row_for_today_reads_what_the_compliance_page_links_from(cross, sessions):
    """The compliance page's 30-day rate (3 of 8: [now - 30 days, now)) links to the abandon report "per day"; that
    report's row for today, "the rolling 30 days ending with it", must read the same while today is still going on.
    Finished days keep the 30 local days ending with them (Mon 11: from Sun 10 Feb, calls 0-7: 7 live answers, 3
    abandoned)."""
    days = rows_by(run(sessions, "abandon"), "day")
    today = days["2030-03-12"]
    assert (today["live_answers_30d"], today["abandoned_30d"]) == (8, 3), \
        f"today's rolling 30 days: expected 3 of 8, reported {today['abandoned_30d']} of {today['live_answers_30d']}"
    assert (days["2030-03-11"]["live_answers_30d"], days["2030-03-11"]["abandoned_30d"]) == (7, 3)


def test_the_cli_json_says_what_the_service_says(cross, sessions, dialer):
    """`dialer report … --json --at now` on the same floor: the summary (incl. the live 30-day reading) and the
    hit rate by list."""
    at_now = NOW.isoformat()
    r = dialer("report", "summary", "--campaign", "Cross", "--from", RANGE[0], "--to", RANGE[1], "--at", at_now,
               "--json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert (obj["dials"], obj["contacts"], obj["closes"], obj["first_contacts"], obj["handled"]) == (12, 5, 3, 4, 5)
    assert (obj["live_answers_30d"], obj["abandoned_30d"]) == (8, 3)
    r = dialer("report", "hit-rate", "--campaign", "Cross", "--from", RANGE[0], "--to", RANGE[1], "--at", at_now,
               "--by", "list", "--format", "json")
    assert r.code == 0, r.err
    lists = {row["list"]: row for row in json.loads(r.out)}
    assert (lists["L1"]["dials"], lists["L1"]["contacts"], lists["L2"]["dials"], lists["L2"]["contacts"]) == \
        (6, 4, 6, 1)
