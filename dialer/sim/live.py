"""``dialer run --carrier sim``: the simulated network and simulated agents in wall-clock time (optionally
accelerated) against a real campaign in the product's database, for the demo and for trying a campaign offline.

The campaign's simulated agents (``agents.simulated``) follow the scenario's shifts, breaks and wrap times;
its other agents are people at the console. Times written to the database run at ``speed`` times the wall clock
from the moment the worker starts. On stop, dialing halts and the calls in flight finish in virtual time at once,
so no call is left live; a worker killed outright leaves live simulated calls that the next start settles.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from dialer.loop.pacers import campaign_pacer
from dialer.loop.sql import SqlStore
from dialer.loop.store import Gate
from dialer.sim.engine import EventQueue
from dialer.sim.runner import Simulation
from dialer.sim.scenario import Scenario


class CampaignWorld:
    """An existing campaign: the store, its id and its simulated agents."""

    kind = "sql"

    def __init__(self, store: SqlStore, campaign_id: int, agent_ids: list[int]) -> None:
        self.store, self.campaign_id, self.agent_ids = store, campaign_id, agent_ids

    def set_active(self, active: bool) -> None:
        """The campaign's status is the manager's (``dialer campaigns start|pause``), not the simulator's."""


def settle_simulated_calls(sessions: sessionmaker[Session], now: datetime) -> int:
    """Calls a killed simulator left live cannot be alive (their network died with it): end them as the network
    would have, and log its simulated agents out. Returns how many calls were settled."""
    with session_scope(sessions) as s:
        calls = list(s.scalars(select(Call).where(Call.provider == "sim", Call.ended_at.is_(None))))
        for c in calls:
            if c.connected_at is not None:
                reason = "completed"
            elif c.answered_at is not None:
                reason = c.outcome or ("machine" if c.answered_by == "machine" else "completed")
            else:
                reason = "canceled"  # never reached anyone: the attempt does not count
            dispatch.end(s, c.id, reason, now)
        for agent in s.scalars(select(Agent).where(Agent.simulated.is_(True), Agent.state != "offline")):
            agent_svc.set_state(s, agent.id, "offline", now)
    return len(calls)


class LiveSimulation(Simulation):
    def __init__(self, scenario: Scenario, seed: int, sessions: sessionmaker[Session], campaign_id: int,
                 agent_ids: list[int], start: datetime, *, gate: Gate | None = None, holder: str | None = None,
                 pacer_factory: Callable = campaign_pacer) -> None:
        store = SqlStore(sessions, provider="sim", campaign_ids={campaign_id}, holder=holder)
        self.sessions = sessions
        self.tz = ZoneInfo(scenario.run.timezone)
        self.start_day = start.astimezone(self.tz).date()
        super().__init__(scenario, seed, CampaignWorld(store, campaign_id, agent_ids), pacer_factory, gate,
                         queue=EventQueue(start), ref_prefix=f"SIM{start.strftime('%Y%m%d%H%M%S%f')}-")
        self._stopping = False
        self.stopped_at: float | None = None  # virtual second when the stop came (draining runs past it)

    def calendar(self, t: float) -> tuple[int, float]:
        local = self.q.dt(t).astimezone(self.tz)
        return (local.date() - self.start_day).days, local.hour + local.minute / 60 + local.second / 3600

    def _shift(self, start: float) -> None:
        """Back-to-back shifts of ``[run] hours_per_day``: agents log out and in again at each change."""
        if self._stopping:
            return
        end = start + self.sc.run.hours_per_day * 3600
        self.floor.plan_day(start, end, login_stagger_s=min(30.0, self.sc.agents.stagger_min * 60))
        self.q.at(end, self._shift, end)

    def _periodic(self, end_t: float) -> None:
        if not self._stopping:
            super()._periodic(end_t)

    def serve(self, speed: float, stop: Callable[[], bool], *, until: float = float("inf"), sleep=None,
              monotonic=None) -> None:
        """Run until ``stop()`` or virtual second ``until``; then stop dialing and let every call in flight
        finish."""
        settle_simulated_calls(self.sessions, self.q.t0)
        self._shift(0.0)
        self.q.at(0.0, self._periodic, float("inf"))
        self.q.run_realtime(speed, until=until, stop=stop, sleep=sleep, monotonic=monotonic)
        self.drain()

    def drain(self) -> None:
        self.stopped_at = self.q.t
        self._stopping = True
        self.loop.dialing = False
        self.floor.set_count(0, 0.0)
        self.q.run()
        self.loop.tick(self.q.now())
        self.world.store.release(self.q.now())
