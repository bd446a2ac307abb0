"""What a worker process needs to dial through Twilio, in one place: the CPS-limited adapter, the callback pump
feeding the dial loop, agents' nailed-up lines, start-up and periodic reconciliation.

``dialer.carriers.twilio.worker`` assembles it with the dial loop for ``dialer run --carrier twilio``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import lines as agent_lines
from campaigns.db import session_scope
from dialer.carriers.sendpace import PACE_SHARE, DatabaseBudget, SendPacer
from dialer.carriers.telephony import CarrierEvent, PlaceFailed, PlaceOutcomeUnknown
from dialer.carriers.twilio import agent_ring
from dialer.carriers.twilio.adapter import TwilioCallError, TwilioTelephony
from dialer.carriers.twilio.config import TwilioConfig
from dialer.carriers.twilio.pump import CallbackPump, PumpStats
from dialer.carriers.twilio.reconcile import OnAdopted, ReconcileReport, reconcile
from dialer.carriers.twilio.unknown import UNKNOWN_SETTLE_S, EmptyLookups
from dialer.clock import Clock
from dialer.loop.ownership import CampaignOwnership
from dialer.loop.sql import SqlStore

log = logging.getLogger(__name__)
SQLITE_CLAIM_TRIES = 4
TOKEN_EVERY_S = 0.2  # unknown creates are looked up by their callbacks' token this often (a query, no request)


def account_pacer(sessions: sessionmaker[Session], config: TwilioConfig, clock: Clock) -> SendPacer:
    """Send slots from the account's clock in the database (``campaigns.cpsbudget``), shared by every worker of
    this account, at ``PACE_SHARE`` of ``TWILIO_CPS``."""
    budget = DatabaseBudget(sessions, config.account_sid, config.cps * PACE_SHARE)
    return SendPacer(budget, config.cps, clock)


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
    unknown: int = 0  # rings whose create got no answer: settled from the call log (``agent_ring``)
    errors: int = 0


class TwilioRuntime:
    """Call ``start(handle, now)`` once (reconciles the previous run's calls), then ``tick(now)`` every loop turn."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, config: TwilioConfig, *,
                 telephony: TwilioTelephony | None = None, campaign_ids: set[int] | None = None,
                 ownership: CampaignOwnership | None = None,
                 reorder_wait_s: float = 2.0, sweep_every_s: float = 60.0, stale_after_s: float = 120.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.telephony = telephony or TwilioTelephony(config, clock=clock)
        if self.telephony.pacer is None:  # every create of this worker waits for a slot of the account's clock
            self.telephony.pacer = account_pacer(sessions, config, clock)
        self.campaign_ids = campaign_ids
        self.ownership = ownership  # with several workers: only the campaigns this one owns
        self.reorder_wait_s = reorder_wait_s
        self.sweep_every = timedelta(seconds=sweep_every_s)
        self.stale_after_s = stale_after_s
        self.pump: CallbackPump | None = None
        self.lines = LineStats()
        self._ringing: ThreadPoolExecutor | None = None  # made when a line is first rung, ended by ``close``
        self.reconciled: ReconcileReport | None = None  # what the start-up reconciliation found
        self._next_sweep: datetime | None = None
        self._next_unknown: datetime | None = None
        self._next_token: datetime | None = None
        # creates whose answer never came, seen once with an empty call log (the log may lag: a second look decides)
        self.lookups = EmptyLookups(config.unknown_confirm_s)
        self.on_adopted: OnAdopted | None = None  # the dial loop's: an adopted call is placed for its pacer
        # claims a previous owner died with before sending them (``reconcile``'s ``unsent``), looked at every second
        self.unsent: set[int] = set()

    def store(self, holder: str | None = None) -> TwilioStore:
        """The dial loop's store for this runtime (Twilio calls, line-aware routing)."""
        if self.ownership is None and holder is not None:
            self.ownership = CampaignOwnership(self.sessions, holder, "twilio", only=self.campaign_ids, adopts=True)
        return TwilioStore(self.sessions, provider="twilio", campaign_ids=self.campaign_ids,
                           ownership=self.ownership)

    def owned(self) -> set[int] | None:
        """The campaigns whose calls and callbacks are this worker's (None: every campaign, a lone worker)."""
        if self.ownership is not None:
            return self.ownership.owned
        return self.campaign_ids

    def start(self, handle: Callable[[CarrierEvent], None], now: datetime) -> ReconcileReport:
        self.pump = CallbackPump(self.sessions, handle, reorder_wait_s=self.reorder_wait_s, owned=self.owned)
        if self.ownership is not None:
            self.ownership.refresh(now, force=True)
            self.ownership.take_news()  # everything owned now is reconciled just below
        report = self.reconciled = reconcile(self.sessions, self.telephony, now, campaign_ids=self.owned(),
                                             lookups=self.lookups, on_adopted=self.on_adopted)
        self.unsent |= set(report.unsent)
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
        if self.ownership is not None:
            taken, _ = self.ownership.take_news()
            if taken:  # another worker's campaigns: settle what it left in flight (answered and alone: abandoned)
                report = reconcile(self.sessions, self.telephony, now, campaign_ids=set(taken), lookups=self.lookups,
                                   on_adopted=self.on_adopted)
                self.unsent |= set(report.unsent)
                log.info("took over campaigns %s: reconciled %d calls in flight: %s", sorted(taken),
                         report.checked, report)
        self.settle_unknown(now)
        if self._next_sweep is not None and now >= self._next_sweep:
            self._next_sweep = now + self.sweep_every
            report = reconcile(self.sessions, self.telephony, now, older_than_s=self.stale_after_s,
                               campaign_ids=self.owned(), lookups=self.lookups, on_adopted=self.on_adopted)
            if report.checked:
                log.info("stale-call sweep: %s", report)

    def settle_unknown(self, now: datetime) -> ReconcileReport | None:
        """Creates whose answer never came (``PlaceOutcomeUnknown``), once a second: Twilio's call log says whether
        the call exists. Found, it is adopted and its callbacks apply (answered meanwhile with nobody connected: the
        safe-harbor message, as at a restart) and the pacer hears it placed; not found twice, ``confirm_s`` apart (the
        log may lag), the attempt is recorded as not placed and the lead released. Until then the person is not
        dialed again; the 60 s sweep would be too late for an answer. Agents' rings are settled the same way.

        Every ``TOKEN_EVERY_S``, at any age, a create whose callbacks came with its attempt's token is adopted by
        that token: it names the call where the log cannot tell it from another call to the number in the same
        second. Its answer, if any, is the loop's to route: its callbacks are in the inbox."""
        if self._next_token is None or now >= self._next_token:
            self._next_token = now + timedelta(seconds=TOKEN_EVERY_S)
            adopted = reconcile(self.sessions, self.telephony, now, campaign_ids=self.owned(), unknown_only=True,
                                lookups=self.lookups, on_adopted=self.on_adopted, by_token_only=True,
                                abandon_answered=False)
            if adopted.checked:
                log.info("creates never answered, adopted by the token their callbacks carry: %s", adopted)
        if self._next_unknown is not None and now < self._next_unknown:
            return None
        self._next_unknown = now + timedelta(seconds=1)
        report = reconcile(self.sessions, self.telephony, now, older_than_s=UNKNOWN_SETTLE_S,
                           campaign_ids=self.owned(), unknown_only=True, lookups=self.lookups,
                           on_adopted=self.on_adopted)
        if report.checked:
            log.info("creates never answered, settled from Twilio's call log: %s", report)
        self.settle_unsent(now)
        rings = agent_ring.settle(self.sessions, self.telephony, now, self.lookups, self.owned())
        if rings.adopted or rings.not_placed:
            log.info("agents' rings never answered, settled from Twilio's call log: %s", rings)
        return report

    def settle_unsent(self, now: datetime) -> None:
        """The claims a previous owner of a campaign died with before sending them, once a second: adopted when
        the call log or the attempt's callbacks show the call, released (the lead as before its claim) once the
        create could not go out any more and the log still has nothing (``reconcile``). The stale-call sweep would
        come back to them only after two minutes, the lead waiting meanwhile."""
        if not self.unsent:
            return
        report = reconcile(self.sessions, self.telephony, now, campaign_ids=self.owned(), call_ids=set(self.unsent),
                           lookups=self.lookups, on_adopted=self.on_adopted)
        self.unsent = set(report.unsent)
        if report.adopted or report.not_sent:
            log.info("claims a previous worker never reported sent, settled: %s", report)

    def close(self) -> None:
        """End the threads that ring agents' lines (a stopped worker leaves none behind)."""
        pool, self._ringing = self._ringing, None
        if pool is not None:
            pool.shutdown(wait=True)

    def tend_lines(self, now: datetime) -> LineStats:
        """Ring phone agents who went ready, hold back ready agents without a line, hang up logged-out agents."""
        with session_scope(self.sessions) as s:
            release = agent_lines.to_release(s)
            ring = agent_lines.to_nail_up(s, self.owned())
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
        # the agents' legs are rung together (each create at its own send slot), not one request after another:
        # fifty agents going ready at the start of a shift must not hold the dialing turn for fifty round trips
        if ring and self._ringing is None:
            self._ringing = ThreadPoolExecutor(max_workers=16, thread_name_prefix="ring-agent")
        futures = [(want, self._ringing.submit(self.telephony.call_agent, want.agent_id, want.phone, want.caller_id))
                   for want in ring]
        for want, future in futures:
            try:
                with self.telephony.released():  # the dial loop is free for answers meanwhile
                    sid = future.result()
            except PlaceOutcomeUnknown as e:  # the phone may be ringing: never rung again until the log says
                self.lines.unknown += 1
                log.warning("ringing agent %s at %s: no answer from Twilio, settled from its call log: %s",
                            want.agent_id, want.phone, e)
                with session_scope(self.sessions) as s:
                    agent_ring.rung_unknown(s, want.agent_id, e.sent_at)
                continue
            except PlaceFailed as e:
                self.lines.errors += 1
                log.warning("cannot ring agent %s at %s: %s", want.agent_id, want.phone, e)
                continue  # pause_unlined holds the agent back; going ready again rings again
            with session_scope(self.sessions) as s:
                agent_lines.dialing(s, want.agent_id, sid, now)
            self.lines.rung += 1
        with session_scope(self.sessions) as s:
            self.lines.held += len(agent_lines.pause_unlined(s, self.owned(), now, {w.agent_id for w in ring}))
        return self.lines

