"""The dialing worker in wall-clock time (``dialer run``): the dial loop on the SQL store with a carrier runtime.

A carrier runtime is what a real network needs besides ``Telephony``: ``start(handle, now)`` once (the Twilio
runtime reconciles the calls a previous worker left in flight and starts feeding its callback pump into
``handle``), then ``tick(now)`` every turn. ``dialer.carriers.twilio.runtime.TwilioRuntime`` is one; the simulated
carrier runs in its own event queue instead (``dialer.sim.live``).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from dialer.carriers.telephony import CarrierEvent, Telephony
from dialer.clock import Clock
from dialer.loop.core import DialLoop

log = logging.getLogger(__name__)
TWILIO_GRACE_S = 1.5  # decide at 1.5 s so the safe-harbor redirect reaches the caller within the 2 s


class CarrierRuntime(Protocol):
    telephony: Telephony

    def start(self, handle: Callable[[CarrierEvent], None], now: datetime) -> object: ...

    def tick(self, now: datetime) -> object: ...


def worker_name() -> str:
    """Who holds a campaign's lease: host and process, so a crashed worker's lease is recognisable."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_wallclock(loop: DialLoop, clock: Clock, stop: Callable[[], bool], *, runtime: CarrierRuntime | None = None,
                  tick_s: float = 0.25, sleep: Callable[[float], None] = time.sleep) -> None:
    """Turn the loop until ``stop()``: carrier callbacks first, then the loop's turn; wake early for the next
    2-second deadline. A failing turn is logged and retried on the next one (the database holds the state)."""
    if runtime is not None:
        runtime.start(loop.handle, clock.now())
    while not stop():
        now = clock.now()
        try:
            if runtime is not None:
                loop.advance(now)  # what a late callback causes is judged against now, not the event's time
                runtime.tick(now)
            loop.tick(now)
        except Exception:
            log.exception("dial loop turn failed at %s", now.isoformat())
        deadline = loop.next_deadline()
        wait = tick_s
        if deadline is not None:
            wait = min(wait, max(0.0, (deadline - clock.now()).total_seconds()))
        sleep(wait)
    loop.dialing = False
