"""The campaign's own calling hours and days hold leads outside them (at the called party, in every candidate
zone); a disabled list is not dialed; the list mix dials lower-ranked lists first."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.campaign import dialing
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.hours import next_open


def test_next_open_reads_the_lead_local_time():
    tue_noon_ny = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # 12:00 New York, 09:00 Los Angeles
    assert next_open(["America/New_York"], "09:00-20:00", "12345", tue_noon_ny) is None
    opens = next_open(["America/Los_Angeles"], "10:00-20:00", "12345", tue_noon_ny)
    assert opens == datetime(2030, 1, 8, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
    sat = datetime(2030, 1, 12, 17, 0, tzinfo=UTC)
    assert next_open(["America/New_York"], "09:00-20:00", "12345", sat) == datetime(2030, 1, 14, 14, 0, tzinfo=UTC)
    both = next_open(["America/New_York", "America/Chicago"], "09:00-20:00", "1234567",
                     datetime(2030, 1, 8, 14, 30, tzinfo=UTC))  # 09:30 NY but 08:30 Chicago
    assert both == datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_the_claim_holds_leads_outside_the_campaign_hours(session, leads, campaign):
    now = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
    east = leads.add("+12125551000")
    west = leads.add("+14155551000")
    dialing.apply(session, campaign, {"calling_hours": "10:00-20:00"}, "m", now)
    claimed = [c.lead_id for c in dispatch.claim(session, campaign, 5, now)]
    assert claimed == [east.id]
    assert west.status == "new" and west.attempts == 0
    assert west.next_attempt_at.astimezone(UTC) == datetime(2030, 1, 8, 18, 0, tzinfo=UTC)


def test_disabled_lists_are_not_dialed_and_the_mix_orders_lists(session, leads, campaign):
    now = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
    first = leads.add("+12125551001")
    from campaigns.leads.models import LeadList

    other = LeadList(campaign_id=campaign.id, name="second", sha256="e" * 64, uploaded_at=now)
    session.add(other)
    session.flush()
    second = leads.add("+12125551002")
    second.list_id = other.id
    session.flush()
    leads.list.active = False
    assert [c.lead_id for c in dispatch.claim(session, campaign, 5, now)] == [second.id]
    dispatch.end(session, dispatch.live_calls(session, campaign.id)[0].id, "no_answer", now)
    second.status, second.next_attempt_at = "retry", now
    leads.list.active = True
    leads.list.mix_rank, other.mix_rank = 2, 1
    session.flush()
    assert [c.lead_id for c in dispatch.claim(session, campaign, 5, now)] == [second.id, first.id]


def test_the_funnel_counts_a_disabled_lists_waiting_leads_apart(session, leads, campaign, clock):
    from campaigns.funnel.service import funnel
    from campaigns.leads.models import LeadList

    other = LeadList(campaign_id=campaign.id, name="second", sha256="e" * 64, uploaded_at=clock.now())
    session.add(other)
    session.flush()
    leads.add("+12125551001")
    leads.add("+12125551002", status="exhausted")
    moved = leads.add("+12125551003")
    moved.list_id = other.id
    leads.list.active = False
    session.flush()
    f = funnel(session, campaign, clock.now())
    assert f.blocked.get("list_disabled") == 1  # the exhausted lead is final, not blocked
    assert f.final["exhausted"] == 1 and f.total == 3
    assert f.total == sum(f.final.values()) + f.dialing + sum(f.blocked.values()) + f.dialable


def test_the_planner_counts_no_lead_of_a_disabled_list_as_callable(session, leads, campaign, clock):
    from dialer.planner.inputs import measure

    for i in range(3):
        leads.add(f"+1212555{1100 + i}")
    assert measure(session, campaign.name, clock.now(), days=1).callable_leads == 3
    leads.list.active = False
    session.flush()
    assert measure(session, campaign.name, clock.now(), days=1).callable_leads == 0
