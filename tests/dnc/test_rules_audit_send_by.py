"""Edges the gate meets because a call leaves after its decision: the decision covers the call until ``send_by``
(the decision plus ``send_margin_seconds``, docs/compliance.md §2.1), so whatever lets the call go must still hold
then. A written consent or an EBR that ends within that minute lifts nothing (the call may reach a listed or
wireless number after it ended), and the registry snapshot and the Reassigned Numbers Database data must still be
young enough at ``send_by`` (a decision at 23:59:30 UTC is sent on the next day, a day older). Each case is also
put to the reconciliation with a call sent at ``send_by``: the gate allows only what the reconciliation passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dnc.reconcile import CallRecord, reconcile_findings
from dnc.rules import current_rules
from tests.dnc.audit_helpers import ask, check, load_registry, pewc

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
NY = "+12125554123"


def _margin() -> timedelta:
    return timedelta(seconds=current_rules().send_margin_seconds)


def _reconciled(session, store, at: datetime) -> tuple[str, ...]:
    found = reconcile_findings(session, [CallRecord(NY, at, 1, ref="c")], store)
    return found[0].codes if found else ()


@pytest.mark.parametrize("kind", ["pewc", "ebr_purchase", "ebr_inquiry"])
@pytest.mark.parametrize(("ends_after", "allowed"), [(timedelta(seconds=30), False), (timedelta(seconds=59), False),
                                                     (timedelta(seconds=61), True), (timedelta(hours=1), True)])
def test_a_consent_ending_before_the_call_is_surely_sent_lifts_nothing(session, store, tmp_path, kind, ends_after,
                                                                        allowed):
    load_registry(session, store, tmp_path, AT, NY)  # NY is on the national registry
    pewc(session, NY, AT, kind=kind, expires_at=AT + ends_after)
    d = ask(session, NY, AT)
    check(session, d, allowed, () if allowed else ("national_dnc",))
    sent = AT + min(ends_after, _margin())  # the last moment the decision covers, or the consent's end if earlier
    assert ("national_dnc" in _reconciled(session, store, sent)) is (not allowed and ends_after <= _margin())


@pytest.mark.parametrize(("at", "allowed"), [(datetime(2030, 1, 8, 23, 58, 59, tzinfo=UTC), True),
                                             (datetime(2030, 1, 8, 23, 59, 30, tzinfo=UTC), False)])
def test_a_registry_snapshot_that_turns_too_old_before_the_call_leaves(session, store, tmp_path, at, allowed):
    """A snapshot 31 days old on the decision's UTC day is 32 days old on the next: a decision in the last minute
    of the day covers a call sent after midnight."""
    load_registry(session, store, tmp_path, at, age_days=31)
    d = ask(session, NY, at - timedelta(hours=4))  # the same snapshot that afternoon (23:59 UTC is 18:59 in New York)
    check(session, d, True)
    d = ask(session, NY, at)
    check(session, d, allowed, () if allowed else ("registry_stale",))
    if not allowed:
        assert "registry_stale" in _reconciled(session, store, at + _margin())


def test_reassigned_numbers_data_that_turn_too_old_before_the_call_leaves(session, store, tmp_path):
    """A call resting on consent needs RND data no older than ``max_age_days`` when it is made."""
    at = datetime(2030, 1, 8, 23, 59, 30, tzinfo=UTC)
    load_registry(session, store, tmp_path, at - timedelta(days=current_rules().reassigned.max_age_days), NY)
    load_registry(session, store, tmp_path, at, NY, state_lists=False, rnd=False)  # a fresh registry, old RND
    pewc(session, NY, at)
    check(session, ask(session, NY, at - timedelta(minutes=5)), True)
    check(session, ask(session, NY, at), False, ("rnd_stale",))
    assert "rnd_stale" in _reconciled(session, store, at + _margin())
