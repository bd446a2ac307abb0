"""``dialer run --carrier twilio``: the real dial loop with Twilio, from start-up reconciliation to a clean stop.

``build_worker`` assembles the parts (the line-aware SQL store, the CPS-limited adapter, the callback pump, the
pre-dial gate); ``serve`` turns them in wall-clock time and, on stop, drains: nothing new is dialed, and the worker
keeps routing, abandoning and pumping until no customer is ringing or waiting for an agent (calls already with an
agent go on; their end reaches whichever worker runs next, through the inbox and reconciliation). The periodic
jobs (``dialer.scheduler.worker_jobs``) run on a background scheduler meanwhile.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from campaigns.models import Call
from dialer.clock import Clock
from dialer.loop.core import DialLoop
from dialer.loop.gating import dnc_gate
from dialer.loop.store import Gate
from dialer.loop.worker import TWILIO_GRACE_S, run_wallclock, worker_name
from dialer.twilio_adapter import TwilioTelephony
from dialer.twilio_config import TwilioConfig
from dialer.twilio_runtime import TwilioRuntime, TwilioStore

log = logging.getLogger(__name__)
TICK_S = 0.1  # a dialing turn; between turns and while placement waits, callbacks are pumped every POLL_S
POLL_S = 0.02
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
    loop = DialLoop(store, runtime.telephony, gate=gate, cps=config.cps, grace_s=grace_s)
    return TwilioWorker(loop, runtime, store, holder)


class _LoopClocked:
    """The runtime as ``run_wallclock`` drives it, with the loop's clock moved to now before each batch of
    callbacks: a connect or a route caused by a late callback (a backlog after a restart) happens now."""

    def __init__(self, runtime: TwilioRuntime, loop: DialLoop) -> None:
        self.runtime, self.loop, self.telephony = runtime, loop, runtime.telephony

    def start(self, handle, now):
        self.loop.advance(now)
        return self.runtime.start(handle, now)

    def tick(self, now):
        self.loop.advance(now)
        return self.runtime.tick(now)


class CarrierWatch:
    """What the worker does instead of sleeping, between turns and while a call waits on the CPS bucket: deliver
    stored callbacks and route (connect answers, abandon at the grace) every ``poll_s``. An answered customer
    then reaches an agent within one poll of the callback's arrival, whatever the dialing turn is doing."""

    def __init__(self, runtime: TwilioRuntime, loop: DialLoop, clock: Clock, *, poll_s: float = POLL_S,
                 sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.runtime, self.loop, self.clock = runtime, loop, clock
        self.poll_s, self._sleep, self._monotonic = poll_s, sleep, monotonic

    def __call__(self, seconds: float) -> None:
        end = self._monotonic() + max(0.0, seconds)
        while True:
            if self.runtime.pump is not None:
                now = self.clock.now()
                try:
                    self.loop.advance(now)
                    self.runtime.pump.run_once(now)
                    self.loop.route(now)
                except Exception:
                    log.exception("delivering callbacks at %s failed", now.isoformat())
            left = end - self._monotonic()
            if left <= 0:
                return
            self._sleep(min(self.poll_s, left))


def unsettled_calls(sessions: sessionmaker[Session], campaign_ids: set[int] | None) -> int:
    """Our Twilio calls still ringing or answered without an agent (what a stopping worker must see through)."""
    q = (select(func.count()).select_from(Call)
         .where(Call.provider == "twilio", Call.ended_at.is_(None), Call.connected_at.is_(None)))
    if campaign_ids is not None:
        q = q.where(Call.campaign_id.in_(campaign_ids))
    with session_scope(sessions) as s:
        return s.scalar(q) or 0


def serve(worker: TwilioWorker, sessions: sessionmaker[Session], clock: Clock, stop: Callable[[], bool], *,
          jobs: bool = True, tick_s: float = TICK_S, drain_s: float = DRAIN_S,
          sleep: Callable[[float], None] = time.sleep, monotonic: Callable[[], float] = time.monotonic) -> dict:
    """Run until ``stop()``, then drain; returns the worker's figures."""
    from dialer.scheduler import start_worker_scheduler

    scheduler = start_worker_scheduler(sessions, clock, worker.holder) if jobs else None
    loop, runtime = worker.loop, worker.runtime
    watch = CarrierWatch(runtime, loop, clock, sleep=sleep, monotonic=monotonic)
    runtime.telephony.while_waiting = watch
    left = 0
    try:
        run_wallclock(loop, clock, stop, runtime=_LoopClocked(runtime, loop), tick_s=tick_s, sleep=watch)
        deadline = monotonic() + drain_s
        campaign_ids = runtime.campaign_ids
        while unsettled_calls(sessions, campaign_ids) and monotonic() < deadline:
            now = clock.now()
            try:
                loop.advance(now)
                runtime.tick(now)
                loop.tick(now)
            except Exception:
                log.exception("draining turn failed at %s", now.isoformat())
            watch(tick_s)
        left = unsettled_calls(sessions, campaign_ids)
        if left:
            log.warning("stopped with %d calls still ringing or waiting; the next start reconciles them", left)
    finally:
        runtime.telephony.while_waiting = None
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
