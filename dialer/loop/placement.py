"""Placing calls without the dial loop waiting on the carrier.

A create request at Twilio takes 150-300 ms; one at a time, a worker could never place more than a few calls a
second. ``ConcurrentPlacer`` keeps several in flight on a bounded pool of threads instead:

- the loop books send slots for what it is about to claim (``reserve``, from the account's shared send clock, at
  most ``HORIZON_S`` ahead), claims that many leads, returns the slots it could not use (``give_back``) and hands
  each claim over with its slot (``submit``), all without waiting;
- a pool thread waits for its slot (``SendPacer.wait_turn``), sends the create and writes the outcome at once:
  the carrier's reference and **the moment the create was sent** as the call's ``placed_at``, or, when the carrier
  never took the call, ``place_failed`` (the row goes, the lead is due again, the attempt is not counted), or, when
  its moment came after the request's ``send_by`` (the gate's decision no longer covers it), ``send_refused``,
  or, when the create went out and its answer never came, ``placed_unknown`` (the claim kept until the carrier's
  call log settles it); a reference the database refused to store is handed to the loop (``unrecorded``), which
  writes it on its next pass;
- the loop takes in what finished (``finished``) at the start of each turn and carrier pass and tells the pacer
  ``CallPlaced`` with that same moment, before any callback of the call can reach it (a result is queued before its
  reference is written, and the loop reads the queue before it reads callbacks);
- until then a call counts as ``pending`` for its campaign, so the pacer's plan is not spent twice.

How many requests may be in flight is sized from the CPS limit and the request time measured so far (``room``):
enough for ``HORIZON_S`` of booked slots plus the requests still out, within ``MAX_THREADS``.
"""

from __future__ import annotations

import logging
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from dialer.carriers.sendpace import HORIZON_S, SendPacer
from dialer.carriers.telephony import DialRequest, PlaceFailed, PlaceOutcomeUnknown, SendTooLate
from dialer.clock import Clock
from dialer.loop.store import LoopStore

log = logging.getLogger(__name__)
MAX_THREADS = 128
FIRST_REQUEST_S = 0.5  # what a create is assumed to take before any was measured


@dataclass(frozen=True)
class Placement:
    """What became of one submitted call: ``ref`` and ``sent_at`` when the carrier took it, else ``error``."""

    call_id: int
    campaign_id: int
    ref: str | None
    sent_at: datetime | None
    error: str | None = None
    retryable: bool = True
    refused: bool = False  # never sent: the gate's decision expired before its moment (``SendTooLate``)
    unknown: bool = False  # sent, never answered: the carrier may have the call (``PlaceOutcomeUnknown``)


