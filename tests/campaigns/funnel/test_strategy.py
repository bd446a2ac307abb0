"""Lead strategy in the claim: priority and hot leads, the four orders, one new lead in N, re-call gap and daily
caps as holds (not attempts), the next phone after N failures, and retries that rotate the time of day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from campaigns.campaign.dial_settings import update
from campaigns.campaign.service import create_campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.leads.hot import make_hot
from campaigns.leads.models import Lead
from campaigns.leads.phones import attach, phones_of


def claim_ids(session, campaign, n, at):
    return [c.lead_id for c in dispatch.claim(session, campaign, n, at)]


def end_all(session, at, reason="no_answer"):
    for call in session.scalars(select(Call).where(Call.ended_at.is_(None))).all():
        dispatch.end(session, call.id, reason, at)


def test_orders_and_hot_leads(session, leads, campaign, clock):
    now = clock.now()
    made = [leads.add(f"+1212555{1000 + i:04d}") for i in range(5)]
    for i, lead in enumerate(made):  # loaded over five days; due (retried) in the opposite order
        lead.created_at = now - timedelta(days=5 - i)
        lead.status, lead.next_attempt_at = "retry", now - timedelta(minutes=10 + i)
    ids = [x.id for x in made]
    session.flush()
    assert claim_ids(session, campaign, 5, now) == ids[::-1]  # "due": longest waiting since it came due
    end_all(session, now)
    for lead in made:
        lead.status, lead.next_attempt_at = "retry", now
    update(session, campaign, now, lead_order="oldest")
    assert claim_ids(session, campaign, 5, now) == ids
    end_all(session, now)
    for lead in made:
        lead.status, lead.next_attempt_at = "retry", now
    update(session, campaign, now, lead_order="newest")
    hot = make_hot(session, campaign, now, lead_id=ids[2])
    assert hot.priority == 11 and not hot.created
    assert claim_ids(session, campaign, 5, now) == [ids[2], ids[4], ids[3], ids[1], ids[0]]


def test_follow_the_sun_works_the_zone_that_closes_first(session, leads, campaign, clock):
    now = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # 12:00 New York, 09:00 Los Angeles: every zone is open
    west = leads.add("+14155551000")
    mountain = leads.add("+13035551000")
    central = leads.add("+13125551000")
    east = leads.add("+12125551000")
    update(session, campaign, now, lead_order="follow_sun")
    assert claim_ids(session, campaign, 4, now) == [east.id, central.id, mountain.id, west.id]


def test_one_new_lead_in_three_between_retries(session, leads, campaign, clock):
    now = clock.now()
    fresh = {leads.add(f"+1212555{1000 + i:04d}").id for i in range(10)}
    for i in range(10):
        leads.add(f"+1212555{2000 + i:04d}", status="retry", attempts=1, next_attempt_at=now - timedelta(hours=1))
    update(session, campaign, now, new_lead_every=3)
    got = claim_ids(session, campaign, 9, now)
    assert ["N" if x in fresh else "R" for x in got] == list("RRNRRNRRN")
    got = claim_ids(session, campaign, 4, now)  # the position carries over to the next claim
    assert ["N" if x in fresh else "R" for x in got] == list("RRNR")
    end_all(session, now)


def test_gap_and_daily_caps_hold_leads_without_counting_an_attempt(session, leads, campaign, clock):
    now = clock.now()  # Tuesday 10:00 New York
    update(session, campaign, now, min_recall_gap_s=3600, lead_daily_cap=2, phone_daily_cap=3)
    recent = leads.add("+12125551001", status="retry", attempts=1, next_attempt_at=now,
                       last_called_at=now - timedelta(minutes=10))
    capped = leads.add("+12125551002", status="retry", attempts=2, next_attempt_at=now,
                       last_called_at=now - timedelta(hours=2))
    twin = leads.add("+12125551003", status="retry", attempts=1, next_attempt_at=now)
    other = leads.add("+12125551003")  # the same number on another lead: the number's own count
    free = leads.add("+12125551004")
    for k in (5, 3):
        session.add(Call(campaign_id=campaign.id, lead_id=capped.id, phone=capped.phone,
                         placed_at=now - timedelta(hours=k), ended_at=now - timedelta(hours=k, seconds=-30),
                         outcome="no_answer"))
    for k in (5, 4, 3):
        session.add(Call(campaign_id=campaign.id, lead_id=other.id, phone=twin.phone,
                         placed_at=now - timedelta(hours=k), ended_at=now - timedelta(hours=k, seconds=-30),
                         outcome="busy"))
    session.flush()
    assert claim_ids(session, campaign, 5, now) == [free.id]
    midnight = datetime(2030, 1, 9, 5, 0, tzinfo=UTC)  # the campaign's next midnight (New York)
    assert (recent.status, recent.attempts, recent.next_attempt_at) == ("retry", 1, now + timedelta(minutes=50))
    assert (capped.attempts, capped.next_attempt_at) == (2, midnight)
    assert (twin.next_attempt_at, other.next_attempt_at) == (midnight, midnight)
    assert claim_ids(session, campaign, 5, now + timedelta(minutes=50)) == [recent.id]
    end_all(session, now + timedelta(minutes=51))


def test_the_next_phone_after_n_failures_and_at_once_for_an_invalid_number(session, leads, campaign, clock):
    now = clock.now()
    campaign.retry_no_answer_s = campaign.retry_busy_s = 0
    update(session, campaign, now, phone_switch_after=2)
    lead = leads.add("+12125551001")
    r = attach(session, campaign, [(lead, ["(312) 555-1002", "not a number", "+12125551001"])], now, "test")
    assert (r.attached, r.already, len(r.invalid)) == (1, 1, 1)
    assert [p.phone for p in phones_of(session, lead.id)] == ["+12125551001", "+13125551002"]
    t = now
    for _ in range(2):
        assert claim_ids(session, campaign, 1, t) == [lead.id]
        t += timedelta(minutes=1)
        end_all(session, t)
    assert lead.phone == "+13125551002" and lead.timezones == "America/Chicago"
    assert [p.failures for p in phones_of(session, lead.id)] == [2, 0]
    # a number the carrier refuses twice is invalid: with another phone left the lead moves on, not "done"
    other = leads.add("+12125551005")
    attach(session, campaign, [(other, ["+12125551006"])], now, "test")
    for _ in range(2):
        assert other.id in claim_ids(session, campaign, 5, t)
        t += timedelta(minutes=1)
        end_all(session, t, "failed")
    assert (other.status, other.phone) == ("retry", "+12125551006")


def test_retries_wait_longer_each_time_so_the_hour_rotates(session, leads, campaign, clock):
    now = clock.now()
    campaign.retry_no_answer_s, campaign.max_attempts = 27 * 3600, 9
    update(session, campaign, now, retry_shift_s=2 * 3600)
    lead = leads.add("+12125551001")
    t, waits = now, []
    for _ in range(3):
        assert claim_ids(session, campaign, 1, t) == [lead.id]
        end_all(session, t)
        waits.append((lead.next_attempt_at - t) / timedelta(hours=1))
        t = lead.next_attempt_at
    assert waits == [27, 29, 31]


def test_a_hot_lead_that_is_new_to_the_campaign_is_scrubbed_and_inserted(session, campaign, clock):
    from dnc import internal

    now = clock.now()
    other = create_campaign(session, "Other", "+12125550100", now)
    internal.add_request(session, "+12125559999", channel="web", received_at=now, added_by="t")
    ok = make_hot(session, campaign, now, phone="(212) 555-0001", first_name="Ann", state="ny", postal_code="10001")
    bad = make_hot(session, other, now, phone="+12125559999")
    assert (ok.created, ok.status, ok.priority) == (True, "new", 11)
    assert (bad.status, bad.suppression) == ("suppressed", "internal_dnc: On the internal do-not-call list")
    lead = session.get(Lead, ok.lead_id)
    assert (lead.state, lead.timezones, lead.next_attempt_at) == ("NY", "America/New_York", now)
    assert dispatch.claim(session, campaign, 5, now)[0].lead_id == ok.lead_id
