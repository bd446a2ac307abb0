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
