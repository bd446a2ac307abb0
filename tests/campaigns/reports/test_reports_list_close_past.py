"""A past range's list close says what the lists looked like at the range's end, from the call history, whatever
the leads became since: closing a lead afterwards must not change it.

The hand-built log of ``support.build_floor``, range Mon 7 January 2030 only (its end: Tue 8 January 00:00 New
York). At that moment list A held a1 (closed on the 7th), a2 (reached on the 7th, a callback: closed only on the
8th), a3 (done on the 7th: not interested) and a5 (suppressed at import): 3 of its 4 leads final. List B held a4
(DNC disposition on the 7th), b1 (press-9 opt-out on the 7th) and b2 (wrong number, then a failure: still to be
called): 2 of 3 final. Today a2 is closed too (6 of 7 final now); then b2 is closed on the 9th.
"""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.leads.models import Lead
from campaigns.reports.catalog import run_report
from tests.campaigns.reports.support import add_call, local

NOW = datetime(2030, 1, 9, 20, 0, tzinfo=UTC)


def _past(sessions) -> tuple[dict, dict]:
    with sessions.begin() as s:
        lists = {r["list"]: r for r in run_report(s, "list-close", "Acme", NOW, "2030-01-07", "2030-01-07").rows}
        summary = run_report(s, "summary", "Acme", NOW, "2030-01-07", "2030-01-07").rows[0]
    keys = ("prospects", "suppressed", "never_reached", "reached_not_closed", "closed", "leads", "final_leads",
            "penetration")
    return ({name: {k: r[k] for k in keys} for name, r in lists.items()},
            {k: summary[k] for k in ("leads", "final_leads", "penetration")})


def test_closing_a_lead_after_the_range_does_not_change_the_past_list_close(floor, sessions):
    before = _past(sessions)
    lists, summary = before
    assert (lists["List A"]["final_leads"], lists["List A"]["leads"]) == (3, 4), \
        "a2 was not closed yet at the end of the 7th: its status then, not its status now"
    assert (lists["List B"]["final_leads"], lists["List B"]["leads"]) == (2, 3)
    assert (summary["final_leads"], summary["leads"]) == (5, 7)
    with sessions.begin() as s:
        b2 = s.get(Lead, floor.leads["b2"])
        placed = local(9, "09:00:00")
        add_call(s, floor.campaign_id, b2, floor.lists["B"], 3, placed, outcome="completed",
                 connected=local(9, "09:00:05"), agent_id=floor.agents["bob"], ended=local(9, "09:02:00"),
                 dispo="SALE", dispo_at=local(9, "09:02:30"))
        b2.status, b2.attempts, b2.last_outcome, b2.updated_at = "closed", 3, "SALE", local(9, "09:02:30")
    assert _past(sessions) == before


def test_leads_added_after_the_range_are_not_in_the_past_list_close(floor, sessions):
    """A hot lead typed into List B on the 9th (and a second one already closed on its first call) did not exist at
    the end of the 7th: the past range's lists and summary must not count them, while today's do."""
    before = _past(sessions)
    with sessions.begin() as s:
        for phone, status in (("+12125550190", "new"), ("+12125550191", "closed")):
            s.add(Lead(campaign_id=floor.campaign_id, list_id=floor.lists["B"], phone=phone, status=status,
                       created_at=local(9, "10:00:00"), updated_at=local(9, "10:05:00")))
    assert _past(sessions) == before
    with sessions.begin() as s:
        today = {r["list"]: r for r in run_report(s, "list-close", "Acme", NOW, "2030-01-09", "2030-01-09").rows}
    assert today["List B"]["leads"] == 5


def test_a_list_reset_after_the_range_does_not_change_the_past_list_close(floor, sessions):
    """List A reset for another pass on the 9th brings a3 (not interested on the 7th) back to the queue: at the end of
    the 7th it was final all the same. Called again and closed not interested on the 9th, it is final now from a call
    after the range: still final then. b2, closed on the 9th and reset the same day, was not final then either."""
    from campaigns.campaign.models import Campaign
    from campaigns.leads.listadmin import reset
    from campaigns.leads.models import LeadList

    before = _past(sessions)
    with sessions.begin() as s:
        a3, b2 = s.get(Lead, floor.leads["a3"]), s.get(Lead, floor.leads["b2"])
        a3.last_outcome = "NI"
        add_call(s, floor.campaign_id, b2, floor.lists["B"], 3, local(9, "09:00:00"), outcome="completed",
                 connected=local(9, "09:00:05"), agent_id=floor.agents["bob"], ended=local(9, "09:01:00"),
                 dispo="NI", dispo_at=local(9, "09:01:10"))
        b2.status, b2.last_outcome, b2.updated_at = "done", "NI", local(9, "09:01:10")
        campaign = s.get(Campaign, floor.campaign_id)
        for key in ("A", "B"):
            assert reset(s, campaign, s.get(LeadList, floor.lists[key]), ["done:NI"], "manager",
                         local(9, "10:00:00")).total == 1
    assert _past(sessions) == before, "a list reset after the range moved the past list close"
    with sessions.begin() as s:
        a3 = s.get(Lead, floor.leads["a3"])
        add_call(s, floor.campaign_id, a3, floor.lists["A"], 1, local(9, "11:00:00"), outcome="completed",
                 connected=local(9, "11:00:05"), agent_id=floor.agents["alice"], ended=local(9, "11:01:00"),
                 dispo="NI", dispo_at=local(9, "11:01:10"))
        a3.status, a3.updated_at = "done", local(9, "11:01:10")
    assert _past(sessions) == before
