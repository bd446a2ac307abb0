"""Carrier requests about calls in progress (connect, abandon, hang up, voicemail) without the loop waiting on them.

Real Twilio answers an update in 150-300 ms. At 20 calls/s a worker sends about 9 connects, 4 machine hang-ups and
the odd abandon every second; one at a time on the thread that delivers callbacks, those requests alone would fill
it, and every answer behind them would wait past its 2 seconds. ``CarrierLanes`` sends them on a few threads
instead, while the loop goes on:

- each call's requests go down one lane (chosen by the carrier's reference), so they reach the carrier in the order
  the loop asked for them (a connect, then the hang-up of the machine it turned out to be);
- what must follow a request's success runs on the lane right after it (``then``: the call recorded as bridged
  only once the carrier moved it, so a worker that dies before the request leaves it for reconciliation);
- a failure is queued for the loop (``failures``), which acts on it under its own lock at its next pass (a connect
  that failed frees the agent and lets the call wait for another, or for its abandon at the grace).
"""

from __future__ import annotations

import logging
import queue
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
LANES = 16  # requests in flight at most: ~15 a second of 150-300 ms each need 3-5; the rest absorbs bursts


@dataclass(frozen=True)
class Failure:
    """A carrier request that did not go through: ``what`` the loop asked (``"connect"``, ``"abandon"`` …) and
    ``context`` it gave (for a connect: the call and the agent)."""

    what: str
    ref: str
    error: Exception
    context: Any = None


class CarrierLanes:
    def __init__(self, lanes: int = LANES) -> None:
        self._queues: list[queue.SimpleQueue] = [queue.SimpleQueue() for _ in range(lanes)]
        self._threads = [threading.Thread(target=self._run, args=(q,), name=f"carrier-lane-{i}", daemon=True)
                         for i, q in enumerate(self._queues)]
        self._failures: queue.SimpleQueue[Failure] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._busy = 0  # submitted, not finished
        self._closed = False
        self.most_busy = 0
        self.sent = 0
        for t in self._threads:
            t.start()

    def submit(self, what: str, ref: str, request: Callable[[], None], *,
               then: Callable[[], None] | None = None, context: Any = None) -> None:
        """Send ``request`` on ``ref``'s lane; ``then`` runs after it succeeded. Once closed (a stopped worker
        settling its last calls), the request is sent here and now."""
        item = (what, ref, request, then, context)
        with self._lock:
            self._busy += 1
            self.most_busy = max(self.most_busy, self._busy)
            closed = self._closed
        if closed:
            self._send(item)
        else:
            self._queues[zlib.crc32(ref.encode()) % len(self._queues)].put(item)

    def failures(self) -> list[Failure]:
        """The requests that failed since the last call (the loop's to act on)."""
        out = []
        while True:
            try:
                out.append(self._failures.get_nowait())
            except queue.Empty:
                return out

    def busy(self) -> int:
        with self._lock:
            return self._busy

    def close(self) -> None:
        """Send everything submitted, then end the threads (what is submitted afterwards goes at once)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        for q in self._queues:
            q.put(None)
        for t in self._threads:
            t.join()

    def _run(self, q: queue.SimpleQueue) -> None:
        while (item := q.get()) is not None:
            self._send(item)

    def _send(self, item: tuple) -> None:
        what, ref, request, then, context = item
        try:
            try:
                request()
            except Exception as e:  # the loop decides what a failure means (under its lock)
                log.warning("%s on %s failed: %s", what, ref, e)
                self._failures.put(Failure(what, ref, e, context))
                return
            self.sent += 1
            if then is not None:
                try:
                    then()
                except Exception:  # the request went through: only its record is missing (reconciliation's)
                    log.exception("recording %s on %s failed", what, ref)
        finally:
            with self._lock:
                self._busy -= 1
