"""Audit of the Reassigned Numbers Database rule (F15) as the dial loop meets it.

A consent or EBR speaks for the person who held the number when it was given. When the RND data say the number was
permanently disconnected on or after that date, a previous subscriber gave it: a call that rests on it is refused
(``reassigned_number``); a call that needs no consent is not affected, and neither is a number without consent.
A call resting on consent with no RND data loaded, or data older than the rules allow, waits (``rnd_stale``) as a
number in a state whose own list is not loaded does. The import scrub and the reconciliation say the same.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from dnc import consent
from dnc.errors import UserError
from dnc.lists import load_list
from dnc.reasons import stored_codes
from dnc.reassigned import load_rnd
from dnc.reconcile import CallRecord, reconcile_findings
from dnc.rules import current_rules
from dnc.scrub import DncScrubber
from dnc.tables import LedgerRecord
from tests.dnc.audit_helpers import ask, check, last_record, load_registry

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
NY, NY2, MIAMI = "+12125554123", "+12125554124", "+13055554123"  # NY is on the national registry


def _rnd(session, tmp_path, *rows: tuple[str, date], at: datetime = AT, mode: str = "full",
         version: date | None = None):
    """An RND load of ``rows`` (number, permanent-disconnect date) loaded at ``at``."""
    path = tmp_path / f"rnd-{at:%Y%m%d%H%M%S}-{mode}.csv"
    path.write_text("number,disconnected_on\n" + "".join(f"{n[2:]},{d}\n" for n, d in rows), encoding="utf-8")
    return load_rnd(session, path, version_date=version or at.date(), loaded_by="audit", now=at, mode=mode)


def _consent(session, e164: str, granted: datetime, kind: str = "pewc"):
    return consent.add(session, e164, kind=kind, granted_at=granted, evidence_ref="signed form", added_by="audit",
                       recorded_at=granted)


@pytest.mark.parametrize(("kind", "granted_days", "disconnect_days", "allowed"), [
    ("pewc", 300, 100, False),  # consent, then the number was disconnected: a previous subscriber gave it
    ("pewc", 30, 100, True),  # disconnected, then consent: the present subscriber gave it
    ("pewc", 100, 100, False),  # the same day: the RND answers yes (disconnected on or after the date asked)
    ("ebr_purchase", 300, 100, False),  # an EBR is with the person too, not with the number
    ("ebr_inquiry", 60, 100, True),
], ids=["consent-before-disconnect", "consent-after-disconnect", "same-day", "ebr-before", "ebr-after"])
def test_consent_given_before_a_permanent_disconnection_does_not_lift_the_registry(
        session, store, tmp_path, kind, granted_days, disconnect_days, allowed):
    load_registry(session, store, tmp_path, AT, NY)
    c = _consent(session, NY, AT - timedelta(days=granted_days), kind)
    disconnected = (AT - timedelta(days=disconnect_days)).date()
    _rnd(session, tmp_path, (NY, disconnected), (NY2, date(2029, 1, 1)))
    d = ask(session, NY, AT)
    check(session, d, allowed, () if allowed else ("reassigned_number", "national_dnc"))
    body = json.loads(last_record(session, NY).body)
    assert body["sources"]["rnd"]["answers"] == {str(c.id): "no" if allowed else "yes"}
    if not allowed:
        assert not d.temporary and d.opens_at is None  # a data change (new consent) is needed, not time
        text = next(r.text for r in d.reasons if r.code == "reassigned_number")
        assert f"#{c.id}" in text and str(disconnected) in text


def test_a_number_without_consent_is_not_affected(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY)
    _rnd(session, tmp_path, (NY, date(2029, 6, 1)), (NY2, date(2029, 6, 1)))
    check(session, ask(session, NY, AT), False, ("national_dnc",))
    assert ask(session, NY, AT).codes == ("national_dnc",)
    check(session, ask(session, NY2, AT), True)  # disconnected once, nobody's consent at stake: called as any number


def test_a_call_that_needs_no_consent_is_not_refused_for_a_voided_one(session, store, tmp_path):
    """NY2 is on no list, a landline, in a state without the automated-dialing rule: the old consent lifts nothing,
    so the call does not rest on it; the record still says the RND voided it."""
    load_registry(session, store, tmp_path, AT)
    c = _consent(session, NY2, AT - timedelta(days=300))
    _rnd(session, tmp_path, (NY2, (AT - timedelta(days=100)).date()))
    check(session, ask(session, NY2, AT), True)
    assert json.loads(last_record(session, NY2).body)["sources"]["rnd"]["answers"] == {str(c.id): "yes"}


def test_wireless_and_automated_dialing_rules_come_back_with_the_voided_consent(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT)
    wireless = tmp_path / "wireless.txt"
    wireless.write_text(NY2[2:] + "\n", encoding="utf-8")
    load_list(session, "wireless", wireless, version_date=AT.date(), loaded_by="audit", now=AT)
    for n in (NY2, MIAMI):
        _consent(session, n, AT - timedelta(days=300))
    _rnd(session, tmp_path, (NY2, date(2029, 9, 1)), (MIAMI, date(2029, 9, 1)))
    check(session, ask(session, NY2, AT), False, ("reassigned_number", "wireless_no_consent"))
    check(session, ask(session, MIAMI, AT), False, ("reassigned_number", "autodialer_no_consent"))


def test_a_later_consent_from_the_new_subscriber_stands(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY)
    _consent(session, NY, AT - timedelta(days=300))
    _rnd(session, tmp_path, (NY, (AT - timedelta(days=100)).date()))
    check(session, ask(session, NY, AT), False, ("reassigned_number", "national_dnc"))
    _consent(session, NY, AT - timedelta(days=10))
    check(session, ask(session, NY, AT + timedelta(minutes=1)), True)


def test_no_rnd_data_loaded_stops_calls_that_rest_on_consent_until_it_is(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY, rnd=False)
    _consent(session, NY, AT - timedelta(days=30))
    d = ask(session, NY, AT)
    check(session, d, False, ("rnd_stale",))
    assert d.codes == ("rnd_stale",) and d.temporary  # waits for the data; the lead is not closed
    check(session, ask(session, NY2, AT), True)  # no consent at stake: not affected
    _rnd(session, tmp_path, at=AT)  # an empty load: nothing disconnected
    check(session, ask(session, NY, AT + timedelta(minutes=1)), True)


def test_rnd_data_older_than_the_rules_allow(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY, rnd=False)
    _consent(session, NY, AT - timedelta(days=200))
    _consent(session, MIAMI, AT - timedelta(days=200))
    old = AT - timedelta(days=40)
    _rnd(session, tmp_path, (MIAMI, date(2029, 9, 1)), at=old, version=old.date())
    d = ask(session, NY, AT)
    check(session, d, False, ("rnd_stale",))
    assert "40 days old" in d.reasons[0].text
    check(session, ask(session, NY, AT - timedelta(days=10)), True)  # 30 days old then: fresh enough
    # a disconnection the old data do record still voids the consent: the fact does not go stale
    check(session, ask(session, MIAMI, AT), False, ("reassigned_number", "autodialer_no_consent"))


def test_consent_older_than_the_rnd_data_gets_no_answer(session, store, tmp_path):
    """The RND answers "no data" for a date before its data begin (27 January 2021) when it records no
    disconnection: the safe harbor needs a "no", so the shipped rules refuse (rnd_no_data)."""
    load_registry(session, store, tmp_path, AT, NY)
    _consent(session, NY, datetime(2020, 6, 1, tzinfo=UTC))
    _rnd(session, tmp_path)
    check(session, ask(session, NY, AT), False, ("rnd_no_data", "national_dnc"))


def test_a_change_load_adds_to_the_data_in_force_and_a_full_load_replaces_it(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY, rnd=False)
    _consent(session, NY, AT - timedelta(days=300))
    _rnd(session, tmp_path, (NY2, date(2029, 6, 1)), at=AT - timedelta(days=2))
    check(session, ask(session, NY, AT - timedelta(days=1)), True)
    _rnd(session, tmp_path, (NY, date(2029, 6, 1)), at=AT - timedelta(hours=2), mode="changes")
    check(session, ask(session, NY, AT - timedelta(hours=1)), False, ("reassigned_number",))
    _rnd(session, tmp_path, (NY2, date(2029, 6, 1)), at=AT - timedelta(minutes=30))  # full: the operator's whole data
    check(session, ask(session, NY, AT), True)


def test_reconciliation_judges_each_call_by_the_rnd_data_in_force_when_it_was_placed(session, store, tmp_path):
    """The safe harbor: a call placed while the latest data said "no" complied, whatever later data say."""
    load_registry(session, store, tmp_path, AT - timedelta(days=1), NY)
    _consent(session, NY, AT - timedelta(days=300))
    before, after = AT - timedelta(hours=3), AT
    _rnd(session, tmp_path, (NY, (AT - timedelta(days=100)).date()), at=AT - timedelta(hours=2))
    calls = [CallRecord(NY, before, 1, ref="before"), CallRecord(NY, after, 1, ref="after")]
    found = {f.call.ref: f.codes for f in reconcile_findings(session, calls, store)}
    assert set(found) == {"after"} and {"reassigned_number", "national_dnc"} <= set(found["after"])


def test_reconciliation_finds_a_call_resting_on_unchecked_consent(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT - timedelta(days=1), NY, rnd=False)
    _consent(session, NY, AT - timedelta(days=30))
    found = reconcile_findings(session, [CallRecord(NY, AT, 1, ref="c")], store)
    assert [f.codes for f in found] == [("rnd_stale",)]


@pytest.mark.parametrize("scrubbed", [False, True], ids=["gate", "import-scrub"])
def test_the_import_scrub_agrees_with_the_gate(session, sessions, store, tmp_path, scrubbed):
    load_registry(session, store, tmp_path, AT, NY, "+12125554125")
    campaign = create_campaign(session, "audit", "+12125554100", AT).id
    _consent(session, NY, AT - timedelta(days=300))  # before the disconnection: voided
    _consent(session, "+12125554125", AT - timedelta(days=30))  # after it: stands
    _consent(session, NY2, AT - timedelta(days=300))  # voided, but the call needs no consent
    _rnd(session, tmp_path, *((n, (AT - timedelta(days=100)).date()) for n in (NY, NY2, "+12125554125")))
    session.commit()
    path = tmp_path / "leads.csv"
    path.write_text("phone,state\n2125554123,NY\n2125554124,NY\n2125554125,NY\n", encoding="utf-8")
    scrubber = DncScrubber(sessions, campaign=campaign, at=AT, operator="audit", store=store) if scrubbed else None
    import_leads(sessions, "audit", path, now=AT, uploaded_by="audit", scrubber=scrubber)
    leads = {ld.phone: ld for ld in session.scalars(select(Lead))}
    expected = {NY: ("reassigned_number", "national_dnc"), NY2: (), "+12125554125": ()}
    for phone, codes in expected.items():
        if scrubbed:
            lead = leads[phone]
            assert (lead.status == "suppressed") is bool(codes), phone
            assert set(stored_codes(lead.suppression)) == set(codes), phone
        else:
            d = ask(session, phone, AT, campaign=campaign, lead=leads[phone].id, state="NY")
            check(session, d, not codes, codes)
    if scrubbed:
        rec = json.loads(session.scalars(select(LedgerRecord.body).where(LedgerRecord.kind == "scrub")
                                         .order_by(LedgerRecord.seq)).all()[-1])
        assert rec["rnd"]["version_date"] == str(AT.date()) and rec["by_reason"]["reassigned_number"] == 1


def _rules(tmp_path, setenv, *changes: tuple[str, str]) -> None:
    """Counsel's copy of the shipped rules with these (old, new) replacements, in force."""
    text = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"counsel-rules-{len(list(tmp_path.glob('counsel-rules-*')))}.toml"  # rules are read once a file
    path.write_text(text, encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(path))


