"""Callbacks that behave: a callback asked for 22:00 fires at the next morning's opening (in the lead's zone, under
its state's rules), a DNC request cancels it and lists it with the reason, a missed callback lands in the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from campaigns.callbacks import service as cb
from campaigns.campaign.service import create_campaign
from campaigns.compliance.dnc_requests import record_request
from campaigns.dispatch import service as dispatch
from dnc.errors import UserError
from dnc.gate import gate

NY = ZoneInfo("America/New_York")


def real_gate(store):
    def check(session, cand, now):
        return gate(session, cand.phone, campaign=cand.campaign_id, at=now, state=cand.state,
                    postal_code=cand.postal_code, zones=cand.zones or None, lead_ref=f"lead:{cand.lead_id}",
                    registry=store)
    return check


def test_a_callback_for_22_00_fires_at_the_next_mornings_opening(session, leads, campaign, registry, clock):
    store = registry()
    ny = leads.add("+12125554111", status="retry", attempts=1, next_attempt_at=clock.now() + timedelta(days=3))
    tx = leads.add("+15125554112", status="retry", attempts=1, state="TX",
                   next_attempt_at=clock.now() + timedelta(days=3))
    ten_pm = datetime(2030, 1, 8, 22, 0, tzinfo=NY)
    a = cb.schedule(session, ny, ten_pm, clock.now())
    b = cb.schedule(session, tx, ten_pm.astimezone(ZoneInfo("America/Chicago")).replace(hour=22), clock.now())
    assert a.due_at == datetime(2030, 1, 9, 8, 0, tzinfo=NY)  # 08:00 New York, federal window
    assert b.due_at == datetime(2030, 1, 9, 9, 0, tzinfo=ZoneInfo("America/Denver"))  # Texas: 09:00 in El Paso too
    assert (ny.status, ny.callback_at, ny.next_attempt_at) == ("callback", a.due_at, a.due_at)
    check = real_gate(store)
    for at in (ten_pm, a.due_at - timedelta(minutes=1)):
        assert dispatch.claim(session, campaign, 5, at, check) == []
    got = dispatch.claim(session, campaign, 5, a.due_at, check)
    assert [c.lead_id for c in got] == [ny.id]  # Texas is still closed at 08:00 New York
    got = dispatch.claim(session, campaign, 5, b.due_at, check)
    assert [c.lead_id for c in got] == [tx.id]


def test_a_dnc_request_cancels_the_callback_and_it_stays_listed(session, leads, campaign, clock):
    now = clock.now()
    other = create_campaign(session, "Other", "+12125554100", now)
    lead = leads.add("+12125554111")
    mine = cb.schedule(session, lead, now + timedelta(hours=2), now, note="wants the quote")
    leads.campaign = other
    twin = leads.add("+12125554111")  # the same person in another campaign
    theirs = cb.schedule(session, twin, now + timedelta(hours=3), now)
    leads.campaign = campaign
    # a campaign-scope request cancels only that campaign's callback
    record_request(session, "+12125554111", scope="campaign", campaign=other.id, channel="agent", received_at=now,
                   added_by="agent 7", reason="not for this product")
    assert (theirs.status, twin.status) == ("cancelled", "dnc") and (mine.status, lead.status) == ("pending",
                                                                                                 "callback")
    entry = record_request(session, "+12125554111", channel="keypress", received_at=now + timedelta(minutes=5),
                           added_by="caller", source_ref="twilio:CA9")
    assert mine.status == "cancelled" and lead.status == "dnc" and lead.callback_at is None
    listed = cb.queue(session, campaign.id, ("cancelled",))
    assert [(r.id, r.reason) for r in listed] == [(mine.id, f"do-not-call request #{entry.id} (keypress)")]
    assert cb.queue(session, campaign.id) == []  # nothing open any more
    with pytest.raises(UserError, match="dnc"):
        cb.schedule(session, lead, now + timedelta(hours=4), now)


def test_a_missed_callback_lands_in_the_queue_and_stays_callable(session, leads, campaign, clock):
    now = clock.now()  # 10:00 New York
    lead = leads.add("+12125554111")
    c = cb.schedule(session, lead, now + timedelta(minutes=30), now)
    assert cb.mark_missed(session, now + timedelta(minutes=30 + 59)) == 0  # within the hour: still pending
    assert cb.mark_missed(session, now + timedelta(minutes=30 + 60)) == 1
    missed = cb.queue(session, campaign.id, ("missed",))
    assert [(r.id, r.status, r.lead_status) for r in missed] == [(c.id, "missed", "callback")]
    assert cb.counts(session, campaign) == {"pending": 0, "missed": 1}
    # the lead is still due: the next claim takes it (and its callback counts as fired)
    got = dispatch.claim(session, campaign, 1, now + timedelta(hours=2))
    assert [g.lead_id for g in got] == [lead.id]


def test_rescheduling_and_cancelling_by_hand(session, leads, campaign, clock):
    now = clock.now()
    lead = leads.add("+12125554111")
    first = cb.schedule(session, lead, now + timedelta(hours=1), now)
    second = cb.reschedule(session, first.id, datetime(2030, 1, 9, 23, 0, tzinfo=NY), now)
    assert first.status == "cancelled" and first.cancelled_reason == "replaced by a newer callback"
    assert second.due_at == datetime(2030, 1, 10, 8, 0, tzinfo=NY)
    cb.cancel(session, second.id, "customer emailed instead", now)
    assert (lead.status, lead.callback_at) == ("retry", None)
    with pytest.raises(UserError, match="not in the future"):
        cb.schedule(session, lead, now - timedelta(minutes=5), now)
    unknown = leads.add("+18005554123")  # toll-free: no zone; the gate refuses it whenever it comes due
    assert cb.schedule(session, unknown, now + timedelta(hours=1), now).due_at == now + timedelta(hours=1)
    assert datetime(2030, 1, 10, 13, 0, tzinfo=UTC) == second.due_at
