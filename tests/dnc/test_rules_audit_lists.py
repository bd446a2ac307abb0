"""Audit of the list and consent rules as the dial loop meets them: the national registry (listed, 31-day age,
area codes without a snapshot), written consent and EBRs (scope, expiry, revocation, what each one lifts),
internal DNC requests, state and litigator lists, wireless numbers and the states that restrict them, and the
automated-dialing consent of FL, OK and MD."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import dnc
from campaigns.leads.phones import ScrubCandidate
from dnc import consent, internal
from dnc.lists import load_list
from dnc.scrub import DncScrubber
from tests.dnc.audit_helpers import ask, check, load_registry, pewc

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York, 11:00 in Chicago
NY, MIAMI, OKC, BALTIMORE, SAN_ANTONIO = "+12125554123", "+13055554123", "+14055554123", "+14105554123", \
    "+12105554123"


def _list(session, tmp_path, source: str, *numbers: str, key: str = "") -> None:
    path = tmp_path / f"{source}{key}.txt"
    path.write_text("".join(n[2:] + "\n" for n in numbers), encoding="utf-8")
    load_list(session, source, path, key=key, version_date=AT.date(), loaded_by="audit", now=AT)


CONSENT_CASES = [  # (what, kind, granted days before, campaign, expires/revoked, allowed)
    ("no consent", None, 0, None, None, False),
    ("written consent", "pewc", 30, None, None, True),
    ("written consent for this campaign", "pewc", 30, 1, None, True),
    ("written consent for another campaign", "pewc", 30, 2, None, False),
    ("written consent granted tomorrow", "pewc", -1, None, None, False),
    ("written consent that expired yesterday", "pewc", 30, None, "expired", False),
    ("written consent revoked an hour ago", "pewc", 30, None, "revoked", False),
    ("EBR purchase 17 months ago", "ebr_purchase", 17 * 30, None, None, True),
    ("EBR purchase 19 months ago", "ebr_purchase", 19 * 30, None, None, False),
    ("EBR inquiry 2 months ago", "ebr_inquiry", 60, None, None, True),
    ("EBR inquiry 4 months ago", "ebr_inquiry", 4 * 31, None, None, False),
]


@pytest.mark.parametrize(("what", "kind", "days", "campaign", "end", "allowed"), CONSENT_CASES,
                         ids=[c[0] for c in CONSENT_CASES])
def test_national_registry_and_what_lifts_it(session, store, tmp_path, what, kind, days, campaign, end, allowed):
    load_registry(session, store, tmp_path, AT, NY)
    if kind is not None:
        c = consent.add(session, NY, kind=kind, granted_at=AT - timedelta(days=days), evidence_ref="crm",
                        added_by="audit", recorded_at=AT - timedelta(days=max(days, 0)), campaign=campaign,
                        expires_at=AT - timedelta(days=1) if end == "expired" else None)
        if end == "revoked":
            consent.revoke(session, NY, at=AT - timedelta(hours=1), by="caller", reason="said stop")
        assert c.id
    check(session, ask(session, NY, AT), allowed, () if allowed else ("national_dnc",))


def test_a_dnc_request_ends_consent_and_binds_at_once(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, NY)
    pewc(session, NY, AT)
    check(session, ask(session, NY, AT), True)
    internal.add_request(session, NY, channel="sms", received_at=AT + timedelta(seconds=5), added_by="sms: STOP")
    d = ask(session, NY, AT + timedelta(seconds=6))
    check(session, d, False, ("internal_dnc", "national_dnc"))
    assert not d.temporary and d.opens_at is None


def test_internal_dnc_scope_and_removal(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT)
    internal.add_request(session, NY, scope="campaign", campaign=1, channel="agent", received_at=AT,
                         added_by="agent 7")
    check(session, ask(session, NY, AT, campaign=1), False, ("internal_dnc",))
    check(session, ask(session, NY, AT, campaign=2), True)
    internal.add_request(session, NY, channel="keypress", received_at=AT, added_by="ivr")
    check(session, ask(session, NY, AT, campaign=2), False, ("internal_dnc",))
    pewc(session, "+12125554124", AT)  # consent never lifts an internal request
    internal.add_request(session, "+12125554124", channel="web", received_at=AT, added_by="web form")
    check(session, ask(session, "+12125554124", AT), False, ("internal_dnc",))
    internal.remove(session, NY, scope="company", removed_by="compliance", reason="asked to be called again",
                    at=AT + timedelta(minutes=1))
    check(session, ask(session, NY, AT + timedelta(minutes=2), campaign=2), True)


@pytest.mark.parametrize(("what", "age", "allowed"), [("31 days old", 31, True), ("32 days old", 32, False)])
def test_registry_age_at_call_time(session, store, tmp_path, what, age, allowed):
    load_registry(session, store, tmp_path, AT, age_days=age)
    d = ask(session, NY, AT)
    check(session, d, allowed, () if allowed else ("registry_stale",))


def test_an_area_code_without_a_snapshot_is_not_called(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT, area_codes=("305",))
    check(session, ask(session, NY, AT), False, ("registry_stale",))


def test_state_litigator_and_prefix_lists(session, store, tmp_path):
    load_registry(session, store, tmp_path, AT)
    _list(session, tmp_path, "state", NY, key="NY")
    _list(session, tmp_path, "litigator", "+12125554124")
    _list(session, tmp_path, "prefix", "+12125550")  # 212-555-0xxx
    check(session, ask(session, NY, AT), False, ("state_dnc",))
    pewc(session, NY, AT)
    check(session, ask(session, NY, AT), True)  # written consent lifts a state list
    pewc(session, "+12125554124", AT)
    check(session, ask(session, "+12125554124", AT), False, ("litigator",))  # never lifted
    check(session, ask(session, "+12125550223", AT), False, ("prefix_block",))


@pytest.mark.parametrize(("what", "phone", "kind", "codes"), [
    ("wireless, no consent", NY, None, ("wireless_no_consent",)),
    ("wireless, an EBR only", NY, "ebr_purchase", ("wireless_no_consent",)),
    ("wireless, written consent", NY, "pewc", ()),
    ("wireless in TX, written consent", SAN_ANTONIO, "pewc", ("wireless_restricted_state",)),
])
def test_wireless_numbers(session, store, tmp_path, what, phone, kind, codes):
    load_registry(session, store, tmp_path, AT)
    _list(session, tmp_path, "wireless", phone)
    if kind:
        pewc(session, phone, AT, kind=kind)
    check(session, ask(session, phone, AT), not codes, codes)


@pytest.mark.parametrize(("what", "phone", "state", "kind", "dialing", "allowed"), [
    ("FL predictive, no consent", MIAMI, None, None, "predictive", False),
    ("FL predictive, an EBR", MIAMI, None, "ebr_purchase", "predictive", False),
    ("FL predictive, written consent", MIAMI, None, "pewc", "predictive", True),
    ("FL click-to-dial, no consent", MIAMI, None, None, "click_to_dial", False),
    ("OK predictive, no consent", OKC, None, None, "predictive", False),
    ("MD predictive, no consent", BALTIMORE, None, None, "predictive", False),
    ("NY number, FL lead, no consent", NY, "FL", None, "predictive", False),
    ("NY number, FL ZIP, no consent", NY, None, None, "predictive", False),
])
def test_automated_dialing_consent(session, store, tmp_path, what, phone, state, kind, dialing, allowed):
    load_registry(session, store, tmp_path, AT)
    if kind:
        pewc(session, phone, AT, kind=kind)
    postal = "33101" if what.endswith("FL ZIP, no consent") else None
    d = ask(session, phone, AT, state=state, postal=postal, dialing=dialing)
    check(session, d, allowed, () if allowed else ("autodialer_no_consent",))


@pytest.mark.parametrize(("what", "phone", "state", "kind", "loaded", "allowed"), [
    ("TX number, no TX list loaded", SAN_ANTONIO, None, None, False, False),
    ("TX number, the TX list loaded", SAN_ANTONIO, None, None, True, True),
    ("NY number, TX lead, no TX list loaded", NY, "TX", None, False, False),
    ("TX number, no TX list, written consent", SAN_ANTONIO, None, "pewc", False, True),
    ("TX number, no TX list, an EBR (it exempts from the national list only)", SAN_ANTONIO, None, "ebr_purchase",
     False, False),
    ("NY number (no list of its own)", NY, None, None, False, True),
])
def test_a_state_list_never_loaded_stops_calls_into_that_state(session, store, tmp_path, what, phone, state, kind,
                                                                 loaded, allowed):
    load_registry(session, store, tmp_path, AT, state_lists=False)
    if loaded:
        _list(session, tmp_path, "state", "+12105550000", key="TX")
    if kind:
        pewc(session, phone, AT, kind=kind)
    d = ask(session, phone, AT, state=state)
    check(session, d, allowed, () if allowed else ("state_list_missing",))
    if not allowed:
        assert d.temporary and "TX" in d.reasons[0].text


@pytest.mark.parametrize(("what", "kind", "texas_yields", "allowed"), [
    ("no consent", None, False, False),
    ("an EBR after a purchase", "ebr_purchase", False, False),
    ("an EBR after an inquiry", "ebr_inquiry", False, False),
    ("written consent", "pewc", False, True),
    ("an EBR, where the rules file says the state's list yields to one", "ebr_purchase", True, True),
])
def test_an_ebr_exempts_from_the_national_list_only(session, store, tmp_path, setenv, what, kind, texas_yields,
                                                      allowed):
    """F10 (47 CFR 64.1200(f)(5); TSR 310.2; docs/compliance.md §2.5): an EBR exempts a call from the *National*
    registry only; a state's own list holds unless written consent lifts it, or counsel's rules file says that
    state's statute yields to an EBR (``ebr_lifts_list``). Asked at dial time and at import (the scrub)."""
    if texas_yields:
        rules = tmp_path / "rules.toml"
        shipped = (Path(dnc.__file__).parent / "data" / "rules.toml").read_text(encoding="utf-8")
        rules.write_text(shipped.replace("[states.TX]", "[states.TX]\nebr_lifts_list = true", 1), encoding="utf-8")
        setenv(DIALER_DNC_RULES=str(rules))
    load_registry(session, store, tmp_path, AT, SAN_ANTONIO)
    _list(session, tmp_path, "state", SAN_ANTONIO, key="TX")
    if kind:
        pewc(session, SAN_ANTONIO, AT, kind=kind)
    check(session, ask(session, SAN_ANTONIO, AT), allowed, () if allowed else ("state_dnc",))
    scrubbed = DncScrubber(None, campaign=1, at=AT, operator="audit", store=store).scrub(
        session, [ScrubCandidate(SAN_ANTONIO, None, None, ("America/Chicago",))])
    assert ("state_dnc" in scrubbed[0]) is not allowed, scrubbed


