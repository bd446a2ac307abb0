"""``dialer run --carrier sim``: the simulated network and simulated agents in wall-clock time (optionally
accelerated) against the product's database, for the demo and for trying campaigns offline.

Like the Twilio worker it dials every campaign it owns (``dialer.loop.ownership``: several workers share the
campaigns on PostgreSQL): a campaign a manager starts is taken within a couple of seconds, its simulated agents
(``agents.simulated``, created up to ``agents`` per campaign) log in, follow the scenario's breaks and wrap times and
go home when the campaign is given back; its other agents are people at the console. Any number can be dialed: a
number that is not one of the simulator's own is given a stable customer of its own. Times written to the
database run at ``speed`` times the wall clock from the moment the worker starts. On stop, dialing halts and the
calls in flight finish in virtual time at once, the agents staying until each is through to one of them or over,
so no call is left live and none is abandoned for want of the agents it was dialed for; a worker killed outright
leaves live simulated calls that the worker taking its campaign settles.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.leases import ownership as shares
from dialer.clock import Clock, ScaledClock
from dialer.loop.ownership import CampaignOwnership, Heartbeat
from dialer.loop.pacers import campaign_pacer
from dialer.loop.sql import SqlStore
from dialer.loop.store import Gate
from dialer.sim.customers import mix64
from dialer.sim.engine import EventQueue
from dialer.sim.floor import SimFloor
from dialer.sim.retry import Inbox, Waiting
from dialer.sim.runner import Simulation
from dialer.sim.scenario import Scenario
from dialer.sim.world import index_of
from dnc.errors import UserError

log = logging.getLogger("dialer.workers")
ADOPT_EVERY_S = 1.0  # virtual seconds between looks at what this worker owns
TAKEOVER_LOGIN_S = 1.0  # a campaign taken mid-shift is staffed within this (its floor was working a moment ago)
DRAIN_S = 90.0  # a stopping worker's agents wait at most this long for the calls still ringing (ring timeout 25 s,
# then a person's 30 s of patience at most: every call is through or over well before)


class OwnedCampaigns:
    """The world of a live simulation: whatever campaigns the store's ownership holds (no single campaign)."""

    kind = "sql"
    campaign_id = None
    agent_ids: list[int] = []

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def set_active(self, active: bool) -> None:
        """The campaigns' status is the manager's (``dialer campaigns start|pause``), not the simulator's."""


def any_number(phone: str) -> int:
    """The simulator's customer behind a number: its own numbers map to their lead index, any other number (a
    list a manager uploaded to the demo) to a stable customer of its own."""
    try:
        return index_of(phone)
    except KeyError:
        return 10**9 + int.from_bytes(hashlib.blake2b(phone.encode(), digest_size=6).digest(), "big")


def settle_simulated_calls(sessions: sessionmaker[Session], now: datetime, campaign_ids: set[int] | None = None) -> int:
    """Calls a killed simulator left live cannot be alive (their network died with it): end them as the network
    would have, and log its simulated agents out. Returns how many calls were settled."""
    with session_scope(sessions) as s:
        q = select(Call).where(Call.provider == "sim", Call.ended_at.is_(None))
        agents = select(Agent).where(Agent.simulated.is_(True), Agent.state != "offline")
        if campaign_ids is not None:
            q, agents = q.where(Call.campaign_id.in_(campaign_ids)), agents.where(Agent.campaign_id.in_(campaign_ids))
        calls = list(s.scalars(q))
        for c in calls:
            if c.connected_at is not None and c.status != "bridging":
                reason = "completed"
            elif c.answered_at is not None:
                reason = c.outcome or ("machine" if c.answered_by == "machine" else "abandoned")
            else:
                reason = "canceled"  # never reached anyone: the attempt does not count
            dispatch.end(s, c.id, reason, now)
        for agent in s.scalars(agents):
            agent_svc.set_state(s, agent.id, "offline", now)
    return len(calls)


SEAT_TRIES = 3


def ensure_agents(sessions: sessionmaker[Session], campaign_id: int, wanted: int | None, default: int,
                  now: datetime) -> list[int]:
    """The campaign's simulated agents, created up to ``wanted`` (or ``default`` when it has none). Idempotent
    across workers: a campaign changes hands while its seats are being created (its lease given back by the
    heartbeat thread mid-adoption), and the next owner creating the same names meets the unique index once the
    first commits; it then reads what the other created instead of failing."""
    for attempt in range(SEAT_TRIES):
        try:
            return _ensure_agents(sessions, campaign_id, wanted, default, now)
        except (IntegrityError, UserError):  # UserError: the name appeared between our look and the insert
            if attempt == SEAT_TRIES - 1:
                raise
            log.info("campaign %d: another worker created its simulated agents at the same moment; reading them",
                     campaign_id)
    raise AssertionError("unreachable")


