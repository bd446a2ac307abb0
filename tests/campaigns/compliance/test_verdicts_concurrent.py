"""Every placed call is judged whatever the order its transaction commits in (PostgreSQL: several dial workers
draw call ids from one sequence and commit in any order, so a call can become visible after a later id was judged).

Real concurrent transactions, so PostgreSQL only: SQLite has one writer, whose transactions commit in id order (an
open one holds the write lock, and nobody else can write meanwhile)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.compliance import verdicts
from campaigns.compliance.models import CallVerdict, VerdictState
from campaigns.dispatch.models import Call
from dnc.registry import Store, generate, load_full

NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # 12:00 in New York, a Tuesday
LATE_NIGHT = NOON + timedelta(hours=10)  # 22:00 in New York: outside the calling window
EARLIER, LATER = "+12122345602", "+12122345603"


@pytest.fixture
def setup(tmp_path, setenv, sessions, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: calls commit in id order")
    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    store = Store(tmp_path / "dnc")
    with sessions.begin() as s:
        path = generate(tmp_path / "registry.txt", 500, area_codes=("212",), seed=5).path
        load_full(s, store, [path], version_date=(NOON - timedelta(days=3)).date(), loaded_by="test",
                  now=NOON - timedelta(days=3), area_codes="212")
        cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    with sessions.begin() as s:
        verdicts.refresh(s, store, NOON)  # the state exists: the job takes its own (unlocked) way from now on
    return store, cid


def _call(s, cid: int, phone: str, at: datetime) -> int:
    c = Call(campaign_id=cid, phone=phone, placed_at=at, ended_at=at + timedelta(seconds=20), status="ended",
             outcome="no_answer")
    s.add(c)
    s.flush()
    return c.id


def _run(sessions, store, now: datetime, how: str) -> verdicts.Refreshed | None:
    with sessions() as s:
        if how == "job":
            return verdicts.refresh_unlocked(s, store, now)
        r = verdicts.refresh(s, store, now)  # what a report does before it reads
        s.commit()
        return r


@pytest.mark.parametrize("how", ["job", "report"])
def test_a_call_committed_after_a_later_call_is_judged(sessions, setup, how):
    """Worker A draws a call id and has not committed; worker B draws the next id and commits; the verdicts run
    sees only B's call. A commits: its call, below the id already judged, must still be judged."""
    store, cid = setup
    first = sessions()
    try:
        held = _call(first, cid, EARLIER, LATE_NIGHT)  # id drawn, transaction still open
        with sessions.begin() as other:
            later = _call(other, cid, LATER, NOON + timedelta(minutes=5))
        assert later > held
        r = _run(sessions, store, NOON + timedelta(minutes=6), how)
        assert r is not None and r.judged == 1
        first.commit()
    finally:
        first.close()
    r = _run(sessions, store, NOON + timedelta(minutes=7), how)
    assert r is not None and r.judged == 1 and r.findings == 1
    with sessions() as s:
        assert s.scalars(select(CallVerdict.call_id)).all() == [held], "the late-committed call was never judged"
        assert verdicts.checked(s, NOON.date(), LATE_NIGHT.date(), cid) == 2
        assert verdicts.pending(s) == 0
    r = _run(sessions, store, NOON + timedelta(minutes=8), how)
    assert r is not None and r.judged == 0  # judged once


def test_an_id_held_by_a_long_transaction_waits_for_it(sessions, setup):
    """A transaction that holds a call id for longer than any grace (a long import) is waited for: the id stays
    open until that transaction ends, however long it takes; an id whose transaction rolled back is let go then."""
    store, cid = setup
    long_tx, gone = sessions(), sessions()
    try:
        held = _call(long_tx, cid, EARLIER, LATE_NIGHT)
        with sessions.begin() as other:
            _call(other, cid, LATER, NOON)
        lost = _call(gone, cid, LATER, NOON + timedelta(minutes=1))
        gone.rollback()  # its id is never used
        with sessions.begin() as other:
            _call(other, cid, LATER, NOON + timedelta(minutes=2))
        for minutes in (3, 60, 600):  # the open transaction keeps the ids drawn since it began open
            assert _run(sessions, store, NOON + timedelta(minutes=minutes), "job") is not None
            with sessions() as s:
                assert [r[:2] for r in s.get(VerdictState, 1).open_ids] == [[held, held], [lost, lost]]
        long_tx.commit()
    finally:
        long_tx.close()
        gone.close()
    r = _run(sessions, store, NOON + timedelta(minutes=601), "job")
    assert r is not None and r.judged == 1 and r.findings == 1
    with sessions() as s:
        assert s.scalars(select(CallVerdict.call_id)).all() == [held]
        assert s.get(VerdictState, 1).open_ids == [] and verdicts.pending(s) == 0


def test_late_calls_are_judged_in_steps_like_a_backlog(sessions, setup):
    """Many calls committed late (an import's) are judged ``limit`` at a time; the rest stay open meanwhile."""
    store, cid = setup
    first = sessions()
    try:
        held = [_call(first, cid, EARLIER, NOON + timedelta(hours=h)) for h in range(3)]
        with sessions.begin() as other:
            _call(other, cid, LATER, NOON)
        assert verdicts.refresh_unlocked(sessions(), store, NOON, limit=2).judged == 1
        first.commit()
    finally:
        first.close()
    with sessions() as s:
        assert verdicts.pending(s) == 3
    later = NOON + timedelta(hours=1)
    assert verdicts.refresh_unlocked(sessions(), store, later, limit=2).judged == 2
    with sessions() as s:
        assert verdicts.pending(s) == 1 and [r[:2] for r in s.get(VerdictState, 1).open_ids] == [[held[2], held[2]]]
    assert verdicts.refresh_unlocked(sessions(), store, later, limit=2).judged == 1
    with sessions() as s:
        assert verdicts.pending(s) == 0 and s.get(VerdictState, 1).open_ids == []
        assert verdicts.checked(s, NOON.date(), NOON.date(), cid) == 4
