"""The live benches' people: agents at the console who wrap up each call they talked on, record a disposition and
go ready again, each in a transaction of their own, and log out when the shift ends (``dialer bench twilio`` and
``dialer bench scale``)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.db import session_scope

WRAP_S = (1.0, 3.0)  # an agent's wrap after a call they talked on


class SimulatedAgents(threading.Thread):
    """Agents at the console: a disposition after ``wrap_s`` of wrap, then ready again.

    Each agent acts in a transaction of their own, as a person clicking in the console does: on SQLite every
    transaction holds the one write lock, and a single pass over the whole floor would keep the worker and the
    webhooks waiting behind it every tenth of a second."""

    def __init__(self, sessions, clock, wrap_s: tuple[float, float] = WRAP_S, seed: int = 1) -> None:
        super().__init__(name="bench-agents", daemon=True)
        self.sessions, self.clock, self.wrap_s = sessions, clock, wrap_s
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.logout = threading.Event()
        self.dispositions = 0
        self.errors = 0

    def run(self) -> None:
        due: dict[int, datetime] = {}
        while not self.stop.wait(0.1):
            try:
                self._turn(due)
            except Exception:  # a locked SQLite database: the people try again a moment later
                self.errors += 1

    def _turn(self, due: dict[int, datetime]) -> None:
        now = self.clock.now()
        with session_scope(self.sessions) as s:
            floor = s.execute(select(Agent.id, Agent.state)
                              .where(Agent.state.in_(("wrap", "ready", "paused", "talking")))).all()
        for agent_id, state in floor:
            if self.logout.is_set():
                if state != "talking":
                    self._act(lambda s, a=agent_id: self._log_out(s, a))
                continue
            if state != "wrap":
                due.pop(agent_id, None)
                continue
            when = due.setdefault(agent_id, now + timedelta(seconds=self.rng.uniform(*self.wrap_s)))
            if when <= now and self._act(lambda s, a=agent_id: self._wrap_up(s, a)):
                due.pop(agent_id, None)

    def _act(self, step: Callable[[object], None]) -> bool:
        try:
            with session_scope(self.sessions) as s:
                step(s)
            return True
        except Exception:  # a locked SQLite database: this agent tries again at the next pass
            self.errors += 1
            return False

    def _log_out(self, s, agent_id: int) -> None:
        if s.get(Agent, agent_id).state != "talking":  # a call may have reached them since the floor was read
            agent_svc.go_offline(s, agent_id, self.clock.now())

    def _wrap_up(self, s, agent_id: int) -> None:
        now = self.clock.now()
        if s.get(Agent, agent_id).state != "wrap":  # freed by the worker meanwhile (a machine's verdict)
            return
        call = agent_svc.current_call(s, agent_id)
        if call is not None and call.disposition_code is None and call.ended_at is not None \
                and call.connected_at is not None:
            agent_svc.disposition(s, call.id, self.rng.choice(("NI", "NI", "SALE", "WRONG")), now)
            self.dispositions += 1
        agent_svc.go_ready(s, agent_id, now)