def _ensure_agents(sessions: sessionmaker[Session], campaign_id: int, wanted: int | None, default: int,
                   now: datetime) -> list[int]:
    with session_scope(sessions) as s:
        ids = list(s.scalars(select(Agent.id).where(Agent.campaign_id == campaign_id, Agent.simulated.is_(True))
                             .order_by(Agent.id)))
        want = wanted if wanted is not None else (len(ids) or default)
        row, k = s.get(Campaign, campaign_id), 0
        while len(ids) < want:
            k += 1
            name = f"sim-{campaign_id}-{k:03d}"
            if s.scalar(select(func.count()).select_from(Agent).where(Agent.name == name)) == 0:
                ids.append(agent_svc.create_agent(s, name, now, campaign=row, simulated=True).id)
        return ids[:want]


PUBLISH_EVERY_S = 5.0  # clock seconds between published decisions: well inside the floor's 20 s staleness


class LiveSimulation(Simulation):
    def __init__(self, scenario: Scenario, seed: int, sessions: sessionmaker[Session], start: datetime, *,
                 agents: int | None = None, only: set[int] | None = None, gate: Gate | None = None,
                 holder: str = "sim", pacer_factory: Callable = campaign_pacer, clock: Clock | None = None,
                 staff: set[int] | None = None) -> None:
        store = SqlStore(sessions, provider="sim", campaign_ids=only,
                         ownership=CampaignOwnership(sessions, holder, "sim", only=only, adopts=True))
        self.sessions = sessions
        self.ownership = store.ownership
        if clock is not None and self.ownership is not None:  # leases stamped at the process's time, not the loop's
            self.ownership.clock = clock
        self.agents_wanted = agents
        # the campaigns simulated agents staff (None: every one it dials); any other is staffed by people at the
        # console only, so its floor shows the agents it really has (the demo's new campaigns)
        self.staff = staff
        self.clock = clock  # the process's clock: the simulation catches up with it before it runs
        self.tz = ZoneInfo(scenario.run.timezone)
        self.start_day = start.astimezone(self.tz).date()
        super().__init__(scenario, seed, OwnedCampaigns(store), pacer_factory, gate,
                         queue=EventQueue(start), ref_prefix=f"SIM{start.strftime('%Y%m%d%H%M%S%f')}-",
                         lead_of=any_number)
        self.loop.status_every = timedelta(seconds=PUBLISH_EVERY_S)  # the floor reads it live (the batch sim: 60 s)
        self.floors: dict[int, SimFloor] = {}
        self.turns: deque[float] = deque(maxlen=200_000)
        self._shift_end = 0.0
        self._stopping = False
        self.stopped_at: float | None = None  # virtual second when the stop came (draining runs past it)
        self.waiting = Waiting(log)  # a database briefly away: the event runs again a moment later
        self.inbox = Inbox(self.q, self.waiting)  # the carrier's news, kept in order until the database takes it
        self._taken: dict[int, str | None] = {}  # ownership news not acted on yet (a failed adoption tries again)
        self._released: set[int] = set()
        self._settled: dict[int, int] = {}  # calls settled for a campaign whose adoption is not done yet

    @property
    def transient_errors(self) -> int:
        """Events that failed on a transient database error and ran again."""
        return self.waiting.count

    def calendar(self, t: float) -> tuple[int, float]:
        local = self.q.dt(t).astimezone(self.tz)
        return (local.date() - self.start_day).days, local.hour + local.minute / 60 + local.second / 3600

    # --- the campaigns this worker owns ------------------------------------------------------------------------
    def adopt(self) -> None:
        """Staff the campaigns taken since the last look (their leftover calls settled first) and send home the
        agents of those given back."""
        now = self.q.now()
        self.ownership.refresh(now)
        taken, released = self.ownership.take_news()
        # kept until acted on: a database error half-way leaves the rest for the next try, none forgotten
        self._taken.update(taken)
        self._released |= released
        if self._released:
            with session_scope(self.sessions) as s:
                needed = set(shares.needing_owner(s, self._released))
            for cid in sorted(self._released):
                floor = self.floors.get(cid)
                if floor is not None:
                    floor.retire(log_out=cid not in needed)  # still needed: another worker takes it on
                    del self.floors[cid]
                self._released.discard(cid)
        for cid in sorted(self._taken):
            if cid in self.floors and self._taken[cid] in (None, self.ownership.name):
                # this worker's own lease ran out (a database away for longer than a lease) and it took the
                # campaign back: its calls and agents are its own, alive; settled, its talking agents were logged
                # out and their calls ended unanswered for (and a second floor played the same seats)
                del self._taken[cid]
                log.info("campaign %d: taken back after its lease ran out; its floor carries on", cid)
                continue
            if cid not in self._settled:  # once: on a second try the loop may have dialed it meanwhile
                self._settled[cid] = settle_simulated_calls(self.sessions, now, {cid})
            wanted = self.agents_wanted if self.staff is None or cid in self.staff else 0
            ids = ensure_agents(self.sessions, cid, wanted, self.sc.agents.count, now)
            sc = replace(self.sc, agents=replace(self.sc.agents, count=len(ids), schedule=()))
            floor = self.floors[cid] = SimFloor(sc, mix64(self.seed, 11, cid), self.q, self.loop, cid, ids,
                                                self.request_tick, owns=partial(self._owns, cid))
            if not self._stopping and self._shift_end > self.q.t:  # mid-shift (a start, a takeover): in at once
                floor.plan_day(self.q.t, self._shift_end, login_stagger_s=TAKEOVER_LOGIN_S)
            del self._taken[cid]
            settled = self._settled.pop(cid)
            staffed = (f"{len(ids)} simulated agents logging in" if self.staff is None or cid in self.staff else
                       "no simulated agents (not a campaign this worker staffs): people at the console take its calls")
            log.info("campaign %d: %s%s", cid, staffed,
                     f"; {settled} calls a previous worker left live settled" if settled else "")

    def _owns(self, campaign_id: int) -> bool:
        return campaign_id in self.ownership.owned

    def _adopting(self) -> None:
        if self._stopping:
            return
        self.adopt()
        self.q.after(ADOPT_EVERY_S, self._adopting)

    # the carrier's news reaches the loop and the floors through the inbox, in order (``dialer.sim.retry``)
    def _deliver(self, event) -> None:
        self.inbox.put(super()._deliver, event)

    def _connected(self, agent_id: int, call) -> None:
        self.inbox.put(self._tell_connected, agent_id, call)

    def _ended(self, call) -> None:
        self.inbox.put(self._tell_ended, call)

    def _tell_connected(self, agent_id: int, call) -> None:
        for floor in self.floors.values():
            floor.on_connected(agent_id, call)

    def _tell_ended(self, call) -> None:
        for floor in self.floors.values():
            floor.on_ended(call)
        self.request_tick(self.q.t)

    def _shift(self, start: float) -> None:
        """Back-to-back shifts of ``[run] hours_per_day``: agents log out and in again at each change."""
        if self._stopping:
            return
        end = self._shift_end = start + self.sc.run.hours_per_day * 3600
        for floor in self.floors.values():
            floor.plan_day(start, end, login_stagger_s=min(30.0, floor.sc.agents.stagger_min * 60))
        self.q.at(end, self._shift, end)

    def _periodic(self, end_t: float) -> None:
        if not self._stopping:
            super()._periodic(end_t)

    def _tick(self) -> None:
        started = time.perf_counter()  # the benchmark's loop turn: wall time spent, not the loop's clock
        super()._tick()
        self.turns.append(time.perf_counter() - started)

    def turn_ms(self, q: float) -> float | None:
        """The ``q``-th percentile of the loop's turns so far, in milliseconds."""
        if not self.turns:
            return None
        ordered = sorted(self.turns)
        return round(1000 * ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 2)

    def _clock_t(self) -> float:
        """The virtual second it is now by the process's clock (the one every other process reads)."""
        return (self.clock.now() - self.q.t0).total_seconds()

    def start(self) -> None:
        """Take this worker's campaigns and staff them (what ``serve`` does first)."""
        self._shift(0.0)
        self.adopt()
        self.q.at(ADOPT_EVERY_S, self._adopting)
        self.q.at(0.0, self._periodic, float("inf"))

    def serve(self, speed: float, stop: Callable[[], bool], *, until: float = float("inf"), sleep=None,
              monotonic=None) -> None:
        """Run until ``stop()`` or virtual second ``until``; then stop dialing and let every call in flight
        finish."""
        if self.clock is not None:  # start-up took a while: times written must be the other processes' times
            self.q.run((self.clock.now() - self.q.t0).total_seconds())
        self.start()
        # the leases are renewed on their own thread, on the process's clock: a starved or busy event loop must not
        # let them run out, nor stamp them with its own time (behind the others' by whatever it has yet to catch up)
        heartbeat = Heartbeat(self.ownership, self.clock or ScaledClock(datetime.now(UTC), speed, start=self.q.now()))
        # (on SQLite, the one worker there is, the event loop renews them: no second writer thread)
        if monotonic is None and self.sessions.kw["bind"].dialect.name != "sqlite":
            heartbeat.start()
        self.waiting.monotonic = monotonic or time.monotonic
        try:
            self.q.run_realtime(speed, until=until, stop=stop, sleep=sleep, monotonic=monotonic,
                                target=self._clock_t if self.clock is not None and monotonic is None else None,
                                retry=self.waiting)
        finally:
            heartbeat.stop()
        self.drain()

    def drain(self) -> None:
        """Stop as a floor does: nothing new is dialed, the agents stay until every call placed for them has been
        put through to one of them or has ended (at most ``DRAIN_S``), then go home as their calls end. Sent home
        first, every person answering one of the calls still ringing was abandoned (a fresh power campaign stopped
        after five minutes: all 10 of its abandons, 3.8 % of its live answers)."""
        self.stopped_at = self.q.t
        self._stopping = True
        self.waiting.patient = False  # the last calls finish in virtual time at once: no waiting on the database
        self.loop.dialing = False
        self.ownership.freeze()
        calls = self.carrier.calls
        while self.q.t < self.stopped_at + DRAIN_S and any(c.agent_id is None for c in calls.values()):
            self.q.run(min(self.q.next_t, self.stopped_at + DRAIN_S))
        for floor in self.floors.values():
            floor.set_count(0, 0.0)
        self.q.run()
        self.loop.tick(self.q.now())
        self.world.store.release(self.q.now())
