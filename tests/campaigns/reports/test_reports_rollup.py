"""The rollups stay exact: absorbing the change log gives what a rebuild from the raw calls gives."""

from __future__ import annotations

from sqlalchemy import delete, func, select, update

from campaigns.agents.models import AgentStateEvent
from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from campaigns.reports.catalog import run_report
from campaigns.reports.models import AgentRollup, CallRollup, LeadCallStats, ReportChange, ReportState
from campaigns.reports.rollup import refresh
from campaigns.reports.sqlbits import shift_minutes
from tests.campaigns.reports.support import add_call, local

KEY = (CallRollup.grain, CallRollup.bucket, CallRollup.list_id, CallRollup.agent_id, CallRollup.attempt,
       CallRollup.disposition_code)


def snapshot(s, cid: int) -> dict:
    """The rollups' content, independent of row ids and of how rows were split."""
    calls = {tuple(r[:6]): (*r[6:12], round(float(r[12]), 3), round(float(r[13]), 3)) for r in s.execute(
        select(*KEY, func.sum(CallRollup.dials), func.sum(CallRollup.live_answers), func.sum(CallRollup.contacts),
               func.sum(CallRollup.abandoned), func.sum(CallRollup.closes), func.sum(CallRollup.dnc_requests),
               func.sum(CallRollup.talk_seconds), func.sum(CallRollup.wrap_seconds))
        .where(CallRollup.campaign_id == cid).group_by(*KEY))}
    leads = {r[0]: tuple(r[1:]) for r in s.execute(
        select(LeadCallStats.lead_id, LeadCallStats.list_id, LeadCallStats.dials, LeadCallStats.contacts,
               LeadCallStats.first_contact_at,
               LeadCallStats.first_contact_agent_id, LeadCallStats.first_contact_closed, LeadCallStats.first_close_at)
        .where(LeadCallStats.campaign_id == cid))}
    agents = {tuple(r[:2]): tuple(round(float(x), 3) for x in r[2:]) for r in s.execute(
        select(AgentRollup.agent_id, AgentRollup.bucket, func.sum(AgentRollup.ready_seconds),
               func.sum(AgentRollup.talking_seconds), func.sum(AgentRollup.wrap_seconds),
               func.sum(AgentRollup.paused_seconds))
        .where(AgentRollup.campaign_id == cid).group_by(AgentRollup.agent_id, AgentRollup.bucket))}
    return {"calls": calls, "leads": leads, "agents": agents}


def rebuilt(sessions, clock, cid: int) -> dict:
    with sessions.begin() as s:
        s.execute(update(ReportState).where(ReportState.campaign_id == cid).values(fingerprint="stale"))
    with sessions.begin() as s:
        assert refresh(s, s.get(Campaign, cid), clock.now()).rebuilt
        return snapshot(s, cid)


def test_changes_are_absorbed_exactly(floor, sessions, clock):
    cid = floor.campaign_id
    with sessions.begin() as s:
        assert refresh(s, s.get(Campaign, cid), clock.now()).rebuilt  # first refresh builds everything
        assert s.scalar(select(func.count()).select_from(ReportChange)) == 0
    with sessions.begin() as s:
        # a disposition corrected after the fact, a call moved to another day, a new call, a deleted call,
        # agent events arriving late and out of order
        s.execute(update(Call).where(Call.id == floor.calls[6]).values(disposition_code="SALE"))
        s.execute(update(Call).where(Call.id == floor.calls[2]).values(placed_at=local(8, "08:15:00")))
        lead = s.get(Lead, floor.leads["b2"])
        add_call(s, cid, lead, floor.lists["B"], 3, local(8, "09:45:00"), outcome="completed",
                 connected=local(8, "09:45:04"), agent_id=floor.agents["bob"], ended=local(8, "09:47:00"),
                 dispo="SALE", dispo_at=local(8, "09:47:30"))
        s.execute(delete(Call).where(Call.id == floor.calls[11]))
        s.execute(update(Lead).where(Lead.id == floor.leads["a1"]).values(list_id=floor.lists["B"]))
        s.add_all([AgentStateEvent(agent_id=floor.agents["bob"], campaign_id=cid, state="ready",
                                   at=local(8, "09:40:00")),
                   AgentStateEvent(agent_id=floor.agents["bob"], campaign_id=cid, state="paused",
                                   at=local(7, "12:00:00"))])
    with sessions.begin() as s:
        stats = refresh(s, s.get(Campaign, cid), clock.now())
        assert not stats.rebuilt and stats.buckets and stats.leads and stats.agents
        incremental = snapshot(s, cid)
    assert incremental == rebuilt(sessions, clock, cid)
    with sessions.begin() as s:
        r = run_report(s, "summary", "Acme", clock.now(), "2030-01-07", "2030-01-08").payload()
    assert (r["dials"], r["closes"], r["contacts"]) == (12, 4, 6)  # +1 call, -1 call; NI became a sale
    with sessions.begin() as s:
        lists = {x["list"]: x for x in run_report(s, "list-close", "Acme", clock.now()).payload()}
    assert (lists["List A"]["closed"], lists["List B"]["closed"]) == (2, 2)  # a1 (closed) moved from A to B


