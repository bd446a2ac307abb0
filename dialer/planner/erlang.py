"""Erlang C: agents needed for an inbound queue (M/M/N, callers wait, nobody hangs up).

Computed through the Erlang B recursion B(n) = A·B(n-1) / (n + A·B(n-1)), which never forms A^N or N! and so
stays finite and exact to rounding for thousands of agents; Erlang C follows as N·B / (N - A·(1 - B)).
docs/planner.md explains the model, its limits and the published values the tests check.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from dnc.errors import UserError

MAX_AGENTS = 100_000


@dataclass(frozen=True)
class Staffing:
    """What ``agents`` people give on a load of ``load`` Erlangs with handle time ``aht_s``."""

    agents: int
    load: float  # offered load in Erlangs: calls per second x average handle time
    aht_s: float
    p_wait: float  # probability a caller waits at all (Erlang C)
    asa_s: float  # average speed of answer over all callers
    occupancy: float  # share of staffed time spent handling calls
    service_level: float  # share answered within target_s
    target_s: float

    def as_dict(self) -> dict:
        return {"agents": self.agents, "load_erlangs": round(self.load, 4), "aht_s": self.aht_s,
                "p_wait": round(self.p_wait, 6), "asa_s": round(self.asa_s, 3) if math.isfinite(self.asa_s) else None,
                "occupancy": round(self.occupancy, 6), "service_level": round(self.service_level, 6),
                "target_s": self.target_s}


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability of ``agents`` servers offered ``load`` Erlangs (lost-calls-cleared)."""
    _check(agents, load)
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability an arriving caller has to wait; 1 when the floor cannot keep up (agents <= load)."""
    return _c_from_b(agents, load, erlang_b(agents, load))


def staffing(agents: int, load: float, aht_s: float, target_s: float) -> Staffing:
    """Every figure a planner shows for one staffing level."""
    return _staffing(agents, load, aht_s, target_s, erlang_b(agents, load))


def load_of(calls: float, period_s: float, aht_s: float) -> float:
    """Offered load in Erlangs of ``calls`` arriving over ``period_s`` with handle time ``aht_s``."""
    if period_s <= 0 or aht_s <= 0 or calls < 0:
        raise UserError("calls must be >= 0 and the period and handle time > 0")
    return calls / period_s * aht_s


def agents_for(load: float, aht_s: float, *, service_level: float = 0.8, target_s: float = 20.0,
               max_occupancy: float = 0.85, max_asa_s: float | None = None) -> Staffing:
    """The fewest agents whose service level reaches the goal with occupancy at most ``max_occupancy``.

    Occupancy near 100 % looks efficient and burns people out, so the cap is a goal of its own: the answer is
    never fewer than load ÷ max_occupancy agents, even where the service level alone would allow it.
    """
    if not 0 < service_level < 1:
        raise UserError("service level must be between 0 and 100 % (exclusive)")
    if not 0 < max_occupancy <= 1:
        raise UserError("maximum occupancy must be above 0 and at most 100 %")
    if target_s < 0 or aht_s <= 0:
        raise UserError("the answer target must be >= 0 s and the handle time > 0 s")
    for s in _levels(load, aht_s, target_s):
        if s.agents <= load or s.occupancy > max_occupancy:
            continue
        if s.service_level >= service_level and (max_asa_s is None or s.asa_s <= max_asa_s):
            return s
    raise UserError(f"no staffing up to {MAX_AGENTS} agents meets that goal")  # pragma: no cover - needs A > 1e5


def table(load: float, aht_s: float, target_s: float, first: int, last: int) -> list[Staffing]:
    """Staffing levels ``first``..``last`` side by side (the what-if table managers read)."""
    if first < 1 or last < first or last > MAX_AGENTS:
        raise UserError(f"agents must run from 1 to at most {MAX_AGENTS}, first <= last")
    return [s for s in _levels(load, aht_s, target_s, last) if s.agents >= first]


def _levels(load: float, aht_s: float, target_s: float, last: int = MAX_AGENTS) -> Iterator[Staffing]:
    """Staffing(1), Staffing(2), ... with the Erlang B recursion carried from one level to the next."""
    _check(1, load)
    b = 1.0
    for n in range(1, last + 1):
        b = load * b / (n + load * b)
        yield _staffing(n, load, aht_s, target_s, b)


def _c_from_b(agents: int, load: float, b: float) -> float:
    if load == 0:
        return 0.0
    if agents <= load:
        return 1.0
    return agents * b / (agents - load * (1 - b))


def _staffing(agents: int, load: float, aht_s: float, target_s: float, b: float) -> Staffing:
    c = _c_from_b(agents, load, b)
    if agents <= load:
        return Staffing(agents, load, aht_s, 1.0, math.inf, 1.0, 0.0, target_s)
    spare = agents - load
    return Staffing(agents, load, aht_s, c, c * aht_s / spare, load / agents,
                    1.0 - c * math.exp(-spare * target_s / aht_s), target_s)


def _check(agents: int, load: float) -> None:
    if agents < 1 or agents > MAX_AGENTS:
        raise UserError(f"agents must be between 1 and {MAX_AGENTS}")
    if not math.isfinite(load) or load < 0:
        raise UserError("the load must be a finite number of Erlangs >= 0")