class ConcurrentPlacer:
    """``place(request, slot) -> (ref, sent_at)`` is the carrier's paced create (it raises ``PlaceFailed``)."""

    def __init__(self, place: Callable[[DialRequest, datetime | None], tuple[str, datetime]], pacer: SendPacer,
                 store: LoopStore, provider: str, cps: float, clock: Clock, *,
                 request_times: Callable[[], list[float]] = list, horizon_s: float = HORIZON_S) -> None:
        self._place = place
        self.pacer = pacer
        self.store = store
        self.provider = provider
        self.cps = cps
        self.clock = clock
        self.horizon_s = horizon_s
        self._request_times = request_times  # the carrier's measured request times (seconds, most recent last)
        self._pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="place")  # threads as needed
        self._done: queue.SimpleQueue[Placement] = queue.SimpleQueue()
        self._unrecorded: queue.SimpleQueue[Placement] = queue.SimpleQueue()  # taken, reference not stored
        self._lock = threading.Lock()
        self._pending: dict[int, int] = {}  # call id -> campaign id: submitted, not yet taken in by the loop
        self._in_flight = 0  # submitted, not yet finished
        self.most_in_flight = 0

    # --- what the loop calls (under its lock; none of it waits on the carrier) -----------------------------
    def reserve(self, n: int, now: datetime) -> list[datetime]:
        """Up to ``n`` send slots within the horizon from the clock's now (the turn's ``now`` may be stale by the
        time it books: ringing agents' lines comes first)."""
        return self.pacer.reserve(n, max(now, self.clock.now()), self.horizon_s) if n > 0 else []

    def give_back(self, unused: list[datetime]) -> None:
        if unused:
            self.pacer.give_back(unused)

    def room(self) -> int:
        """How many more calls may be submitted now."""
        with self._lock:
            return max(0, self.limit(self.request_s()) - self._in_flight)

    def limit(self, request_s: float) -> int:
        """Requests in flight at ``cps`` when each waits up to the horizon for its slot and takes ``request_s``."""
        return min(MAX_THREADS, math.ceil(self.cps * (self.horizon_s + 2 * request_s)) + 2)

    def request_s(self) -> float:
        """The 90th percentile of the create times measured so far (a first guess before any)."""
        times = sorted(self._request_times()[-200:])
        return times[int(0.9 * (len(times) - 1))] if times else FIRST_REQUEST_S

    def submit(self, request: DialRequest, slot: datetime | None) -> None:
        with self._lock:
            self._pending[request.call_id] = request.campaign_id
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        self._pool.submit(self._run, request, slot)

    def pending(self, campaign_id: int) -> int:
        with self._lock:
            return sum(1 for c in self._pending.values() if c == campaign_id)

    def is_pending(self, call_id: int) -> bool:
        with self._lock:
            return call_id in self._pending

    def finished(self) -> list[Placement]:
        """Everything that finished since the last call; those calls are no longer pending."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                break
        if out:
            with self._lock:
                for p in out:
                    self._pending.pop(p.call_id, None)
        return out

    def unrecorded(self) -> list[Placement]:
        """Calls the carrier took whose reference the database refused to store (the loop writes them again)."""
        out = []
        while True:
            try:
                out.append(self._unrecorded.get_nowait())
            except queue.Empty:
                return out

    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def close(self) -> None:
        """Wait for every submitted call to be sent or given back."""
        self._pool.shutdown(wait=True)

    # --- a pool thread -------------------------------------------------------------------------------------
    def _run(self, request: DialRequest, slot: datetime | None) -> None:
        try:
            try:
                ref, sent_at = self._place(request, slot)
            except SendTooLate as e:
                log.warning("call %s to %s not sent: %s", request.call_id, request.to, e)
                self._refused(request, e)
                return
            except PlaceOutcomeUnknown as e:
                log.warning("call %s to %s may have been placed: %s", request.call_id, request.to, e)
                self._unknown(request, e)
                return
            except PlaceFailed as e:
                log.warning("call %s to %s not placed: %s", request.call_id, request.to, e)
                self._failed(request, str(e), e.retryable)
                return
            except Exception as e:  # a bug or a dead database: the call was not sent (or reconciliation adopts it)
                log.exception("placing call %s failed", request.call_id)
                self._failed(request, f"{type(e).__name__}: {e}", True)
                return
            # queued before the reference is stored: the loop hears of the placement before any of its callbacks
            self._done.put(Placement(request.call_id, request.campaign_id, ref, sent_at))
            try:
                self.store.placed(request.call_id, self.provider, ref, sent_at)
            except Exception:  # the call exists at the carrier: the loop writes its reference on its next pass
                log.exception("storing the placement of call %s (%s) failed", request.call_id, ref)
                self._unrecorded.put(Placement(request.call_id, request.campaign_id, ref, sent_at))
        finally:
            with self._lock:
                self._in_flight -= 1

    def _refused(self, request: DialRequest, e: SendTooLate) -> None:
        try:
            self.store.send_refused(request.call_id, self.clock.now(), e.send_by, e.at)
        except Exception:  # the row stays queued: reconciliation finds no such call and gives the attempt back
            log.exception("releasing call %s (not sent) failed", request.call_id)
        self._done.put(Placement(request.call_id, request.campaign_id, None, None, str(e), True, refused=True))

    def _unknown(self, request: DialRequest, e: PlaceOutcomeUnknown) -> None:
        try:
            self.store.placed_unknown(request.call_id, e.sent_at)
        except Exception:  # the row stays queued: the stale-call sweep asks the carrier's call log about it
            log.exception("keeping call %s (outcome unknown) failed", request.call_id)
        self._done.put(Placement(request.call_id, request.campaign_id, None, None, str(e), False, unknown=True))

    def _failed(self, request: DialRequest, error: str, retryable: bool) -> None:
        try:
            self.store.place_failed(request.call_id, self.clock.now(), retryable)
        except Exception:  # the row stays queued: reconciliation finds no such call and gives the attempt back
            log.exception("giving back call %s failed", request.call_id)
        self._done.put(Placement(request.call_id, request.campaign_id, None, None, error, retryable))
