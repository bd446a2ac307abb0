"""The look-up page's removal, for a request that reached the same person's other numbers (docs/compliance.md
§2.6): removing a linked number alone is refused with a message naming the number it is linked to; removing the
number asked about says which linked numbers were lifted with it, and the page shows what an entry is linked to."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.compliance.dnc_requests import record_request
from dnc import internal
from dnc.tables import InternalEntry
from tests.campaigns.compliance.test_linked_removal import P1, P2, P3, person


def test_the_console_refuses_a_linked_number_and_lifts_the_group_with_its_request(client, auth, sessions, clock):
    with sessions() as s:
        person(s)
        request = record_request(s, P1, channel="phone", received_at=clock.now(), added_by="desk")
        s.commit()
    auth.login("compliance")
    page = f"/compliance/lookup?number={P2}"
    html = client.get(page).get_data(as_text=True)
    assert f"same person as {P1}" in html  # the entry says why it is there
    r = auth.post("/compliance/dnc/remove", {"number": P2, "scope": "company", "reason": "asked"}, page=page)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and P1 in html and f"#{request.id}" in html
    with sessions() as s:
        assert internal.active(s, P2, None, clock.now())
    r = auth.post("/compliance/dnc/remove", {"number": P1, "scope": "company", "reason": "wrong number"},
                  page=f"/compliance/lookup?number={P1}", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and P2 in html and P3 in html and "same person" in html
    with sessions() as s:
        assert s.scalars(select(InternalEntry).where(InternalEntry.removed_at.is_(None))).all() == []
