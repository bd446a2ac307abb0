"""The live simulated worker (``dialer.sim.live``) outlives a database that is briefly away.

In a demo the console under heavy load held SQLite's write lock past the 30 s busy timeout, and the worker's next
write raised "database is locked" out of its event loop: the process ended and the demo with it. Now an event
failing on a transient database error (``dialer.loop.transient``) runs again a virtual second later, as the
Twilio worker retries a failed turn on the next one: the database holds the state, and each retried event reads
it again (``SimFloor``'s handlers write before they change what a second run depends on). Anything else still
ends the process: a real bug must not loop silently.

Carrier news is the exception: the simulated carrier changes its own calls before it tells the loop and the
floors (a call ended is gone from its table), so its event cannot simply run again. What it tells them waits in
an ``Inbox`` instead, in order, until the database takes it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from dialer.loop.transient import is_transient
from dialer.sim.engine import EventQueue

RETRY_S = 1.0  # virtual seconds before a failed event runs again
LOG_EVERY_S = 30.0  # wall seconds between two log lines about the same outage (not one line an event)


class Waiting:
    """``EventQueue.run(retry=...)``: how long a failed event waits, or ``None`` when its error is not one to wait
    out. Counts the failures and logs them at most once every ``log_every_s`` of the wall clock."""

    def __init__(self, log: logging.Logger, monotonic: Callable[[], float] = time.monotonic,
                 retry_s: float = RETRY_S, log_every_s: float = LOG_EVERY_S) -> None:
        self.log, self.monotonic = log, monotonic
        self.retry_s, self.log_every_s = retry_s, log_every_s
        self.count = 0  # events that failed on a transient database error, in all
        self.patient = True  # False once the worker stops: its last calls finish in virtual time, no waiting
        self._unsaid = 0
        self._said_at: float | None = None

    def __call__(self, e: Exception) -> float | None:
        if not self.patient or not is_transient(e):
            return None
        self.count += 1
        self._unsaid += 1
        now = self.monotonic()
        if self._said_at is None or now - self._said_at >= self.log_every_s:
            reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
            self.log.warning("database: %s; %d events wait and run again every %.0f virtual s (%d such failures "
                             "so far)", reason, self._unsaid, self.retry_s, self.count)
            self._said_at, self._unsaid = now, 0
        return self.retry_s


class Inbox:
    """What the simulated carrier tells the loop and the floors, applied in order; on a transient database error
    the rest waits, and the whole backlog is tried again ``retry`` seconds later."""

    def __init__(self, queue: EventQueue, retry: Callable[[Exception], float | None]) -> None:
        self.q, self.retry = queue, retry
        self.items: deque[tuple[Callable, tuple]] = deque()
        self._due = False

    def put(self, fn: Callable, *args) -> None:
        self.items.append((fn, args))
        if len(self.items) == 1:  # nothing ahead of it (one being applied stays at the head until it is done)
            self.drain()

    def drain(self) -> None:
        self._due = False
        while self.items:
            fn, args = self.items[0]
            try:
                fn(*args)
            except Exception as e:
                delay = self.retry(e)
                if delay is None:
                    self.items.popleft()
                    raise
                if not self._due:
                    self._due = True
                    self.q.after(delay, self.drain)
                return
            self.items.popleft()
