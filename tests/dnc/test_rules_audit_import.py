"""Audit of location data at import: a state or ZIP cell the import cannot read is kept as written among the
lead's fields and marked on the lead, so the import scrub suppresses it and the gate, asked as the dial loop asks,
refuses it with a reason saying so; it is never dialed as if the lead had no address."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.rules import Candidate
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from dnc.scrub import DncScrubber
from tests.dnc.audit_helpers import check, load_registry

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
ROWS = [  # (phone, state cell, ZIP cell, stored state, stored ZIP, allowed)
    ("2125554101", "NY", "10001", "NY", "10001", True),
    ("2125554102", "", "", None, None, True),
    ("2125554103", "Rhode Island", "", "RI", None, True),
    ("2125554104", "Flo.", "", "??", None, False),
    ("2125554109", "Calif.", "", "CA", None, True),  # a traditional abbreviation is read, not refused
    ("2125554110", "D.C.", "", "DC", None, True),
    ("2125554105", "N/A", "10001", "??", "10001", False),
    ("2125554106", "NY", "Boston", "NY", "?", False),
    ("2125554107", "NY", "00000", "NY", "00000", False),
    ("2125554108", "NY", "2134", "NY", "02134", True),  # the leading zero a spreadsheet dropped
]


@pytest.mark.parametrize("scrubbed", [False, True], ids=["gate", "import-scrub"])
def test_an_address_the_import_cannot_read_is_never_dialed(session, sessions, store, tmp_path, scrubbed):
    load_registry(session, store, tmp_path, AT)
    campaign = create_campaign(session, "audit", "+12125554100", AT).id
    session.commit()
    path = tmp_path / "leads.csv"
    path.write_text("phone,state,zip\n" + "".join(f"{p},{s},{z}\n" for p, s, z, *_ in ROWS), encoding="utf-8")
    scrubber = DncScrubber(sessions, campaign=campaign, at=AT, operator="audit", store=store) if scrubbed else None
    import_leads(sessions, "audit", path, now=AT, uploaded_by="audit", scrubber=scrubber)
    leads = {ld.phone: ld for ld in session.scalars(select(Lead))}
    for phone, _, _, state, postal, allowed in ROWS:
        lead = leads["+1" + phone]
        assert (lead.state, lead.postal_code) == (state, postal), phone
        if scrubbed:
            assert (lead.status == "new") is allowed and (allowed or "unknown_zone" in lead.suppression), phone
            continue
        zones = tuple(z for z in (lead.timezones or "").split(",") if z)
        d = dispatch.dnc_gate(session, Candidate(lead.id, campaign, lead.phone, lead.state, lead.postal_code,
                                                 zones), AT)
        check(session, d, allowed, () if allowed else ("unknown_zone",))
        if not allowed:
            assert not d.temporary
