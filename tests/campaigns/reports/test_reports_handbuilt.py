"""Every report on the hand-built call log of conftest.py, against answers worked out by hand.

The twelve calls (local dates, New York):
  1 a1 #1 Jan 7  alice 120 s talk + 30 s wrap  SALE        7 a4 #1 list A   machine
  2 a2 #1        no answer                                 8 a4 #2 list B   alice 15 + 5  DNC   (a4 moved A -> B)
  3 a2 #2        bob 60 + 20   CALLBK                      9 b1 #1          busy
  4 a2 #3 Jan 8  alice 200 + 40  SALE (callback closes)   10 b2 #1          bob 10 + 5  WRONG (not a contact)
  5 a3 #1        abandoned                                11 b2 #2          failed
  6 a3 #2        bob 30 + 10  NI (contact after abandon)  12 b1 #2          abandoned, pressed 9
"""

from __future__ import annotations

import pytest

from campaigns.reports import metrics as m
from campaigns.reports.catalog import run_report

RANGE = ("2030-01-07", "2030-01-08")

READY = 21430 + 1560 + 17865  # alice Jan 7, alice Jan 8 (open "ready" until now = 10:00), bob Jan 7
TALK, WRAP, PAUSED = 435, 110, 3600


def report(sessions, clock, name, by=None, first=RANGE[0], last=RANGE[1]):
    with sessions.begin() as s:
        return run_report(s, name, "Acme", clock.now(), first, last, by)


def test_summary(floor, sessions, clock):
    r = report(sessions, clock, "summary").payload()
    assert (r["dials"], r["live_answers"], r["contacts"], r["abandoned"]) == (12, 8, 5, 2)
    assert (r["machines"], r["no_answers"], r["busies"], r["failures"]) == (1, 1, 1, 1)
    assert (r["closes"], r["callbacks"], r["dnc_requests"], r["keypress_optouts"], r["completed"]) == (2, 1, 2, 1, 3)
    assert r["hit_rate"] == pytest.approx(5 / 12)
    assert r["abandon_rate"] == pytest.approx(2 / 8)
    assert r["abandon_rate_30d"] == pytest.approx(2 / 8)
    assert r["first_call_close"] == pytest.approx(1 / 4)  # a1 closed on its first contact; a2, a3, a4 did not
    assert r["conversion"] == pytest.approx(2 / 5)
    assert r["handled"] == 6
    assert r["aht_seconds"] == pytest.approx((TALK + WRAP) / 6)
    assert r["talk_seconds"] == pytest.approx(TALK / 6)
    assert r["wrap_seconds"] == pytest.approx(WRAP / 6)
    assert r["occupancy"] == pytest.approx((TALK + WRAP) / (READY + TALK + WRAP))
    assert r["agent_wait_seconds"] == pytest.approx(READY / 6)
    assert r["agent_hours"] == pytest.approx((READY + TALK + WRAP + PAUSED) / 3600)
    assert r["dials_per_agent_hour"] == pytest.approx(12 / ((READY + TALK + WRAP + PAUSED) / 3600))
    assert r["dnc_request_rate"] == pytest.approx(2 / 5)
    assert r["completion_rate"] == pytest.approx(3 / 5)
    assert (r["leads"], r["final_leads"]) == (7, 6)
    assert r["penetration"] == pytest.approx(6 / 7)


def test_no_dials_is_null_never_an_error(floor, sessions, clock):
    r = report(sessions, clock, "summary", first="2030-01-01", last="2030-01-03").payload()
    assert r["dials"] == 0
    for key in ("hit_rate", "abandon_rate", "first_call_close", "aht_seconds", "occupancy", "conversion",
                "abandon_rate_30d"):
        assert r[key] is None, key
    rows = report(sessions, clock, "hit-rate", first="2030-01-01", last="2030-01-03").payload()
    assert rows == []  # days without any activity are not listed as rows of zeros


def test_hit_rate_by_day_and_list(floor, sessions, clock):
    rows = report(sessions, clock, "hit-rate").payload()
    assert [(r["day"], r["dials"], r["contacts"]) for r in rows] == [("2030-01-07", 11, 4), ("2030-01-08", 1, 1)]
    assert rows[0]["hit_rate"] == pytest.approx(4 / 11)
    by_list = {r["list"]: r for r in report(sessions, clock, "hit-rate", "list").payload()}
    # calls count for the list they were dialed from: a4's first call stays with A, its second with B
    assert (by_list["List A"]["dials"], by_list["List A"]["contacts"]) == (7, 4)
    assert (by_list["List B"]["dials"], by_list["List B"]["contacts"]) == (5, 1)


def test_hours_are_local(floor, sessions, clock):
    rows = {r["hour"]: r for r in report(sessions, clock, "outcomes", "hour").payload()}
    assert list(rows)[0] == "09:00" and list(rows)[-1] == "15:00"  # the hours with calls, and those between
    assert rows["09:00"]["dials"] == 7  # calls 1, 2, 4 (Jan 8), 5, 7, 9, 10
    assert rows["15:00"]["dials"] == 2
    assert rows["12:00"]["dials"] == 0 and "04:00" not in rows