def test_counsel_may_let_calls_go_unchecked_and_older_consent_through(session, store, tmp_path, setenv):
    """Both choices are rows of rules.toml: without RND data the call goes ahead (the decision records that it was
    not checked), and "no data" is taken as no answer against the call."""
    load_registry(session, store, tmp_path, AT, NY, rnd=False)
    _consent(session, NY, datetime(2020, 6, 1, tzinfo=UTC))
    _rules(tmp_path, setenv, ("required = true", "required = false"))
    check(session, ask(session, NY, AT), True)
    assert json.loads(last_record(session, NY).body)["sources"]["rnd"]["answers"] == {"1": "unchecked"}
    _rnd(session, tmp_path)
    check(session, ask(session, NY, AT), False, ("rnd_no_data", "national_dnc"))
    _rules(tmp_path, setenv, ("no_data_refuses = true", "no_data_refuses = false"))
    assert not current_rules().reassigned.no_data_refuses
    check(session, ask(session, NY, AT), True)


@pytest.mark.parametrize(("old", "new", "says"), [
    ("\nmax_age_days = 31 ", "\nmax_age_days = \"a month\" ", "max_age_days"),
    ("required = true ", "required = \"yes\" ", "required"),
    ('checks = ["pewc", "ebr_purchase", "ebr_inquiry"]', 'checks = ["pewc", "verbal"]', "checks"),
    ("data_start = 2021-01-27", "data_start = \"Jan 27\"", "data_start"),
    ("no_data_refuses = true ", "no_data_refuses = 1 ", "no_data_refuses"),
    ("data_start = 2021-01-27", "data_start = 2021-01-27\nages = 3", "unknown key"),
])
def test_a_bad_reassigned_table_is_refused_with_its_place(tmp_path, setenv, old, new, says):
    _rules(tmp_path, setenv, (old, new))
    with pytest.raises(UserError, match=rf"\[reassigned\].*{says}"):
        current_rules()
