"""``dialer run --carrier twilio``: the real dial loop with Twilio, from start-up reconciliation to a clean stop.

``build_worker`` assembles the parts (the line-aware SQL store, the paced adapter, the concurrent placer, the
callback pump, the pre-dial gate); ``serve`` runs them in wall-clock time on two threads sharing the one dial loop
under a lock: the dialing turn (agents' lines, the pacer, claims, booking send slots) and the carrier thread (placed
calls taken in, stored callbacks delivered, then routing: connect answers, abandon at the grace) every 20 ms. The
creates themselves go out from the placer's pool (``dialer.loop.placement``), each at its slot of the account's
shared send clock, so neither thread ever waits on one: an answered customer never waits behind placement. Whoever
holds the loop lets go of it while it waits on Twilio otherwise (ringing an agent's line). On stop it drains:
nothing new is dialed, the calls handed over are sent, and the worker keeps going, holding its campaigns' leases
(so no other worker dials them meanwhile), until no customer is ringing or waiting for an agent (``drain_s`` at
most) and the calls its agents are on have ended (``agents_drain_s`` at most, ``DIALER_WORKER_DRAIN_S``): a call
handed to the next owner mid-conversation depends on that owner's takeover and reconciliation for its end, and a
worker stopped for an upgrade need not cut anyone off. ``stop_now`` (a second SIGTERM) ends the drain at once;
what is still going then reaches whichever worker runs next, through the inbox and reconciliation. The periodic
jobs (``dialer.jobs.catalog.worker_jobs``) run on a background scheduler meanwhile."""

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
from dialer.loop.lanes import CarrierLanes
from dialer.loop.ownership import CampaignOwnership, Heartbeat
from dialer.loop.placement import ConcurrentPlacer
from dialer.loop.store import Gate
from dialer.loop.wake import Waker, listen
from dialer.loop.worker import TWILIO_GRACE_S, worker_name

log = logging.getLogger(__name__)
TICK_S = 0.1  # pause between dialing turns
POLL_S = 0.02  # the carrier thread's pass: callbacks delivered, answers routed
LISTEN_POLL_S = 0.1  # the same on PostgreSQL, where a NOTIFY wakes the thread as soon as there is news
DRAIN_S = 60.0  # longest a stopping worker waits for ringing and waiting customers (ring timeout 25 s + margin)


@dataclass
class TwilioWorker:
    loop: DialLoop
    runtime: TwilioRuntime
    store: TwilioStore
    holder: str
    placer: ConcurrentPlacer


def build_worker(sessions: sessionmaker[Session], clock: Clock, config: TwilioConfig, *,
                 campaign_ids: set[int] | None = None, holder: str | None = None, gate: Gate | None = dnc_gate,
                 telephony: TwilioTelephony | None = None, grace_s: float = TWILIO_GRACE_S) -> TwilioWorker:
    """The dial loop on Twilio: abandons decided at ``grace_s`` (1.5 s) so the safe-harbor redirect reaches the
    caller within the 2 s; the loop's own CPS bucket matches the account's limit."""
    holder = holder or worker_name()
    ownership = CampaignOwnership(sessions, holder, "twilio", only=campaign_ids, adopts=True)
    runtime = TwilioRuntime(sessions, clock, config, telephony=telephony, campaign_ids=campaign_ids,
                            ownership=ownership)
    store = runtime.store(holder)
    tel = runtime.telephony
    # several creates in flight, each at its send slot of the account's shared clock: the loop books the slots and
    # hands the claims over without waiting (``dialer.loop.placement``)
    placer = ConcurrentPlacer(tel.place_paced, tel.pacer, store, "twilio", config.cps, clock,
                              request_times=lambda: list(tel.request_s))
    loop = DialLoop(store, tel, gate=gate, grace_s=grace_s, placer=placer, lanes=CarrierLanes())
    runtime.on_adopted = loop.adopted  # a create settled from the call log as placed: its pacer counts it
    return TwilioWorker(loop, runtime, store, holder, placer)


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
                 poll_s: float = POLL_S, waker: Waker | None = None) -> None:
        super().__init__(name="twilio-callbacks", daemon=True)
        self.runtime, self.loop, self.clock, self.lock, self.poll_s = runtime, loop, clock, lock, poll_s
        self.waker = waker or Waker()  # set by a NOTIFY (a callback stored, an agent ready): the pass runs now
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
            self.waker.wait(self.poll_s)

    def stop(self) -> None:
        self.stopping.set()
        self.waker.set()


def join_thread(thread: threading.Thread, warn_after_s: float = 30.0) -> None:
    """Wait for a thread of the worker to end, however long its last database or Twilio request takes (a caller
    that goes on while it still runs could see it write after, say, the database was emptied)."""
    if not thread.is_alive():
        return
    thread.join(warn_after_s)
    if thread.is_alive():
        log.warning("waiting for %s to finish its last request", thread.name)
        thread.join()


def open_calls(sessions: sessionmaker[Session], campaign_ids: set[int] | None, *, with_agent: bool) -> int:
    """Our Twilio calls not over yet: with an agent (what a stopping worker lets finish, up to a bound) or without
    one, still ringing or answered and waiting (what it must see through)."""
    agent = Call.connected_at.is_not(None) if with_agent else Call.connected_at.is_(None)
    q = select(func.count()).select_from(Call).where(Call.provider == "twilio", Call.ended_at.is_(None), agent)
    if campaign_ids is not None:
        q = q.where(Call.campaign_id.in_(campaign_ids))
    with session_scope(sessions) as s:
        return s.scalar(q) or 0


