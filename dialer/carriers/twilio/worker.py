"""``dialer run --carrier twilio``: the real dial loop with Twilio, from start-up reconciliation to a clean stop.

``build_worker`` assembles the parts (the line-aware SQL store, the CPS-limited adapter, the callback pump, the
pre-dial gate); ``serve`` runs them in wall-clock time on two threads sharing the one dial loop under a lock: the
dialing turn (agents' lines, the pacer, claims, placement) and the carrier thread (stored callbacks delivered, then
routing: connect answers, abandon at the grace) every 20 ms. Whichever holds the loop lets go of it while it waits
on Twilio (a request in flight, the CPS bucket), so an answered customer never waits behind placement, and
placing calls overlaps handling their callbacks. On stop it drains: nothing new is dialed, and the worker keeps
going until no customer is ringing or waiting for an agent (calls already with an agent go on; their end reaches
whichever worker runs next, through the inbox and reconciliation). The periodic jobs
(``dialer.jobs.catalog.worker_jobs``) run on a background scheduler meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from dialer.carriers.twilio.adapter import TwilioTelephony
from dialer.carriers.twilio.config import TwilioConfig
from dialer.carriers.twilio.runtime import TwilioRuntime, TwilioStore
from dialer.clock import Clock
from dialer.loop.core import DialLoop
from dialer.loop.gating import dnc_gate
from dialer.loop.store import Gate
from dialer.loop.worker import TWILIO_GRACE_S, worker_name

log = logging.getLogger(__name__)
TICK_S = 0.1  # pause between dialing turns
POLL_S = 0.02  # the carrier thread's pass: callbacks delivered, answers routed
DRAIN_S = 60.0  # longest a stopping worker waits for ringing and waiting customers (ring timeout 25 s + margin)


@dataclass
class TwilioWorker:
    loop: DialLoop
    runtime: TwilioRuntime
    store: TwilioStore
    holder: str


def build_worker(sessions: sessionmaker[Session], clock: Clock, config: TwilioConfig, *,
                 campaign_ids: set[int] | None = None, holder: str | None = None, gate: Gate | None = dnc_gate,
                 telephony: TwilioTelephony | None = None, grace_s: float = TWILIO_GRACE_S) -> TwilioWorker:
    """The dial loop on Twilio: abandons decided at ``grace_s`` (1.5 s) so the safe-harbor redirect reaches the
    caller within the 2 s; the loop's own CPS bucket matches the account's limit."""
    holder = holder or worker_name()
    runtime = TwilioRuntime(sessions, clock, config, telephony=telephony, campaign_ids=campaign_ids)
    store = runtime.store(holder)
    # the loop may claim two seconds' worth in a turn: the adapter spaces the requests itself, and a turn that took
    # a little over a second must not throw away the calls it could not claim meanwhile
    loop = DialLoop(store, runtime.telephony, gate=gate, cps=config.cps, cps_burst=2 * config.cps, grace_s=grace_s)
    return TwilioWorker(loop, runtime, store, holder)


class LoopLock:
    """The dial loop is one object shared by two threads: each holds it for its work and lets go of it while it
    waits on Twilio (``released``, entered by the adapter), so the other can use it meanwhile."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def hold(self) -> Iterator[None]:
        self._lock.acquire()
        self._local.held = True
        try:
            yield
        finally:
            self._local.held = False
            self._lock.release()

    @contextmanager
    def released(self) -> Iterator[None]:
        if not getattr(self._local, "held", False):  # not ours (or already let go): nothing to do
            yield
            return
        self._local.held = False
        self._lock.release()
        try:
            yield
        finally:
            self._lock.acquire()
            self._local.held = True


