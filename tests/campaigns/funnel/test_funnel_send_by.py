"""The funnel judges consent and EBRs as the gate does: at the decision's send deadline (``send_margin_seconds``
after now, docs/compliance.md §2.1), not at now. A consent or EBR that ends within the margin cannot lift a call that
may leave after it ended, so the gate refuses the lead; the funnel must not count it dialable."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from dnc import consent
from dnc.gate import evaluate
from dnc.lists import load_list
from dnc.reassigned import load_rnd

WIRELESS = "+12125552004"  # on the wireless list: only written consent lets the dialer call it
LISTED = "+12125552001"  # on the National DNC Registry: consent or an EBR lifts it


@pytest.fixture
def floor(session, leads, registry, clock, tmp_path):
    now = clock.now()
    registry(LISTED)
    (tmp_path / "wireless.txt").write_text("2125552004\n")
    load_list(session, "wireless", tmp_path / "wireless.txt", version_date=now.date(), loaded_by="test", now=now)
    (tmp_path / "rnd.csv").write_text("3055552010,2029-01-01\n")  # RND data in force: calls on consent may go
    load_rnd(session, tmp_path / "rnd.csv", version_date=now.date(), loaded_by="test", now=now)
    forget()
    return now


@pytest.mark.parametrize("seconds", [1, 30, 60])
@pytest.mark.parametrize(("number", "kind", "code"), [(WIRELESS, "pewc", "wireless_no_consent"),
                                                      (LISTED, "pewc", "national_dnc"),
                                                      (LISTED, "ebr_purchase", "national_dnc")])
def test_consent_ending_within_the_send_margin_is_not_relied_on(session, leads, campaign, floor, number, kind, code,
                                                                seconds):
    now = floor
    leads.add(number)
    consent.add(session, number, kind=kind, granted_at=now - timedelta(days=3), evidence_ref="form",
                added_by="test", recorded_at=now - timedelta(days=3), expires_at=now + timedelta(seconds=seconds))
    session.flush()
    assert code in evaluate(session, number, campaign=campaign.id, at=now).codes
    f = funnel(session, campaign, now)
    assert (f.dialable, f.blocked.get(code)) == (0, 1)


@pytest.mark.parametrize(("number", "kind"), [(WIRELESS, "pewc"), (LISTED, "ebr_purchase")])
def test_consent_lasting_past_the_send_margin_still_lifts(session, leads, campaign, floor, number, kind):
    now = floor
    leads.add(number)
    consent.add(session, number, kind=kind, granted_at=now - timedelta(days=3), evidence_ref="form",
                added_by="test", recorded_at=now - timedelta(days=3), expires_at=now + timedelta(seconds=61))
    session.flush()
    assert evaluate(session, number, campaign=campaign.id, at=now).allowed
    assert funnel(session, campaign, now).dialable == 1


def test_a_registry_version_that_turns_too_old_within_the_margin_blocks(session, leads, campaign, registry, clock):
    """At 23:59:30 UTC the call is surely sent the next day, when a 31-day-old registry version is 32 days old."""
    clock.advance(8 * 3600 + 59 * 60 + 30)  # 23:59:30 UTC, 18:59:30 in New York
    registry(age_days=31)
    forget()
    now = clock.now()
    leads.add("+12125551000")
    session.flush()
    assert "registry_stale" in evaluate(session, "+12125551000", campaign=campaign.id, at=now).codes
    f = funnel(session, campaign, now)
    assert (f.dialable, f.blocked.get("registry_stale")) == (0, 1)


def test_a_window_that_closes_within_the_margin_blocks_until_it_opens(session, leads, campaign, registry, clock):
    """At 20:59:30 in New York a call allowed now would be made after 21:00: the gate refuses it (outside_window)
    and reschedules it at the next opening, and so does the funnel."""
    clock.advance(10 * 3600 + 59 * 60 + 30)  # 01:59:30 UTC, 20:59:30 in New York
    registry()
    forget()
    now = clock.now()
    leads.add("+12125551000")
    session.flush()
    d = evaluate(session, "+12125551000", campaign=campaign.id, at=now)
    assert "outside_window" in d.codes
    f = funnel(session, campaign, now)
    assert (f.dialable, f.blocked.get("outside_window")) == (0, 1)
    (group,) = [w for w in f.windows if w.zones == ("America/New_York",)]
    assert group.opens_at == d.opens_at == now.replace(hour=13, minute=0, second=0)  # 08:00 in New York
