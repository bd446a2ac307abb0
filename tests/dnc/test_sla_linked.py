"""`dnc report sla` lists every number a removal lifted: removing a request also lifts the same person's numbers
listed with it (``linked_to``, docs/compliance.md §2.6), and each of those is a number made callable again, so the
officer's removals list shows each one, with its own time, beside the request it followed from (still counted in
no channel: it is not a request of its own)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dnc import internal, reports

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
P1, P2, P3 = "+12125554171", "+12125554172", "+12125554173"


def _request_with_links(session):
    root = internal.add_request(session, P1, channel="phone", received_at=AT, added_by="desk")
    internal.add_request(session, P2, channel="phone", received_at=AT, added_by="desk", linked_to=root.id,
                         reason=f"same person as {P1}")
    internal.add_request(session, P3, channel="phone", received_at=AT + timedelta(hours=2), added_by="desk",
                         linked_to=root.id, reason=f"same person as {P1} (found later)")
    return root


def test_the_sla_report_lists_the_linked_numbers_a_removal_lifted(session):
    root = _request_with_links(session)
    internal.remove(session, P1, removed_by="cara", reason="entered on the wrong number", at=AT + timedelta(days=1))
    out = reports.sla(session)
    rows = {r["e164"]: r for r in out["removals"]}
    assert set(rows) == {P1, P2, P3}
    assert rows[P1]["linked_to"] is None
    for n in (P2, P3):
        assert rows[n]["linked_to"] == root.id and rows[n]["removed_by"] == "cara"
        assert rows[n]["removed_at"] == "2030-01-09 17:00:00"
        assert P1 in rows[n]["reason"]
    assert [c["requests"] for c in out["channels"]] == [1]  # the links are still not requests of their own


def test_the_cli_prints_them(dialer, session):
    _request_with_links(session)
    internal.remove(session, P1, removed_by="cara", reason="entered on the wrong number", at=AT + timedelta(days=1))
    session.commit()
    r = dialer("dnc", "report", "sla", "--json")
    assert r.code == 0, r.err
    assert {row["e164"] for row in json.loads(r.out)["removals"]} == {P1, P2, P3}
    r = dialer("dnc", "report", "sla")
    removals = r.out.split("removals:")[1]
    assert P2 in removals and P3 in removals