def test_changing_a_disposition_flag_rebuilds(floor, sessions, clock):
    with sessions.begin() as s:
        before = run_report(s, "summary", "Acme", clock.now(), "2030-01-07", "2030-01-08").payload()
    with sessions.begin() as s:
        s.execute(update(Disposition).where(Disposition.campaign_id == floor.campaign_id, Disposition.code == "WRONG")
                  .values(is_contact=True))
    with sessions.begin() as s:
        after = run_report(s, "summary", "Acme", clock.now(), "2030-01-07", "2030-01-08").payload()
    assert (before["contacts"], after["contacts"]) == (5, 6)


def test_zones_off_the_hour_bucket_on_local_hours(floor, sessions, clock):
    assert shift_minutes("Asia/Kolkata") == 30
    assert shift_minutes("Asia/Kathmandu") == 45
    assert shift_minutes("America/St_Johns") == 30
    with sessions.begin() as s:
        s.execute(update(Campaign).where(Campaign.id == floor.campaign_id).values(timezone="Asia/Kolkata"))
    with sessions.begin() as s:
        # 09:00 New York = 19:30 in Kolkata: the calls of that New York hour land in the 19:00 and 20:00 local hours
        rows = {r["hour"]: r["dials"] for r in run_report(s, "outcomes", "Acme", clock.now(), "2030-01-07",
                                                           "2030-01-09", "hour").payload()}
    assert rows["19:00"] == 6  # Jan 7 09:00 .. 09:08 New York = 19:30 .. 19:38 in Kolkata
    assert rows["20:00"] == 1  # Jan 8 09:30 New York = 20:00 in Kolkata
    assert sum(rows.values()) == 12


def test_two_refreshes_at_once_count_each_call_once(floor, sessions, clock):
    """Two report requests (or two workers) refreshing together: the second waits for the first's lock."""
    import threading

    cid = floor.campaign_id
    first = sessions()
    first.begin()
    assert refresh(first, first.get(Campaign, cid), clock.now()).rebuilt  # holds the campaign's lock, uncommitted
    done = []

    def second():
        with sessions.begin() as s:
            done.append(refresh(s, s.get(Campaign, cid), clock.now()))

    t = threading.Thread(target=second)
    t.start()
    first.commit()
    first.close()
    t.join(60)
    assert done and not done[0].rebuilt
    with sessions() as s:
        counted = snapshot(s, cid)
    assert counted == rebuilt(sessions, clock, cid)
    with sessions() as s:
        assert s.scalar(select(func.sum(CallRollup.dials)).where(CallRollup.campaign_id == cid,
                                                                 CallRollup.grain == 0)) == 12


def test_a_flag_edit_recounts_calls_but_keeps_agent_time(floor, sessions, clock):
    cid = floor.campaign_id
    with sessions.begin() as s:
        refresh(s, s.get(Campaign, cid), clock.now())
        before = snapshot(s, cid)["agents"]
        alice = select(AgentRollup.id).where(AgentRollup.agent_id == floor.agents["alice"])
        alice_rows = sorted(s.scalars(alice))
    with sessions.begin() as s:
        s.execute(update(Disposition).where(Disposition.campaign_id == cid, Disposition.code == "NI")
                  .values(is_close=True))
        s.add(AgentStateEvent(agent_id=floor.agents["bob"], campaign_id=cid, state="paused", at=local(7, "12:00:00")))
    with sessions.begin() as s:
        assert refresh(s, s.get(Campaign, cid), clock.now()).rebuilt
        assert sorted(s.scalars(alice)) == alice_rows  # agent time was not rebuilt: alice's rows are the same rows
        assert s.scalar(select(func.count()).select_from(ReportChange)) == 0
        after = snapshot(s, cid)
    assert after == rebuilt(sessions, clock, cid)
    assert after["agents"] != before  # bob's new event was absorbed, not dropped


def test_abandon_history_reads_unabsorbed_calls_without_writing(floor, sessions, clock):
    from campaigns.reports.history import abandon_history

    cid = floor.campaign_id
    with sessions() as s:
        assert abandon_history(s, cid, clock.now(), absorb=False) == (8, 2)  # never built: from the calls
        assert s.get(ReportState, cid) is None
    with sessions.begin() as s:
        refresh(s, s.get(Campaign, cid), clock.now())
    with sessions.begin() as s:
        add_call(s, cid, s.get(Lead, floor.leads["b2"]), floor.lists["B"], 3, local(8, "09:50:00"),
                 outcome="abandoned", answered=local(8, "09:50:05"), ended=local(8, "09:50:07"))
    with sessions() as s:
        pending = s.scalar(select(func.count()).select_from(ReportChange))
        assert pending > 0
        assert abandon_history(s, cid, clock.now(), absorb=False) == (9, 3)
        assert s.scalar(select(func.count()).select_from(ReportChange)) == pending  # nothing absorbed, no write
        assert abandon_history(s, cid, clock.now()) == (9, 3)
        assert s.scalar(select(func.count()).select_from(ReportChange)) == 0  # absorbed
