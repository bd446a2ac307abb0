"""Leads whose place the gate cannot read (``unknown_zone``: an unreadable or unknown ZIP code, a toll-free number
with an address, an area code of no US state) are never counted as dialable, grouped or one by one: the funnel
promises no lead the pre-dial gate refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from dnc import consent
from dnc.gate import evaluate
from dnc.zones import UNREADABLE_STATE, UNREADABLE_ZIP

CLEAN = ("+12125556001", "02134")  # New York number, Boston ZIP code: dialable at 10:00 in New York

# (number, state, ZIP code, stored zones or None for what the import stores): the gate answers unknown_zone for each
UNREADABLE = [
    ("+12125556101", None, UNREADABLE_ZIP, None),  # the import could not read the ZIP cell
    ("+12125556102", None, "00000", None),  # a ZIP code nobody knows
    ("+12125556103", None, "9999", None),  # too short to be one
    ("+12125556104", UNREADABLE_STATE, "10001", None),  # the import could not read the state cell
    ("+18005556105", None, "10001", None),  # toll-free: the address's zone is stored, the number has no place
    ("+14165556106", None, None, "America/Toronto"),  # Toronto: an area code of no US state
    ("+12125556107", None, "     02134", None),  # padded (the hot-lead API stores it as sent): no ZIP code there
]


@pytest.mark.parametrize("special", [False, True], ids=["grouped", "one_by_one"])
def test_leads_the_gate_refuses_as_unknown_zone_are_never_dialable(session, leads, campaign, registry, clock,
                                                                   special):
    """``one_by_one``: each number also has written consent on record, which makes the funnel evaluate it on its own
    rather than with its group (consent lifts no ``unknown_zone``)."""
    forget()
    now = clock.now()
    registry(area_codes=("212", "800", "416"))
    leads.add(CLEAN[0], postal=CLEAN[1])
    for phone, state, postal, zones in UNREADABLE:
        leads.add(phone, state=state, postal=postal, zones=zones)
        if special:
            consent.add(session, phone, kind="pewc", granted_at=now - timedelta(days=3), evidence_ref="form",
                        added_by="test", recorded_at=now - timedelta(days=3))
    session.flush()
    refused = {}
    for lead in leads.all():
        d = evaluate(session, lead.phone, campaign=campaign.id, at=now, state=lead.state,
                     postal_code=lead.postal_code)
        refused[lead.phone] = d.codes
    assert refused[CLEAN[0]] == ()  # the control is dialable
    assert all("unknown_zone" in refused[p] for p, *_ in UNREADABLE), refused
    f = funnel(session, campaign, now)
    assert f.dialable == 1, f.blocked
    assert f.blocked.get("unknown_zone") == len(UNREADABLE), f.blocked
    assert f.adds_up


def test_every_exchange_of_an_area_code_has_a_place_or_none_has():
    """The funnel reads a group's number by its area code alone (``GROUP_EXCHANGE``): if the zone data ever gave
    some exchanges of an area code a place and others none, groups would have to key on the exchange."""
    from dnc.zones import location_problems

    for npa in range(200, 1000):
        seen = {bool(location_problems(f"+1{npa}{nxx}0100")) for nxx in range(200, 1000)}
        assert len(seen) == 1, f"area code {npa}: some exchanges have a place, others none"
