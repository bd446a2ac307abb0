"""The event queue in real time: a loop that fell far behind (a stalled host) hears a stop within a virtual second
of catching up, instead of running every event it owes first (a worker ignored SIGTERM for as long)."""

from __future__ import annotations

from datetime import UTC, datetime

from dialer.sim.engine import EventQueue


def test_a_loop_far_behind_stops_within_a_virtual_second():
    q = EventQueue(datetime(2030, 1, 8, 15, 0, tzinfo=UTC))
    ran: list[float] = []

    def tick() -> None:
        ran.append(q.t)
        q.after(0.1, tick)

    q.at(0.0, tick)
    asked = []

    def stop() -> bool:  # SIGTERM arrives while the loop is 600 virtual seconds behind
        asked.append(q.t)
        return len(asked) > 1

    q.run_realtime(1.0, stop=stop, monotonic=lambda: 600.0 if asked else 0.0, sleep=lambda s: None)
    assert ran and max(ran) <= 1.0 + 1e-9  # not the 600 s owed


def test_an_event_failing_on_a_transient_database_error_runs_again_and_any_other_error_ends_the_run():
    import logging
    import sqlite3

    import pytest
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from dialer.sim.retry import Waiting

    q = EventQueue(datetime(2030, 1, 8, 15, 0, tzinfo=UTC))
    tries: list[float] = []

    def write() -> None:  # the database is locked for its first three tries
        tries.append(q.t)
        if len(tries) <= 3:
            raise OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))

    q.at(2.0, write)
    now = [0.0]
    waiting = Waiting(logging.getLogger("test"), monotonic=lambda: now[0])
    q.run_realtime(10.0, until=20, monotonic=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + 0.05),
                   retry=waiting)
    assert tries == [2.0, 3.0, 4.0, 5.0] and waiting.count == 3

    def bug() -> None:
        raise ProgrammingError("SELECT nope", {}, sqlite3.OperationalError("no such column: nope"))

    q.after(1.0, bug)
    with pytest.raises(ProgrammingError):  # a real bug is not retried forever, silently
        q.run_realtime(10.0, until=40, monotonic=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + 0.05),
                       retry=waiting)
