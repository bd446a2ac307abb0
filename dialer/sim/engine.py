"""The simulator's clock and event queue: virtual seconds since the run's start, mapped to real datetimes.

Events at the same instant run in the order they were scheduled, so a run is a pure function of its seed. The
same queue runs in wall-clock (optionally accelerated) time for ``dialer run --carrier sim``: ``run_realtime``
sleeps until the next event instead of jumping to it.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from datetime import datetime, timedelta

Retry = Callable[[Exception], float | None]  # an event's failure -> virtual seconds until it runs again, or None
CATCH_UP_S = 1.0  # virtual seconds a late loop runs between looks at its stop flag


class EventQueue:
    def __init__(self, t0: datetime) -> None:
        if t0.tzinfo is None:
            raise ValueError("the simulation start must be an aware datetime")
        self.t0 = t0
        self.t = 0.0
        self.processed = 0
        self._heap: list = []
        self._seq = 0
        self._dt_t, self._dt = 0.0, t0

    def dt(self, t: float) -> datetime:
        """The datetime of virtual second ``t`` (the last one kept: the loop asks for the same instant many times
        over while handling one event)."""
        if t != self._dt_t:
            self._dt_t, self._dt = t, self.t0 + timedelta(seconds=t)
        return self._dt

    def now(self) -> datetime:
        """``Clock`` protocol: the current virtual time."""
        return self.dt(self.t)

    def at(self, t: float, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` at virtual second ``t`` (never in the past)."""
        self._seq += 1
        heapq.heappush(self._heap, (t if t > self.t else self.t, self._seq, fn, args))

    def after(self, delay_s: float, fn: Callable, *args) -> None:
        self.at(self.t + delay_s, fn, *args)

    @property
    def next_t(self) -> float:
        return self._heap[0][0] if self._heap else math.inf

    def run(self, until: float = math.inf, retry: Retry | None = None) -> None:
        """Process every event due at or before ``until`` in time order. With ``retry``, an event that raises is
        handed to it: a delay puts the same event back that many virtual seconds later, ``None`` re-raises."""
        heap, pop = self._heap, heapq.heappop
        while heap and heap[0][0] <= until:
            t, _, fn, args = pop(heap)
            self.t = t
            self.processed += 1
            if retry is None:
                fn(*args)
                continue
            try:
                fn(*args)
            except Exception as e:
                delay = retry(e)
                if delay is None:
                    raise
                self.at(t + delay, fn, *args)
        if until != math.inf and until > self.t:
            self.t = until

    def run_realtime(self, speed: float = 1.0, *, until: float = math.inf, stop: Callable[[], bool] = lambda: False,
                     monotonic: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None,
                     max_sleep_s: float = 0.25, target: Callable[[], float] | None = None,
                     retry: Retry | None = None) -> None:
        """Process events as wall-clock time (times ``speed``) reaches them, until virtual second ``until`` or
        until ``stop()`` says so. ``target`` (the virtual second it is now by the process's clock) replaces the
        count from this call's start: time spent before the call (a worker's start-up) is caught up, not carried
        as a lag behind every other process. ``retry`` as in ``run``: a live worker outlives a database that is
        briefly away."""
        monotonic = monotonic or time.monotonic
        sleep = sleep or time.sleep
        start_wall, start_t = monotonic(), self.t
        while not stop() and self.t < until:
            now_t = min(until, target() if target is not None else start_t + (monotonic() - start_wall) * speed)
            # a loop far behind (a stalled host) catches up a virtual second at a time, so a stop is heard at once
            self.run(min(now_t, self.t + CATCH_UP_S), retry)
            if self.t < now_t:
                continue
            if now_t >= until:
                break
            wait = (self.next_t - now_t) / speed
            sleep(min(max(wait, 0.0), max_sleep_s))
