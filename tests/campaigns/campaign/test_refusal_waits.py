"""How long a lead the pre-dial gate refused for a reason time can clear waits before it is looked at again.

A host still fetching the national registry snapshot in force refuses the numbers it covers
(``registry_unavailable``) for the seconds the fetch takes: such a lead is looked at again within a minute (a
failed fetch is retried a minute later), not parked for the 15 minutes a stale registry or a state list waits.
Parked, a worker starting on a fresh host, or one whose fetch raced its first dialing turn, left five leads of the
kill test uncalled for 15 minutes with four agents ready."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.dispatch.rules import after_refusal
from dnc.reasons import Reason

NOW = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_a_registry_being_fetched_is_looked_at_again_within_a_minute():
    change = after_refusal([Reason("registry_unavailable", "being fetched")], None, NOW)
    assert change.status is None and NOW < change.next_attempt_at <= NOW + timedelta(minutes=1)


def test_other_temporary_refusals_wait_as_before_and_the_longest_wait_wins():
    stale = after_refusal([Reason("registry_stale", "31 days old")], None, NOW)
    assert stale.next_attempt_at == NOW + timedelta(minutes=15)
    both = after_refusal([Reason("registry_unavailable", "x"), Reason("state_list_missing", "y")], None, NOW)
    assert both.next_attempt_at == NOW + timedelta(minutes=15)
    opens = NOW + timedelta(hours=2)
    assert after_refusal([Reason("registry_unavailable", "x")], opens, NOW).next_attempt_at == opens
