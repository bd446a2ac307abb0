"""What a worker process needs to dial through Twilio, in one place: the CPS-limited adapter, the callback pump
feeding the dial loop, start-up and periodic reconciliation, and the periodic jobs' stale-call sweep."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.ratelimit import TokenBucket
from dialer.telephony import CarrierEvent
from dialer.twilio_adapter import TwilioTelephony
from dialer.twilio_config import TwilioConfig
from dialer.twilio_events import CallbackPump, PumpStats
from dialer.twilio_reconcile import ReconcileReport, reconcile

log = logging.getLogger(__name__)
CPS_MARGIN = 1.0  # the adapter's CpsWindow absorbs arrival jitter; no throughput is given away


class TwilioRuntime:
    """Call ``start(handle, now)`` once (reconciles the previous run's calls), then ``tick(now)`` every loop turn."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: TwilioConfig, *,
                 telephony: TwilioTelephony | None = None, amd_wait_s: float = 3.0,
                 sweep_every_s: float = 60.0, stale_after_s: float = 120.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.telephony = telephony or TwilioTelephony(
            config, bucket=TokenBucket(config.cps * CPS_MARGIN, 1, clock))
        self.amd_wait_s = amd_wait_s
        self.sweep_every = timedelta(seconds=sweep_every_s)
        self.stale_after_s = stale_after_s
        self.pump: CallbackPump | None = None
        self._next_sweep: datetime | None = None

    def start(self, handle: Callable[[CarrierEvent], None], now: datetime) -> ReconcileReport:
        self.pump = CallbackPump(self.sessions, handle, amd_wait_s=self.amd_wait_s)
        report = reconcile(self.sessions, self.telephony, now)
        log.info("reconciled %d in-flight Twilio calls at start: %s", report.checked, report)
        self._next_sweep = now + self.sweep_every
        return report

    def tick(self, now: datetime) -> PumpStats:
        if self.pump is None:
            raise RuntimeError("TwilioRuntime.start() must run before tick()")
        stats = self.pump.run_once(now)
        if self._next_sweep is not None and now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every
            report = reconcile(self.sessions, self.telephony, now, older_than_s=self.stale_after_s)
            if report.checked:
                log.info("stale-call sweep: %s", report)
        return stats
