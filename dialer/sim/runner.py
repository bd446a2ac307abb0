"""The discrete-event simulator: the real ``DialLoop`` driven by the simulated carrier and simulated agents on
a virtual clock, seeded and reproducible.

The loop ticks every ``[run] tick_s`` of virtual time while the campaign dials, again on the events that change
what it can do (an agent free, a call ended), and at each 2-second abandon deadline. Nothing here decides
anything the product decides: routing, abandons, retries and pacing are the loop's and the pacer's own code.

At each day's close the campaign stops dialing (it is paused) and the agents on shift stay as they are until every
call placed for them has been put through to one of them or has ended (at most ``DRAIN_S``), then go home as
their calls end: as a floor does when its campaign's hours close, and as the live worker stops
(``dialer.sim.live``). Sent home at the close itself, every person answering a call dialed in its last half
minute was abandoned.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from dialer.carriers.simulated import SimCarrier
from dialer.loop.core import DialLoop
from dialer.loop.pacers import named_pacer
from dialer.loop.store import Gate
from dialer.sim.customers import Customers
from dialer.sim.engine import EventQueue
from dialer.sim.floor import SimFloor
from dialer.sim.result import CallTable, SimResult, intervals
from dialer.sim.scenario import Scenario
from dialer.sim.world import MemoryWorld, index_of
from dnc.errors import UserError

STORES = ("memory", "sql")
DRAIN_S = 90.0  # at the close agents wait at most this long for the calls still ringing (ring timeout 25 s, then a
# person's 30 s of patience at most: every call is through or over well before); as ``dialer.sim.live.DRAIN_S``


def day_windows(scenario: Scenario) -> tuple[datetime, list[tuple[float, float]]]:
    """The run's start (UTC) and each day's dialing window in seconds since then (DST-safe: local wall time)."""
    r = scenario.run
    tz = ZoneInfo(r.timezone)
    t0 = r.start.replace(tzinfo=tz).astimezone(UTC)
    out = []
    for d in range(r.days):
        start = (r.start + timedelta(days=d)).replace(tzinfo=tz).astimezone(UTC)
        s = (start - t0).total_seconds()
        out.append((s, s + r.hours_per_day * 3600))
    return t0, out


class Simulation:
    def __init__(self, scenario: Scenario, seed: int, world, pacer_factory: Callable, gate: Gate | None = None,
                 queue: EventQueue | None = None, ref_prefix: str = "SIM",
                 lead_of: Callable[[str], int] = index_of) -> None:
        self.sc = scenario
        self.seed = seed
        self.world = world
        t0, self.days = day_windows(scenario)
        self.q = queue or EventQueue(t0)
        self.day_starts = [s for s, _ in self.days]
        start = scenario.run.start
        self.start_hour = start.hour + start.minute / 60 + start.second / 3600
        self.carrier = SimCarrier(self.q, Customers(scenario, seed), lead_of=lead_of, calendar=self.calendar,
                                  deliver=self._deliver, on_connected=self._connected, on_ended=self._ended,
                                  ref_prefix=ref_prefix)
        self.loop = DialLoop(world.store, self.carrier, pacer_factory=pacer_factory, gate=gate,
                             cps=scenario.campaign.cps, ring_timeout_s=scenario.answer.ring_timeout_s,
                             machine_detection=scenario.amd.enabled, status_every_s=60.0)
        self.grace_s = self.loop.grace.total_seconds()
        self.floor = SimFloor(scenario, seed, self.q, self.loop, world.campaign_id, world.agent_ids,
                              self.request_tick, still_coming=self._still_coming)
        self.explanations: list[tuple[float, dict]] = []
        self._tick_at = -1.0
        self._closed_at: float | None = None  # the close whose agents wait for the calls still ringing

    def calendar(self, t: float) -> tuple[int, float]:
        d = max(0, bisect_right(self.day_starts, t) - 1)
        return d, self.start_hour + (t - self.day_starts[d]) / 3600

    # --- the clockwork -----------------------------------------------------------------------------------------
    def _deliver(self, event) -> None:
        self.loop.handle(event)
        if event.kind == "answered" and event.answered_by != "machine":
            # wake the loop right at the 2-second deadline (a microsecond after, so the rounding of datetimes
            # never leaves it a hair short)
            self.q.at(self.q.t + self.grace_s + 1e-6, self._tick)

    def _connected(self, agent_id: int, call) -> None:
        self.floor.on_connected(agent_id, call)
        if self._closed_at is not None:
            self._drained()

    def _ended(self, call) -> None:
        self.floor.on_ended(call)
        if self._closed_at is not None:
            self._drained()

    def _still_coming(self, placed_by: float) -> bool:
        """May a call placed at or before ``placed_by`` still reach an agent (ringing, answered with nobody yet, or
        its safe-harbor message playing: as ``_drained`` judges)?"""
        return any(c.agent_id is None and c.placed_t <= placed_by for c in self.carrier.calls.values())

    def request_tick(self, t: float) -> None:
        if self._tick_at != t:
            self._tick_at = t
            self.q.at(t, self._tick)

    def _tick(self) -> None:
        self.loop.tick(self.q.now())

    def _periodic(self, end_t: float) -> None:
        self._tick()
        nxt = self.q.t + self.sc.run.tick_s
        if nxt < end_t:
            self.q.at(nxt, self._periodic, end_t)

    def _sample(self, end_t: float) -> None:
        info = self.loop.explain(self.world.campaign_id)
        if info is not None:
            self.explanations.append((self.q.t, info))
        nxt = self.q.t + self.sc.run.explain_every_s
        if nxt < end_t:
            self.q.at(nxt, self._sample, end_t)

    def _open(self, start: float, end: float) -> None:
        if self._closed_at is not None:  # a day opening as the last one closed (24-hour days): its agents go first
            self._send_home(self._closed_at)
        self.world.set_active(True)
        self.floor.plan_day(start, end, log_out_at_end=False)
        self.q.at(start, self._periodic, end)
        self.q.at(start + self.sc.run.explain_every_s, self._sample, end)

    def _close(self) -> None:
        self.world.set_active(False)
        self.floor.close()
        self._closed_at = self.q.t
        self.request_tick(self.q.t)
        self.q.after(DRAIN_S, self._send_home, self.q.t)
        self._drained()

    def _drained(self) -> None:
        """After the close: once no call is left that could still reach an agent (ringing, answered and waiting,
        or a safe-harbor message or voicemail still playing: the live worker's test), the agents go home, at this
        instant but after the event in hand."""
        if all(c.agent_id is not None for c in self.carrier.calls.values()):
            self.q.at(self.q.t, self._send_home, self._closed_at)

    def _send_home(self, closed_at: float | None) -> None:
        """The close's log-outs: ready and paused agents now, the others as their calls end (``SimFloor``)."""
        if closed_at is None or closed_at != self._closed_at:
            return  # that close's agents already went home
        self._closed_at = None
        self.floor.set_count(0, 0.0)
        self.request_tick(self.q.t)  # a turn hears of the log-outs, as the close's own turn did when they came with it

    def run(self) -> None:
        for start, end in self.days:
            self.q.at(start, self._open, start, end)
            self.q.at(end, self._close)
        self.q.run()  # after the last day: calls in flight finish, agents wrap up and log out

    # --- results -----------------------------------------------------------------------------------------------
    def result(self, pacer: str, settings: dict, wall_s: float) -> SimResult:
        calls, events = self.world.export()
        base = self.q.t0.timestamp()
        return SimResult(self.sc.name, pacer, dict(settings), self.seed, self.world.kind, self.q.t0, self.days,
                         self._call_table(calls, base), intervals(events, base, self.q.t), self.explanations,
                         wall_s, self.q.processed, self._stats())

    def _call_table(self, c: dict[str, np.ndarray], base: float) -> CallTable:
        ids = c["id"]
        codes = np.zeros(int(ids.max()) + 1 if len(ids) else 0, dtype=np.uint8)
        known = np.frombuffer(self.carrier.truth, dtype=np.uint8)[:len(codes)]
        codes[:len(known)] = known
        truth = np.array(["", "human", "machine"])[codes]
        return CallTable(id=ids, lead_id=c["lead"], agent_id=c["agent"], placed=c["placed"] - base,
                         answered=c["answered"] - base, connected=c["connected"] - base, ended=c["ended"] - base,
                         true_answered_by=truth[ids] if len(ids) else np.array([], dtype="<U7"),
                         answered_by=c["answered_by"].astype("<U7"), outcome=c["outcome"].astype("<U9"),
                         disposition=c["disposition"].astype("<U8"))

    def _stats(self) -> dict:
        s = self.loop.stats
        return {"ticks": s.ticks, "placed": s.placed, "place_failed": s.place_failed, "connected": s.connected,
                "abandoned": s.abandoned, "ignored_events": s.ignored_events, "errors": len(s.errors)}


def run(scenario: Scenario, pacer: str | None = None, pacer_settings: dict | None = None, seed: int | None = None,
        store: str = "memory", *, database_url: str | None = None, gate: Gate | None = None) -> SimResult:
    """Simulate ``scenario`` with the named pacer; same arguments, same result.

    ``pacer_settings`` default to the scenario's ``[pacer] settings`` when ``pacer`` is the scenario's pacer;
    ``target_abandon_rate`` defaults to the scenario's campaign abandon target. ``store="sql"`` runs the same loop
    on a fresh SQL database (a temporary SQLite file unless ``database_url`` names an empty, migratable one): slow,
    for equivalence checks and demos.
    """
    if store not in STORES:
        raise UserError(f"store {store!r} is not one of {', '.join(STORES)}")
    wall0 = time.perf_counter()
    seed = scenario.seed if seed is None else int(seed)
    name = pacer or scenario.pacer
    if pacer_settings is None:  # the scenario's settings belong to the scenario's pacer
        pacer_settings = scenario.pacer_settings if name == scenario.pacer else {}
    settings = dict(pacer_settings)
    settings.setdefault("target_abandon_rate", scenario.campaign.abandon_target)
    factory = named_pacer(name, settings)
    t0, _ = day_windows(scenario)
    if store == "memory":
        world = MemoryWorld(scenario, t0)
    else:
        from dialer.sim.sqlworld import SqlWorld

        world = SqlWorld(scenario, t0, database_url)
    try:
        sim = Simulation(scenario, seed, world, factory, gate)
        sim.run()
        return sim.result(name, settings, time.perf_counter() - wall0)
    finally:
        world.close()
