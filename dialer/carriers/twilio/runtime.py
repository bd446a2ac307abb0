"""What a worker process needs to dial through Twilio, in one place: the CPS-limited adapter, the callback pump
feeding the dial loop, agents' nailed-up lines, start-up and periodic reconciliation.

``dialer.carriers.twilio.worker`` assembles it with the dial loop for ``dialer run --carrier twilio``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import lines as agent_lines
from campaigns.db import session_scope
from dialer.carriers.ratelimit import TokenBucket
from dialer.carriers.telephony import CarrierEvent, PlaceFailed
from dialer.carriers.twilio.adapter import TwilioCallError, TwilioTelephony
from dialer.carriers.twilio.config import TwilioConfig
from dialer.carriers.twilio.pump import CallbackPump, PumpStats
from dialer.carriers.twilio.reconcile import ReconcileReport, reconcile
from dialer.clock import Clock
from dialer.loop.sql import SqlStore

log = logging.getLogger(__name__)
SQLITE_CLAIM_TRIES = 4
CPS_MARGIN = 1.0  # the adapter's CpsWindow absorbs arrival jitter; no throughput is given away
# the adapter's bucket may save up this many seconds of calls: the gap between two dialing turns is not lost, while
# Twilio never sees more than ``cps`` calls in any second (the CpsWindow) nor a burst of more than a fifth of it
CPS_BURST_S = 0.2


class TwilioStore(SqlStore):
    """The SQL store, except that a customer goes only to an agent whose nailed-up line is in their conference:
    "ready" in the console is not enough with a real network."""

    def claim(self, campaign, n: int, now: datetime, gate) -> list:
        """On SQLite the webhook process writes while a claim reads then writes inside a savepoint, which SQLite
        refuses at once ("database is locked": the busy timeout cannot help a transaction whose snapshot went
        stale). Nothing of a refused claim is kept, so it is simply tried again."""
        for attempt in range(SQLITE_CLAIM_TRIES):
            try:
                return super().claim(campaign, n, now, gate)
            except OperationalError as e:
                if "database is locked" not in str(e) or attempt == SQLITE_CLAIM_TRIES - 1:
                    raise
        return []

    def longest_idle_agent(self, campaign_id: int, *more) -> int | None:
        """The agent the SQL store would choose (its own rules: longest idle, a personal callback's agent...) when
        that agent's line is up, else the longest-idle ready agent whose line is."""
        chosen = super().longest_idle_agent(campaign_id, *more)
        if chosen is None:
            return None
        with self._s() as s:
            if agent_lines.is_up(s, chosen):
                return chosen
            return agent_lines.longest_idle_with_line(s, campaign_id)


@dataclass
class LineStats:
    rung: int = 0  # phone agents called into their conference
    held: int = 0  # ready agents paused until their line is up
    released: int = 0  # legs of agents who logged out, hung up
    errors: int = 0


class TwilioRuntime:
    """Call ``start(handle, now)`` once (reconciles the previous run's calls), then ``tick(now)`` every loop turn."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: TwilioConfig, *,
                 telephony: TwilioTelephony | None = None, campaign_ids: set[int] | None = None,
                 reorder_wait_s: float = 2.0, sweep_every_s: float = 60.0, stale_after_s: float = 120.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.telephony = telephony or TwilioTelephony(
            config, bucket=TokenBucket(config.cps * CPS_MARGIN, max(1.0, config.cps * CPS_BURST_S), clock))
        self.campaign_ids = campaign_ids
        self.reorder_wait_s = reorder_wait_s
        self.sweep_every = timedelta(seconds=sweep_every_s)
        self.stale_after_s = stale_after_s
        self.pump: CallbackPump | None = None
        self.lines = LineStats()
        self.reconciled: ReconcileReport | None = None  # what the start-up reconciliation found
        self._next_sweep: datetime | None = None

    def store(self, holder: str | None = None) -> TwilioStore:
        """The dial loop's store for this runtime (Twilio calls, line-aware routing)."""
        return TwilioStore(self.sessions, provider="twilio", campaign_ids=self.campaign_ids, holder=holder)

    def start(self, handle: Callable[[CarrierEvent], None], now: datetime) -> ReconcileReport:
        self.pump = CallbackPump(self.sessions, handle, reorder_wait_s=self.reorder_wait_s)
        report = self.reconciled = reconcile(self.sessions, self.telephony, now)
        log.info("reconciled %d in-flight Twilio calls at start: %s", report.checked, report)
        self._next_sweep = now + self.sweep_every
        return report

    def tick(self, now: datetime) -> PumpStats:
        """Callbacks first (an answer reaches the loop at once), then agents' lines and the periodic sweep."""
        if self.pump is None:
            raise RuntimeError("TwilioRuntime.start() must run before tick()")
        stats = self.pump.run_once(now)
        self.maintain(now)
        return stats

    def maintain(self, now: datetime) -> None:
        """Agents' lines, and every ``sweep_every_s`` the reconciliation of calls in flight for too long (the
        worker runs this with its dialing turns; the callbacks have a thread of their own there)."""
        self.tend_lines(now)
        if self._next_sweep is not None and now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every
            report = reconcile(self.sessions, self.telephony, now, older_than_s=self.stale_after_s)
            if report.checked:
                log.info("stale-call sweep: %s", report)

    def tend_lines(self, now: datetime) -> LineStats:
        """Ring phone agents who went ready, hold back ready agents without a line, hang up logged-out agents."""
        with session_scope(self.sessions) as s:
            release = agent_lines.to_release(s)
            ring = agent_lines.to_nail_up(s, self.campaign_ids)
        for line in release:
            try:
                self.telephony.hangup(line.call_sid)
            except TwilioCallError as e:
                self.lines.errors += 1
                log.warning("hanging up agent %s's line: %s", line.agent_id, e)
                continue
            with session_scope(self.sessions) as s:
                agent_lines.released(s, line.agent_id, now)
            self.lines.released += 1
        for want in ring:
            try:
                sid = self.telephony.call_agent(want.agent_id, want.phone, want.caller_id)
            except PlaceFailed as e:
                self.lines.errors += 1
                log.warning("cannot ring agent %s at %s: %s", want.agent_id, want.phone, e)
                continue  # pause_unlined holds the agent back; going ready again rings again
            with session_scope(self.sessions) as s:
                agent_lines.dialing(s, want.agent_id, sid, now)
            self.lines.rung += 1
        with session_scope(self.sessions) as s:
            self.lines.held += len(agent_lines.pause_unlined(s, self.campaign_ids, now))
        return self.lines

