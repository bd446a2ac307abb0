"""The account's shared send clock: slots never closer than 1 / rate, whoever books them, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from campaigns.cpsbudget import service as budget
from campaigns.db import make_engine, session_factory, session_scope
from dialer.carriers.sendpace import DatabaseBudget, MemoryBudget

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[3]


def max_in_window(times: list[datetime], window_s: float = 1.0) -> int:
    ts = sorted(t.timestamp() for t in times)
    best, j = 0, 0
    for i, t in enumerate(ts):
        while t - ts[j] >= window_s - 1e-9:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_book_spaces_slots_from_the_later_of_the_clock_and_now_up_to_the_horizon():
    gap = timedelta(seconds=0.1)
    slots, after = budget.book(None, T0, 3, 10, 1.0)
    assert slots == [T0, T0 + gap, T0 + 2 * gap] and after == T0 + 3 * gap
    slots, after = budget.book(T0 + 3 * gap, T0, 50, 10, 1.0)  # booked up to the horizon (T0 + 1 s), no further
    assert slots[0] == T0 + 3 * gap and slots[-1] == T0 + timedelta(seconds=1) and after == T0 + 11 * gap
    assert budget.book(after, T0, 5, 10, 1.0) == ([], after)  # nothing fits before the horizon
    later = T0 + timedelta(seconds=30)  # an idle minute is not saved up: the clock starts from now again
    assert budget.book(after, later, 2, 10, 1.0)[0] == [later, later + gap]


def test_reserve_and_give_back_on_the_database(sessions):
    with session_scope(sessions) as s:
        first = budget.reserve(s, "AC1", 4, T0, 20.0, 1.0)
    assert [(b - a).total_seconds() for a, b in zip(first, first[1:], strict=False)] == [0.05] * 3
    with session_scope(sessions) as s:  # the last two went unused: back on the clock, taken by the next booking
        assert budget.give_back(s, "AC1", first[2:], 20.0)
        assert budget.reserve(s, "AC1", 1, T0, 20.0, 1.0) == [first[2]]
        assert not budget.give_back(s, "AC1", first[:1], 20.0)  # not the tail of the clock any more: lost
        assert budget.reserve(s, "AC2", 1, T0, 20.0, 1.0) == [T0]  # each account has its own clock


def test_one_busy_campaign_can_use_every_slot(sessions):
    b = DatabaseBudget(sessions, "AC1", 20.0)
    got = []
    for i in range(40):  # a dialing turn every 50 ms, each asking for more than the limit
        got += b.reserve(50, T0 + timedelta(seconds=0.05 * i), 0.5)
    assert max_in_window(got) == 20 and len(got) == 40 + 10  # 2 s of slots plus the half second booked ahead


def test_two_engines_booking_at_once_never_share_or_crowd_a_slot(db_url, setenv):
    """Two workers (their own engine and connections each) book from one account's clock at the same moments."""
    setenv(DIALER_SQLITE_LOCKING="immediate")  # the product's locking: each booking takes the write lock
    engines = [make_engine(db_url) for _ in range(2)]
    rate, got, errors = 20.0, [[], []], []
    start = threading.Barrier(2)
    steps = itertools.count()  # one clock for both: each booking happens 20 ms after the one before

    def worker(k: int) -> None:
        b = DatabaseBudget(session_factory(engines[k]), "AC1", rate)
        start.wait()
        try:
            for _ in range(100):
                got[k].extend(b.reserve(2, T0 + timedelta(seconds=0.02 * next(steps)), 0.3))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for e in engines:
        e.dispose()
    assert not errors
    both = sorted(got[0] + got[1])
    assert got[0] and got[1]
    assert len(set(both)) == len(both)  # nobody was handed a slot twice
    assert min((b - a).total_seconds() for a, b in zip(both, both[1:], strict=False)) >= 1 / rate - 1e-6
    assert max_in_window(both) <= rate


@pytest.mark.slow
def test_two_worker_processes_together_stay_within_the_limit(db_url):
    """Two real processes book on the wall clock from one database, as two workers of one account do."""
    env = os.environ | {"DIALER_SQLITE_LOCKING": "immediate"}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.campaigns.cpsbudget.booker", db_url, "AC9", "10", "20"],
                              cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    slots = []
    for p in procs:
        out, _ = p.communicate(timeout=60)
        assert p.returncode == 0
        slots.append([datetime.fromisoformat(t) for t in json.loads(out.strip().splitlines()[-1])])
    both = sorted(slots[0] + slots[1])
    assert len(both) == 40 and len(set(both)) == 40
    assert min((b - a).total_seconds() for a, b in zip(both, both[1:], strict=False)) >= 0.1 - 1e-6
    assert max_in_window(both) <= 10


def test_memory_budget_follows_the_same_rule():
    b = MemoryBudget(10.0)
    first = b.reserve(3, T0, 1.0)
    b.give_back(first[1:])
    assert b.reserve(1, T0, 1.0) == [first[1]]
