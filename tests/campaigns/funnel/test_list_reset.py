"""A list reset for another pass brings back the finished leads asked for (out of attempts, or closed by a chosen
final disposition) and never a DNC, sold, suppressed or invalid lead, nor a lead whose number went on the internal
DNC list; the count confirmed must still be the count, and the reset is recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.campaign.history import changes
from campaigns.compliance.dnc_requests import record_request
from campaigns.dispatch import service as dispatch
from campaigns.leads import listadmin
from dnc.errors import UserError

NOW = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)


@pytest.fixture
def finished(session, leads):
    made = {
        "exhausted": leads.add("+12125551001", status="exhausted", attempts=5, last_outcome="no_answer"),
        "not_interested": leads.add("+12125551002", status="done", attempts=2, last_outcome="NI"),
        "wrong": leads.add("+12125551003", status="done", attempts=1, last_outcome="WRONG"),
        "invalid": leads.add("+12125551004", status="done", attempts=2, last_outcome="failed"),
        "dnc": leads.add("+12125551005", status="dnc", attempts=1, last_outcome="dnc"),
        "sold": leads.add("+12125551006", status="closed", attempts=1, last_outcome="SALE"),
        "suppressed": leads.add("+12125551007", status="suppressed", suppression="national_dnc"),
        "exhausted_now_dnc": leads.add("+12125551008", status="exhausted", attempts=5, last_outcome="busy"),
        "waiting": leads.add("+12125551009", status="retry", attempts=2),
    }
    record_request(session, "+12125551008", channel="phone", received_at=NOW, added_by="compliance")
    session.flush()
    return made


def test_the_plan_counts_both_sides(session, leads, campaign, finished):
    p = listadmin.plan(session, campaign, leads.list, ["exhausted", "done:NI"], NOW)
    assert p.choices == {"exhausted": 1, "done:NI": 1, "done:WRONG": 1}
    assert p.total == 2
    assert p.kept == {"invalid": 1, "dnc": 1, "closed": 1, "suppressed": 1, "blocked": 1}


def test_reset_brings_back_only_what_was_chosen_and_records_it(session, leads, campaign, finished):
    p = listadmin.reset(session, campaign, leads.list, ["exhausted", "done:NI"], "mgr", NOW, expected=2)
    assert p.total == 2
    session.expire_all()
    status = {k: (lead.status, lead.attempts) for k, lead in finished.items()}
    assert status["exhausted"] == ("retry", 0)
    assert status["not_interested"] == ("retry", 0)
    assert status["wrong"] == ("done", 1)
    for kept in ("invalid", "dnc", "sold", "suppressed"):
        assert status[kept][0] == finished[kept].status and status[kept][0] != "retry"
    assert status["exhausted_now_dnc"][0] == "exhausted"
    assert status["waiting"] == ("retry", 2)
    claimed = {c.lead_id for c in dispatch.claim(session, campaign, 10, NOW)}
    assert finished["exhausted"].id in claimed and finished["not_interested"].id in claimed
    assert finished["exhausted_now_dnc"].id not in claimed
    h = changes(session, campaign.id, subject=f"list:{leads.list.id}")[0]
    assert (h.field, h.by, h.new) == ("reset for another pass", "mgr", "2 leads back in the queue")
    assert "ran out of attempts: 1" in h.old


def test_a_stale_confirmation_is_refused_and_changes_nothing(session, leads, campaign, finished):
    with pytest.raises(UserError, match="3 leads would be reset now, not 2"):
        listadmin.reset(session, campaign, leads.list, ["exhausted", "done:NI", "done:WRONG"], "mgr", NOW,
                        expected=2)
    session.expire_all()
    assert finished["exhausted"].status == "exhausted"
    assert changes(session, campaign.id, subject=f"list:{leads.list.id}") == []
    with pytest.raises(UserError, match="choose which leads"):
        listadmin.reset(session, campaign, leads.list, [], "mgr", NOW)
    with pytest.raises(UserError, match="not 'closed'"):
        listadmin.reset(session, campaign, leads.list, ["closed"], "mgr", NOW)
