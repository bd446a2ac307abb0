"""When each call may be sent: the account's shared send clock, and this process's own guard on what it sends.

A carrier counts calls per second per account when each request *arrives*, and queues (Twilio) or refuses the
excess. Every worker of one database books its send moments from one clock per account (``campaigns.cpsbudget``,
slots ``1 / pace`` apart), so the workers together stay within the limit and one busy campaign can use all of it.
``pace`` is a little under the limit (``PACE_SHARE``): a request leaves a few milliseconds after its slot and
arrives a few milliseconds later still, and that headroom absorbs such jitter between workers. Within one process,
``SendPacer`` also holds back a send, right before its request is written (``begin_send``/``end_send``, run by the
HTTP connection), while ``floor(cps)`` of its own sends finished writing within the last second plus ``margin_s``
or are being written: a thread that overslept its slot, or was kept off the CPU between its stamp and its write,
cannot land on top of the next one, whatever the host's load.

``DatabaseBudget`` is the product (any number of workers on one database); ``MemoryBudget`` is the same rule in one
process, for tests and tools without a database.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from campaigns.cpsbudget import service as cps_budget
from campaigns.db import session_scope
from dialer.carriers.telephony import check_send_by
from dialer.clock import Clock

PACE_SHARE = 0.975  # the share of the account's CPS the send clock hands out (the rest absorbs arrival jitter)
HORIZON_S = 1.0  # how far ahead the dial loop books slots for the calls it claims (more than a turn lasts)
ANY_SLOT_S = 3600.0  # a single call (an agent's line, a retry) takes the next free slot, however far
# a send may leave this long after its slot and still keep every second within the limit across workers: any
# floor(cps) + 1 consecutive slots span (1 / PACE_SHARE) s, 25.6 ms more than a second; later, it books a new slot
LATE_S = 0.8 * (1 / PACE_SHARE - 1)
# a sending thread wakes this long before its slot, builds its request meanwhile and writes it at the slot
# (``begin_send`` waits out the rest): building it after the slot made a loaded host's sends late
EARLY_S = 0.03


class Budget(Protocol):
    """An account's send clock: ``reserve`` books up to ``n`` slots no later than ``now + horizon_s``."""

    rate: float

    def reserve(self, n: int, now: datetime, horizon_s: float) -> list[datetime]: ...

    def give_back(self, unused: list[datetime]) -> None: ...


class DatabaseBudget:
    """The account's send clock in the database, shared by every worker (``campaigns.cpsbudget.service``)."""

    def __init__(self, sessions: sessionmaker[Session], account: str, rate: float) -> None:
        self.sessions, self.account, self.rate = sessions, account, rate

    def reserve(self, n: int, now: datetime, horizon_s: float) -> list[datetime]:
        with session_scope(self.sessions) as s:
            return cps_budget.reserve(s, self.account, n, now, self.rate, horizon_s)

    def give_back(self, unused: list[datetime]) -> None:
        if unused:
            with session_scope(self.sessions) as s:
                cps_budget.give_back(s, self.account, unused, self.rate)


class MemoryBudget:
    """The same send clock kept in this process (one worker, no database)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._next: datetime | None = None
        self._lock = threading.Lock()

    def reserve(self, n: int, now: datetime, horizon_s: float) -> list[datetime]:
        with self._lock:
            slots, self._next = cps_budget.book(self._next, now, n, self.rate, horizon_s)
            return slots

    def give_back(self, unused: list[datetime]) -> None:
        with self._lock:
            if unused and self._next == unused[-1] + timedelta(seconds=1.0 / self.rate):
                self._next = unused[0]


class SendPacer:
    """Books slots (``reserve``) and blocks a sending thread until its moment (``wait_turn``)."""

    def __init__(self, budget: Budget, cps: float, clock: Clock, *, margin_s: float = 0.01,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.budget = budget
        self.clock = clock
        self.window = max(1, math.floor(cps + 1e-9))  # at most this many of our sends ...
        self.span = timedelta(seconds=max(1.0, self.window / cps) + margin_s)  # ... within any span this long
        self._sent: deque[datetime] = deque(maxlen=self.window)  # when our last writes finished
        self._writing = 0  # sends past the guard whose write has not finished
        self._lock = threading.Lock()
        self._sleep = sleep
        self.held = 0  # sends the local guard delayed (a thread that woke late, or a retry squeezed in)
        self.rebooked = 0  # sends that reached the wire more than ``LATE_S`` after their slot: sent at a new one

    def reserve(self, n: int, now: datetime, horizon_s: float = HORIZON_S) -> list[datetime]:
        return self.budget.reserve(n, now, horizon_s)

    def give_back(self, unused: list[datetime]) -> None:
        self.budget.give_back(unused)

    def wait_turn(self, slot: datetime | None = None,
                  released: Callable[[], AbstractContextManager] = nullcontext) -> datetime:
        """``wait_slot``, then a send through the guard with nothing to write (tests, tools)."""
        slot = self.wait_slot(slot, released)
        at = self.begin_send(released, slot)
        self.end_send()
        return at

    def wait_slot(self, slot: datetime | None = None,
                  released: Callable[[], AbstractContextManager] = nullcontext, early_s: float = 0.0,
                  send_by: datetime | None = None) -> datetime:
        """Sleep until ``early_s`` before ``slot`` (None: book the next free one first) and return it; ``released``
        is entered around the waits. A slot after ``send_by`` is not waited for (``SendTooLate`` at once)."""
        if slot is None:
            slot = self.budget.reserve(1, self.clock.now(), ANY_SLOT_S)[0]
        check_send_by(send_by, slot, f"its send slot is at {slot.isoformat()}")
        while (wait := (slot - self.clock.now()).total_seconds() - early_s) > 0:
            with released():
                self._sleep(wait)
        return slot

    def begin_send(self, released: Callable[[], AbstractContextManager] = nullcontext,
                   slot: datetime | None = None, send_by: datetime | None = None) -> datetime:
        """Called right before a request is written: waits while ``floor(cps)`` of our sends are written within the
        last ``span`` or still being written, and returns the moment this one goes. ``end_send`` must follow the
        write. A send counts from when its write *finished*, an upper bound of when it reached the carrier, so a
        thread held up between its stamp and its write can never squeeze one more into a second.

        The local guard sees only this process's sends. A send more than ``LATE_S`` past its ``slot`` (a thread kept
        off the CPU, a long request build) would crowd another worker's next slots, so it books a new slot and
        waits for it instead: the late slot goes unused, the account's second stays within the limit.

        A send whose moment comes after ``send_by`` is not made: ``SendTooLate`` (nothing written, nothing counted)."""
        if slot is not None:
            self.wait_slot(slot, released, send_by=send_by)  # built ahead (``EARLY_S``): written at the slot
        while True:
            with self._lock:
                now = self.clock.now()
                check_send_by(send_by, now)
                late = slot is not None and (now - slot).total_seconds() > LATE_S
                if not late:
                    cutoff = now - self.span
                    recent = [t for t in self._sent if t > cutoff]
                    over = len(recent) + self._writing - self.window + 1  # how many must age out first
                    if over <= 0:
                        self._writing += 1
                        return now
                    wait = (recent[over - 1] - cutoff).total_seconds() if over <= len(recent) else 0.002
                    self.held += 1
            if late:
                self.rebooked += 1
                slot = self.wait_slot(None, released, send_by=send_by)
                continue
            with released():
                self._sleep(max(wait, 0.0005))

    def end_send(self) -> None:
        with self._lock:
            self._writing -= 1
            self._sent.append(self.clock.now())