def test_first_call_close_by_agent(floor, sessions, clock):
    rows = {r["agent"]: r for r in report(sessions, clock, "first-call-close", "agent").payload()}
    assert (rows["alice"]["first_contacts"], rows["alice"]["first_contact_closes"]) == (2, 1)  # a1 (closed), a4
    assert (rows["bob"]["first_contacts"], rows["bob"]["first_contact_closes"]) == (2, 0)  # a2, a3


def test_list_close_breakdown(floor, sessions, clock):
    rows = {r["list"]: r for r in report(sessions, clock, "list-close").payload()}
    a, b = rows["List A"], rows["List B"]
    # A keeps a1, a2, a3 and suppressed a5 (a4 moved to B); one invalid row, one duplicate
    assert (a["prospects"], a["invalid"], a["duplicate"], a["suppressed"]) == (5, 1, 1, 1)
    assert a["suppressed_by"] == {"national_dnc": 1}
    assert (a["never_reached"], a["reached_not_closed"], a["closed"]) == (0, 1, 2)
    assert a["close_rate"] == pytest.approx(2 / 5)
    assert a["penetration"] == pytest.approx(1.0)
    # B: b1 (busy, then opted out), b2 (wrong number: not reached), a4 (reached, DNC)
    assert (b["prospects"], b["never_reached"], b["reached_not_closed"], b["closed"]) == (3, 2, 1, 0)
    assert b["close_rate"] == 0
    assert b["penetration"] == pytest.approx(2 / 3)
    for r in rows.values():
        assert r["prospects"] == r["invalid"] + r["suppressed"] + r["never_reached"] + r["reached_not_closed"] \
            + r["closed"]


def test_pass_report(floor, sessions, clock):
    rows = {(r["list"], r["pass"]): r for r in report(sessions, clock, "pass").payload()}
    assert (rows["List A", "1"]["dials"], rows["List A", "1"]["contacts"], rows["List A", "1"]["closes"]) == (4, 1, 1)
    assert (rows["List A", "2"]["dials"], rows["List A", "2"]["contacts"], rows["List A", "2"]["closes"]) == (2, 2, 0)
    assert (rows["List A", "3"]["dials"], rows["List A", "3"]["closes"]) == (1, 1)  # the callback closes on #3
    life = rows["List A", "lifetime"]
    assert (life["dials"], life["contacts"], life["closes"]) == (7, 4, 2)
    assert life["conversion"] == pytest.approx(0.5)
    assert rows["List B", "1"]["contact_rate"] == 0
    assert rows["List B", "1"]["conversion"] is None
    assert (rows["List B", "2"]["dials"], rows["List B", "2"]["dnc_requests"]) == (3, 2)


def test_abandon_rolling_and_periods(floor, sessions, clock):
    rows = report(sessions, clock, "abandon").payload()
    assert rows[0]["abandon_rate"] == pytest.approx(2 / 7)  # Jan 7: 7 live answers, 2 abandoned
    assert rows[1]["abandon_rate"] == 0
    assert rows[1]["abandon_rate_30d"] == pytest.approx(2 / 8)
    periods = report(sessions, clock, "abandon-periods", first="2029-12-09", last="2030-01-08").payload()
    assert [(p["period_start"], p["days"], p["live_answers"]) for p in periods] == [
        ("2029-12-09", 30, 7), ("2030-01-08", 1, 1)]
    assert periods[0]["abandon_rate"] == pytest.approx(2 / 7)
    empty = report(sessions, clock, "abandon-periods", first="2029-11-01", last="2029-11-30").payload()
    assert empty[0]["abandon_rate"] is None


def test_agent_time(floor, sessions, clock):
    rows = {r["agent"]: r for r in report(sessions, clock, "agent-time").payload()}
    bob = rows["bob"]
    assert bob["handled"] == 3
    assert bob["aht_seconds"] == pytest.approx((100 + 35) / 3)
    assert bob["occupancy"] == pytest.approx(135 / (17865 + 135))
    assert bob["agent_wait_seconds"] == pytest.approx(17865 / 3)
    assert rows["alice"]["agent_hours"] == pytest.approx((21430 + 1560 + 335 + 75 + 3600) / 3600)


def test_dnc_completion_refusals(floor, sessions, clock):
    dnc = report(sessions, clock, "dnc", "campaign").payload()[0]
    assert (dnc["dnc_requests"], dnc["keypress_optouts"]) == (2, 1)
    done = report(sessions, clock, "completion", "campaign").payload()[0]
    assert (done["contacts"], done["completed"], done["refusals"]) == (5, 3, 2)  # NI and DNC refused
    refusals = {r["disposition"]: r["refusals"] for r in report(sessions, clock, "refusals").payload()}
    assert refusals == {"NI": 1, "DNC": 1}


def test_leaderboards(floor, sessions, clock):
    agents = report(sessions, clock, "agent-leaderboard").payload()
    assert [(a["rank"], a["agent"], a["closes"]) for a in agents] == [(1, "alice", 2), (2, "bob", 0)]
    assert agents[0]["conversion"] == pytest.approx(2 / 3)
    lists = report(sessions, clock, "list-leaderboard").payload()
    assert [x["list"] for x in lists] == ["List A", "List B"]


def test_glossary_covers_summary_rates(floor, sessions, clock):
    r = report(sessions, clock, "summary").payload()
    rates = set(m.FloorCounts().rates())
    assert rates <= set(r)
    assert rates <= set(m.GLOSSARY)