@pytest.mark.parametrize(("what", "received", "allowed"), [
    ("a stop in one campaign the day before revoke-all takes effect", datetime(2027, 1, 30, 17, tzinfo=UTC), True),
    ("a stop in one campaign the day revoke-all takes effect", datetime(2027, 1, 31, 17, tzinfo=UTC), False),
])
def test_a_revocation_in_one_campaign_revokes_all_consent_once_revoke_all_is_in_force(
        session, store, tmp_path, what, received, allowed):
    """F14 (47 CFR 64.1200(a)(10)-(12), 89 FR 15756; docs/compliance.md §2.8): from 2027-01-31, the date the
    "revoke-all" part was deferred to, one revocation covers every robocall of the caller, so a STOP recorded for
    one campaign ends the written consent another campaign's call to a wireless number rests on (before it, only
    that campaign's consent). The date is data (``revoke_all_from``)."""
    at = received + timedelta(days=1)
    load_registry(session, store, tmp_path, at)
    path = tmp_path / "wireless.txt"
    path.write_text(NY[2:] + "\n", encoding="utf-8")
    load_list(session, "wireless", path, version_date=at.date(), loaded_by="audit", now=at)
    pewc(session, NY, at, granted_at=received - timedelta(days=30))
    internal.add_request(session, NY, scope="campaign", campaign=1, channel="sms", received_at=received,
                         added_by="sms: STOP")
    check(session, ask(session, NY, at, campaign=1), False, ("internal_dnc",))
    check(session, ask(session, NY, at, campaign=2), allowed, () if allowed else ("wireless_no_consent",))
