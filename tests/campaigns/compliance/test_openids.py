"""The open call ids' bookkeeping (``campaigns.compliance.openids``), and why the ledger's sequence needs none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from campaigns.compliance import openids
from dnc import ledger

NOW = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)


def test_the_gaps_between_the_ids_read():
    assert openids.missing(0, [1, 2, 3]) == []
    assert openids.missing(4, [7, 8, 12]) == [(5, 6), (9, 11)]


def test_ids_seen_split_their_ranges():
    rs = [[3, 3, 10, "t"], [5, 9, 11, "u"], [20, 40, 12, "v"]]
    assert openids.without(rs, [3, 6, 9, 25]) == [[5, 5, 11, "u"], [7, 8, 11, "u"], [20, 24, 12, "v"],
                                                  [26, 40, 12, "v"]]
    assert openids.without(rs, []) == rs


def test_a_range_is_let_go_once_its_transactions_ended_and_the_grace_passed():
    rs = openids.note([(5, 6)], (90, 100), NOW)
    assert rs == [[5, 6, 100, NOW.isoformat()]]
    later = NOW + openids.GRACE
    assert openids.settle(rs, [], 99, later) == rs  # a transaction that may hold them still runs
    assert openids.settle(rs, [], 100, NOW + timedelta(seconds=1)) == rs  # the grace
    assert openids.settle(rs, [], 100, later) == []
    assert openids.settle(rs, [], None, NOW) == []  # SQLite: absent is gone
    assert openids.note([(5, 6)], None, NOW) == [[5, 6, None, NOW.isoformat()]]


def test_a_claim_not_sent_yet_stays_open_whatever():
    rs = [[5, 9, 100, NOW.isoformat()]]
    assert openids.settle(rs, [7], 200, NOW + openids.GRACE) == [[7, 7, 100, NOW.isoformat()]]
    assert openids.settle(rs, [7], None, NOW) == [[7, 7, 100, NOW.isoformat()]]
    assert openids.settle(rs, [7], 50, NOW) == [[5, 6, 100, NOW.isoformat()], [7, 7, 100, NOW.isoformat()],
                                                 [8, 9, 100, NOW.isoformat()]]


def test_a_rebuild_keeps_only_the_ids_not_let_go_before():
    only = [[5, 6, 1, "t"], [50, 2 ** 62]]
    assert [r[:2] for r in openids.note([(1, 10), (40, 60)], (1, 2), NOW, only)] == [[5, 6], [50, 60]]


def test_ledger_appends_commit_in_sequence_order(sessions, engine):
    """``last_ledger_seq`` is a plain high mark because an append holds the chain head until it commits: a second
    append waits for the first, so no record can become visible after a higher sequence number did."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's one writer serializes appends already")
    with sessions.begin() as s:
        ledger.append(s, "test", at=NOW)
    first, second = sessions(), sessions()
    try:
        ledger.append(first, "test", at=NOW)
        second.execute(text("SET LOCAL lock_timeout = '200ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            ledger.append(second, "test", at=NOW)
    finally:
        first.rollback()
        second.rollback()
        first.close()
        second.close()