class CarrierThread(threading.Thread):
    """Every ``poll_s``: deliver stored callbacks to the loop and route (connect answers, abandon at the grace)."""

    def __init__(self, runtime: TwilioRuntime, loop: DialLoop, clock: Clock, lock: LoopLock,
                 poll_s: float = POLL_S) -> None:
        super().__init__(name="twilio-callbacks", daemon=True)
        self.runtime, self.loop, self.clock, self.lock, self.poll_s = runtime, loop, clock, lock, poll_s
        self.stopping = threading.Event()
        self.passes = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            now = self.clock.now()
            try:
                with self.lock.hold():
                    self.loop.advance(now)  # what a late callback causes (connect, route) happens now
                    self.runtime.pump.run_once(now)
                    self.loop.route(now)
                self.passes += 1
            except Exception:
                log.exception("delivering callbacks at %s failed", now.isoformat())
            self.stopping.wait(self.poll_s)


def unsettled_calls(sessions: sessionmaker[Session], campaign_ids: set[int] | None) -> int:
    """Our Twilio calls still ringing or answered without an agent (what a stopping worker must see through)."""
    q = (select(func.count()).select_from(Call)
         .where(Call.provider == "twilio", Call.ended_at.is_(None), Call.connected_at.is_(None)))
    if campaign_ids is not None:
        q = q.where(Call.campaign_id.in_(campaign_ids))
    with session_scope(sessions) as s:
        return s.scalar(q) or 0


def serve(worker: TwilioWorker, sessions: sessionmaker[Session], clock: Clock, stop: Callable[[], bool], *,
          jobs: bool = True, tick_s: float = TICK_S, poll_s: float = POLL_S, drain_s: float = DRAIN_S,
          sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> dict:
    """Run until ``stop()``, then drain; returns the worker's figures."""
    from dialer.jobs.catalog import start_worker_scheduler

    scheduler = start_worker_scheduler(sessions, clock, worker.holder) if jobs else None
    loop, runtime = worker.loop, worker.runtime
    lock = LoopLock()
    runtime.telephony.released = lock.released
    carrier = CarrierThread(runtime, loop, clock, lock, poll_s)
    left = 0
    try:
        with lock.hold():
            now = clock.now()
            loop.advance(now)
            runtime.start(loop.handle, now)  # reconcile what a previous worker left in flight
        carrier.start()
        turn = _dialing_turn(loop, runtime, clock, lock)
        while not stop():
            turn()
            sleep(tick_s)
        loop.dialing = False
        deadline = monotonic() + drain_s
        campaign_ids = runtime.campaign_ids
        while unsettled_calls(sessions, campaign_ids) and monotonic() < deadline:
            turn()
            sleep(tick_s)
        left = unsettled_calls(sessions, campaign_ids)
        if left:
            log.warning("stopped with %d calls still ringing or waiting; the next start reconciles them", left)
    finally:
        carrier.stopping.set()
        if carrier.is_alive():
            carrier.join(30)
        runtime.telephony.released = TwilioTelephony.released_default
        worker.store.release(clock.now())
        if scheduler is not None:
            scheduler.shutdown(wait=True)
    st = loop.stats
    pump = runtime.pump.totals if runtime.pump is not None else None
    return {"carrier": "twilio", "placed": st.placed, "connected": st.connected, "abandoned": st.abandoned,
            "place_failed": st.place_failed, "errors": len(st.errors), "retries": runtime.telephony.retries,
            "callbacks": asdict(pump) if pump is not None else {}, "lines": asdict(runtime.lines),
            "reconciled_at_start": asdict(runtime.reconciled) if runtime.reconciled is not None else {},
            "unsettled_at_stop": left}


def _dialing_turn(loop: DialLoop, runtime: TwilioRuntime, clock: Clock, lock: LoopLock) -> Callable[[], None]:
    def turn() -> None:
        now = clock.now()
        try:
            with lock.hold():
                loop.advance(now)
                runtime.maintain(now)
                loop.tick(now)
        except Exception:  # the database holds the state: the next turn tries again
            log.exception("dialing turn failed at %s", now.isoformat())

    return turn