def draining(sessions: sessionmaker[Session], campaign_ids: set[int] | None, elapsed_s: float, drain_s: float,
             agents_drain_s: float) -> bool:
    """Whether a stopping worker still has calls to see through: customers ringing or waiting (``drain_s``), calls
    with agents (``agents_drain_s``)."""
    if elapsed_s < drain_s and open_calls(sessions, campaign_ids, with_agent=False):
        return True
    return elapsed_s < agents_drain_s and open_calls(sessions, campaign_ids, with_agent=True) > 0


def serve(worker: TwilioWorker, sessions: sessionmaker[Session], clock: Clock, stop: Callable[[], bool], *,
          jobs: bool = True, tick_s: float = TICK_S, poll_s: float = POLL_S, drain_s: float = DRAIN_S,
          agents_drain_s: float = 0.0, stop_now: Callable[[], bool] = lambda: False,
          sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> dict:
    """Run until ``stop()``, then drain (until ``stop_now()`` at the latest); returns the worker's figures.
    ``agents_drain_s`` 0: calls with agents are left to the next owner at once."""
    from dialer.jobs.catalog import start_worker_scheduler

    ownership = worker.runtime.ownership
    if ownership is not None:
        ownership.claim_sqlite(clock)  # one dialing worker per SQLite file: refused with a reason
    scheduler = start_worker_scheduler(sessions, clock, worker.holder) if jobs else None
    loop, runtime = worker.loop, worker.runtime
    lock = LoopLock()
    runtime.telephony.released = lock.released
    loop.released = lock.released  # the claims' database work lets answers and callbacks through
    waker = Waker()
    listener = listen(sessions.kw["bind"], waker) if sessions.kw.get("bind") is not None else None
    if listener is not None:  # NOTIFY wakes the carrier thread at once; the poll is only the fallback
        poll_s = max(poll_s, LISTEN_POLL_S)
    carrier = CarrierThread(runtime, loop, clock, lock, poll_s, waker)
    on_sqlite = sessions.kw.get("bind") is not None and sessions.kw["bind"].dialect.name == "sqlite"
    heartbeat = Heartbeat(ownership, clock) if ownership is not None and not on_sqlite else None
    left = 0
    try:
        with lock.hold():
            now = clock.now()
            loop.advance(now)
            runtime.start(loop.handle, now)  # reconcile what a previous worker left in flight
        carrier.start()
        if heartbeat is not None:
            heartbeat.start()
        turn = _dialing_turn(loop, runtime, clock, lock)
        while not stop():
            turn()
            sleep(tick_s)
        loop.dialing = False
        if ownership is not None:
            ownership.drain()  # what it holds stays its own until the calls end; it takes nothing more
        began = monotonic()
        talking = open_calls(sessions, runtime.owned(), with_agent=True) if agents_drain_s > 0 else 0
        if talking:
            log.info("stopping: placing no new calls; letting %d calls with agents finish (%.0f s at most, a second "
                     "SIGTERM stops now)", talking, agents_drain_s)
        while not stop_now() and draining(sessions, runtime.owned(), monotonic() - began, drain_s, agents_drain_s):
            turn()
            sleep(tick_s)
        left = open_calls(sessions, runtime.owned(), with_agent=False)
        if left:
            log.warning("stopped with %d calls still ringing or waiting; the next start reconciles them", left)
        talking = open_calls(sessions, runtime.owned(), with_agent=True)
        if talking:
            log.warning("stopped with %d calls still with agents; their end reaches the campaigns' next owner",
                        talking)
    finally:
        loop.dialing = False
        worker.placer.close()  # every call handed over is sent or given back
        if loop.lanes is not None:
            loop.lanes.close()  # every connect and hang-up asked for is sent
        carrier.stop()
        if heartbeat is not None:
            heartbeat.stop()
        if listener is not None:
            listener.stop()
        for thread in (carrier, heartbeat, listener):  # stopped means stopped: none writes after we return
            if thread is not None:
                join_thread(thread)
        with lock.hold():
            loop.advance(clock.now())  # the last placements reach the pacer and the figures
        runtime.telephony.released = TwilioTelephony.released_default
        runtime.close()
        worker.store.release(clock.now())
        if scheduler is not None:
            scheduler.shutdown(wait=True)
    st = loop.stats
    pump = runtime.pump.totals if runtime.pump is not None else None
    return {"carrier": "twilio", "placed": st.placed, "connected": st.connected, "abandoned": st.abandoned,
            "place_failed": st.place_failed, "place_unknown": st.place_unknown, "send_refused": st.send_refused,
            "errors": len(st.errors),
            "retries": runtime.telephony.retries,
            "placement": placement_figures(worker),
            "callbacks": asdict(pump) if pump is not None else {}, "lines": asdict(runtime.lines),
            "reconciled_at_start": asdict(runtime.reconciled) if runtime.reconciled is not None else {},
            "unsettled_at_stop": left}


def placement_figures(worker: TwilioWorker) -> dict:
    """How placement went: requests in flight at most, create times, sends the local guard held back."""
    times = sorted(worker.runtime.telephony.request_s)
    pacer = worker.runtime.telephony.pacer

    def pct(q: float) -> float | None:
        return round(times[int(q * (len(times) - 1))], 3) if times else None

    lanes = worker.loop.lanes
    return {"most_in_flight": worker.placer.most_in_flight,
            "updates_in_flight_max": lanes.most_busy if lanes is not None else None,
            "create_p50_s": pct(0.5), "create_p99_s": pct(0.99),
            "held_by_guard": pacer.held if pacer is not None else 0,
            "rebooked_late": pacer.rebooked if pacer is not None else 0, "capped_by": dict(worker.loop.stats.capped)}


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
