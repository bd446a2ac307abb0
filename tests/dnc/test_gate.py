"""The pre-dial gate: every reason, internal DNC on the very next call, consent lifting, caps, ledger records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from dnc import consent, internal
from dnc.gate import evaluate, gate
from dnc.tables import LedgerRecord

NY_NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
CLEAN = "+12125554123"


def codes(d):
    return set(d.codes)


def test_fresh_install_dials_nothing(session, store):
    d = evaluate(session, CLEAN, campaign=1, at=NY_NOON, registry=store)
    assert not d.allowed and codes(d) == {"registry_stale"} and d.temporary and d.opens_at is None


def test_clean_number_is_allowed_and_recorded(session, registry, clock):
    store = registry()
    d = gate(session, CLEAN, campaign=1, at=NY_NOON, registry=store, lead_ref="lead:1")
    assert d.allowed, d.reasons
    assert d.zones == ("America/New_York",) and d.states == ("NY",)
    assert d.window == {"America/New_York": "08:00-21:00"}
    rec = session.scalars(select(LedgerRecord).where(LedgerRecord.kind == "gate")).one()
    assert rec.allowed is True and rec.e164 == CLEAN and '"lead_ref":"lead:1"' in rec.body


def test_internal_dnc_refused_on_the_very_next_call(session, registry, clock):
    store = registry()
    assert gate(session, CLEAN, campaign=7, at=NY_NOON, registry=store).allowed
    pressed = NY_NOON + timedelta(seconds=40)
    internal.add_request(session, CLEAN, scope="company", campaign=None, channel="keypress", received_at=pressed,
                         added_by="caller", source_ref="twilio:CA1", reason="pressed 9")
    nxt = gate(session, CLEAN, campaign=8, at=pressed + timedelta(seconds=1), registry=store)
    assert not nxt.allowed and codes(nxt) == {"internal_dnc"} and not nxt.temporary and nxt.opens_at is None
    # campaign scope binds only that campaign
    other = "+12125554124"
    internal.add_request(session, other, scope="campaign", campaign=3, channel="agent", received_at=pressed,
                         added_by="agent 4")
    assert codes(evaluate(session, other, campaign=3, at=pressed, registry=store)) == {"internal_dnc"}
    assert evaluate(session, other, campaign=4, at=pressed, registry=store).allowed
    # removal needs a reason and is audited; afterwards the number is callable again
    internal.remove(session, CLEAN, scope="company", campaign=None, removed_by="compliance", reason="written "
                    "consent re-obtained", at=pressed + timedelta(days=1))
    assert evaluate(session, CLEAN, campaign=8, at=pressed + timedelta(days=1, hours=1), registry=store).allowed
    kinds = session.scalars(select(LedgerRecord.kind).order_by(LedgerRecord.seq)).all()
    assert kinds.count("internal_add") == 2 and kinds.count("internal_remove") == 1


def test_all_reasons_and_time_based_rescheduling(session, registry):
    store = registry("+13055554123")
    sunday_night = datetime(2030, 1, 14, 2, 30, tzinfo=UTC)  # Sunday 21:30 in Miami
    d = evaluate(session, "+13055554123", campaign=1, at=sunday_night, registry=store)
    assert {"national_dnc", "autodialer_no_consent", "outside_window"} <= codes(d)
    assert not d.temporary and d.opens_at is None
    d = evaluate(session, "+12125554123", campaign=1, at=sunday_night, registry=store)
    assert codes(d) == {"outside_window"} and d.temporary
    assert d.opens_at == datetime(2030, 1, 14, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York


def test_consent_lifts_national_never_internal(session, registry, clock):
    store = registry("+12125554199")
    n = "+12125554199"
    assert codes(evaluate(session, n, campaign=1, at=NY_NOON, registry=store)) == {"national_dnc"}
    c = consent.add(session, n, kind="ebr_inquiry", granted_at=NY_NOON - timedelta(days=30), evidence_ref="crm:77",
                    added_by="sales", recorded_at=NY_NOON)
    assert c.expires_at == NY_NOON - timedelta(days=30) + (datetime(2030, 3, 9) - datetime(2029, 12, 9))
    d = evaluate(session, n, campaign=1, at=NY_NOON, registry=store)
    assert d.allowed and "consent" in d.sources
    assert not evaluate(session, n, campaign=1, at=NY_NOON + timedelta(days=70), registry=store).allowed  # expired
    internal.add_request(session, n, channel="web", received_at=NY_NOON + timedelta(hours=1), added_by="web form")
    d = evaluate(session, n, campaign=1, at=NY_NOON + timedelta(hours=2), registry=store)
    assert codes(d) == {"internal_dnc", "national_dnc"}  # the request also ended the EBR


def test_a_registry_snapshot_over_31_days_old_is_stale(session, registry):
    store = registry(age_days=32)
    d = evaluate(session, CLEAN, campaign=1, at=NY_NOON, registry=store)
    assert codes(d) == {"registry_stale"} and "32 days old" in d.reasons[0].text


def test_florida_cap_three_per_24h(session, registry):
    store = registry()
    n = "+13055554100"
    consent.add(session, n, kind="pewc", granted_at=NY_NOON - timedelta(days=1), evidence_ref="form:1",
                added_by="web", recorded_at=NY_NOON)
    times = [NY_NOON + timedelta(hours=h) for h in (0, 1, 2)]
    for t in times:
        assert gate(session, n, campaign=1, at=t, registry=store).allowed
    d = gate(session, n, campaign=2, at=NY_NOON + timedelta(hours=3), registry=store)
    assert codes(d) == {"state_cap"} and d.temporary
    assert d.opens_at == times[0] + timedelta(hours=24)
    assert session.scalar(select(func.count()).select_from(LedgerRecord).where(LedgerRecord.kind == "gate")) == 4


def test_invalid_and_unknown_zone(session, registry):
    store = registry()
    assert codes(evaluate(session, "+44207946000", campaign=1, at=NY_NOON, registry=store)) == {"invalid_number"}
    d = evaluate(session, CLEAN, campaign=1, at=NY_NOON, zones=[], registry=store)
    assert "unknown_zone" in codes(d) and not d.temporary
