"""Lead search (a number in any format, its last digits, a name; by status and list; a page at a time), the lead's
history (calls, dispositions, changes, suppression decisions), edits (validated, recorded) and a DNC mark (the
internal DNC list with its audit record, the lead closed, never reset)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.campaign.history import changes
from campaigns.dispatch import service as dispatch
from campaigns.leads import edit, listadmin, search
from campaigns.leads.models import LeadPhone
from dnc import gate as gate_mod
from dnc import internal
from dnc.errors import UserError
from dnc.tables import LedgerRecord

NOW = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)


@pytest.fixture
def people(session, leads):
    out = {
        "ada": leads.add("+12125551234", first_name="Ada", last_name="Lovelace", state="NY", postal="10001"),
        "alan": leads.add("+13055551235", first_name="Alan", last_name="Turing", status="exhausted"),
        "grace": leads.add("+15125551236", first_name="Grace", last_name="Hopper"),
    }
    out["grace"].custom = {"plan": "gold"}
    session.add(LeadPhone(lead_id=out["grace"].id, position=2, phone="+17185551299", added_at=NOW))
    session.flush()
    return out


@pytest.mark.parametrize("query", ["(212) 555-1234", "+1 212.555.1234", "212-555-1234 ext 4", "2125551234",
                                   "+12125551234"])
def test_a_number_in_any_format_finds_the_lead(session, campaign, people, query):
    page = search.search(session, campaign, query)
    assert [x.id for x in page.leads] == [people["ada"].id]
    assert page.phone == "+12125551234"


def test_other_phones_last_digits_names_status_list_and_pages(session, campaign, leads, people):
    assert [x.id for x in search.search(session, campaign, "718 555 1299").leads] == [people["grace"].id]
    assert {x.id for x in search.search(session, campaign, "1235").leads} == {people["alan"].id}
    assert [x.id for x in search.search(session, campaign, "ada love").leads] == [people["ada"].id]
    assert [x.id for x in search.search(session, campaign, "HOPPER").leads] == [people["grace"].id]
    assert search.search(session, campaign, "100%_").total == 0  # LIKE wildcards are text
    assert [x.id for x in search.search(session, campaign, "", status="exhausted").leads] == [people["alan"].id]
    assert search.search(session, campaign, "", list_id=leads.list.id + 99).total == 0
    for i in range(30):
        leads.add(f"+1212555{2000 + i}", first_name="Many")
    first = search.search(session, campaign, "many", per_page=25)
    second = search.search(session, campaign, "many", page=2, per_page=25)
    assert (first.total, first.pages, len(first.leads), len(second.leads)) == (30, 2, 25, 5)
    assert not {x.id for x in first.leads} & {x.id for x in second.leads}
    with pytest.raises(UserError, match="status: must be one of"):
        search.search(session, campaign, "", status="sold")


def test_edits_are_validated_recorded_and_move_the_zones(session, campaign, people):
    ada = people["ada"]
    with pytest.raises(UserError, match="State: give a two-letter state code"):
        edit.edit(session, campaign, ada, {"first_name": "Augusta", "state": "XX"}, "mgr", NOW)
    assert ada.first_name == "Ada"  # nothing changes when one field is refused
    with pytest.raises(UserError, match="ZIP code: give 5 digits"):
        edit.edit(session, campaign, ada, {"postal_code": "abc"}, "mgr", NOW)
    with pytest.raises(UserError, match="phone: not a field that can be edited"):
        edit.edit(session, campaign, ada, {"phone": "+12125550000"}, "mgr", NOW)
    changed = edit.edit(session, campaign, ada, {"first_name": " Augusta ", "state": "california",
                                                 "postal_code": "90210", "last_name": "Lovelace"}, "mgr", NOW)
    assert changed == ["first_name", "state", "postal_code"]
    assert (ada.first_name, ada.state, ada.postal_code) == ("Augusta", "CA", "90210")
    assert "America/Los_Angeles" in ada.zone_list
    grace = people["grace"]
    assert edit.edit(session, campaign, grace, {"custom.plan": "silver"}, "mgr", NOW) == ["custom.plan"]
    session.expire_all()
    assert grace.custom == {"plan": "silver"}
    h = search.history(session, ada)
    assert [(c.field, c.old, c.new, c.by) for c in h.changes][::-1] == [
        ("First name", "Ada", "Augusta", "mgr"), ("State", "NY", "CA", "mgr"), ("ZIP code", "10001", "90210", "mgr")]


def test_history_has_calls_dispositions_and_gate_decisions(session, campaign, people, registry, clock):
    registry()
    ada = people["ada"]
    now = clock.now()

    def gate(s, cand, at):
        return gate_mod.gate(s, cand.phone, campaign=cand.campaign_id, at=at, state=cand.state,
                             postal_code=cand.postal_code, zones=cand.zones, lead_ref=f"lead:{cand.lead_id}")

    claims = dispatch.claim(session, campaign, 3, now, gate=gate)
    mine = next(c for c in claims if c.lead_id == ada.id)
    dispatch.end(session, mine.call_id, "no_answer", now + timedelta(seconds=30))
    h = search.history(session, ada)
    assert [(c.attempt, c.outcome) for c in h.calls] == [(1, "no_answer")]
    assert h.decisions and h.decisions[0].kind == "Pre-dial check" and h.decisions[0].allowed is True


def test_mark_dnc_lists_the_number_closes_the_lead_and_a_reset_skips_it(session, campaign, leads, people):
    alan = people["alan"]  # exhausted: a reset would bring it back, but not once it is DNC
    with pytest.raises(UserError, match="Reason: say what the person asked"):
        edit.mark_dnc(session, campaign, alan, by="mgr", channel="phone", reason=" ", now=NOW)
    done = edit.mark_dnc(session, campaign, alan, by="mgr", channel="phone", reason="asked on a call-in", now=NOW)
    assert done.startswith("added to the internal DNC list")
    assert alan.status == "dnc"
    entry = internal.active(session, alan.phone, campaign.id, NOW)[0]
    assert (entry.added_by, entry.channel, entry.source_ref) == ("mgr", "phone", f"lead:{alan.id}")
    assert session.query(LedgerRecord).filter_by(kind="internal_add", e164=alan.phone).count() == 1
    again = edit.mark_dnc(session, campaign, alan, by="mgr", channel="phone", reason="again", now=NOW)
    assert again.startswith("already on the internal DNC list")
    assert listadmin.plan(session, campaign, leads.list, ["exhausted"], NOW).total == 0
    h = changes(session, campaign.id, subject=f"lead:{alan.id}")
    assert (h[-1].field, h[-1].old, h[-1].by) == ("do not call", "exhausted", "mgr")
    assert search.history(session, alan).decisions[0].kind == "Added to the internal DNC list"


def test_a_dnc_note_naming_other_lists_does_not_put_the_lead_on_them(session, campaign, people):
    """The manager's note is stored after the code: whatever it says, the lead is on the internal DNC list only."""
    from campaigns.compliance.feed import leads_with_number

    alan = people["alan"]  # exhausted: the lead is closed with the manager's note (a callable one with the request's)
    edit.mark_dnc(session, campaign, alan, by="mgr", channel="phone", reason="litigator; national_dnc, he said",
                  now=NOW)
    assert "he said" in alan.suppression
    assert [r["suppression"] for r in leads_with_number(session, alan.phone)] == [["internal_dnc"]]
