"""What a fixed rule would abandon if nothing held it back: the console's warning before a manager overdials.

A power or ratio campaign is held to its 30-day abandon budget by the pacer (``governed``), so a setting that asks
for more than the floor can absorb costs occupancy, not legality. The console still says so, with a figure: this
module plays the bare rule on a small floor model with the base values of docs/pacing.md §3 (a quarter of dials
answered live, the answer-time, talk and wrap laws of the simulator's base column, a 2-second grace) and returns
the share of live answers that would find no agent. It is an estimate on typical figures, not a forecast of the
campaign's own list, and a few hundred milliseconds at most (cached per setting).
"""

from __future__ import annotations

import heapq
import math
from functools import lru_cache

import numpy as np

LIVE, MACHINE, NO_ANSWER, DEAD = 0.25, 0.20, 0.35, 0.20  # §3 base mix (busy and SIT together)
GRACE_S = 2.0
SIM_S, MIN_LIVES = 2 * 3600.0, 1500


def estimate_abandon(mode: str, setting: float, agents: int, seed: int = 7) -> float:
    """The bare rule's abandon rate (abandoned ÷ live answers) with ``agents`` staffed: ``mode`` is "power"
    (``setting`` = calls per ready agent) or "ratio" (``setting`` = dial level)."""
    if mode not in ("power", "ratio"):
        raise ValueError(f"no overdial estimate for mode {mode!r}")
    return _estimate(mode, round(float(setting), 2), max(1, int(agents)), seed)


@lru_cache(maxsize=256)
def _estimate(mode: str, setting: float, agents: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    events: list[tuple[float, int, int]] = []  # (time, kind, payload); kinds below
    RESOLVED, ANSWER, TALK_END, FREE, DEADLINE = 0, 1, 2, 3, 4
    ready, talking, ringing = agents, 0, 0
    waiting: list[int] = []  # call ids of live answers waiting for an agent
    lives = abandons = 0
    seq = 0
    t = 0.0

    def talk_time() -> float:
        return rng.lognormal(math.log(15), 0.6) if rng.random() < 0.35 else rng.lognormal(math.log(120), 0.8)

    def dial(n: int) -> None:
        nonlocal ringing, seq
        for _ in range(n):
            ringing += 1
            u = rng.random()
            if u < LIVE:
                heapq.heappush(events, (t + 2.0 + rng.gamma(2.0, 4.0), ANSWER, 0))
            elif u < LIVE + MACHINE:
                heapq.heappush(events, (t + rng.gamma(4.0, 3.0), RESOLVED, 0))
            elif u < LIVE + MACHINE + NO_ANSWER:
                heapq.heappush(events, (t + 25.0, RESOLVED, 0))
            else:
                heapq.heappush(events, (t + rng.uniform(1.0, 6.0), RESOLVED, 0))

    def connect() -> None:
        nonlocal ready, talking
        ready -= 1
        talking += 1
        heapq.heappush(events, (t + talk_time(), TALK_END, 0))

    def rule() -> int:
        if mode == "power":
            return math.floor(setting * ready - ringing - len(waiting) + 1e-9)
        # VICIdial counts agents in wrap as dialable and subtracts only the calls in progress
        return math.floor(setting * agents + 0.5) - ringing - len(waiting) - talking

    dial(max(rule(), 0))
    while events and (t < SIM_S or lives < MIN_LIVES) and t < 10 * SIM_S:
        t, kind, payload = heapq.heappop(events)
        if kind == RESOLVED:
            ringing -= 1
        elif kind == ANSWER:
            ringing -= 1
            lives += 1
            if ready > 0:
                connect()
            else:
                seq += 1
                waiting.append(seq)
                heapq.heappush(events, (t + GRACE_S, DEADLINE, seq))
        elif kind == TALK_END:
            talking -= 1
            heapq.heappush(events, (t + rng.lognormal(math.log(12), 0.5), FREE, 0))
        elif kind == FREE:
            ready += 1
            if waiting:
                waiting.pop(0)
                connect()
        elif kind == DEADLINE and payload in waiting:
            waiting.remove(payload)
            abandons += 1
        dial(max(rule(), 0))
    return abandons / lives if lives else 0.0


def warning(mode: str, setting: float, agents: int, target: float) -> str | None:
    """The console's sentence when the setting would overdial this floor past the campaign's target, else None."""
    if mode not in ("power", "ratio") or agents < 1:
        return None
    rate = estimate_abandon(mode, setting, agents)
    if rate <= target:
        return None
    what = (f"Power {setting:g} lines per agent" if mode == "power" else f"Dial level {setting:g}")
    return (f"{what} with {agents} agent{'s' if agents != 1 else ''} would abandon about {100 * rate:.0f} % of "
            f"answered calls; the dialer will hold it to the {100 * target:g} % budget, so it will dial less than "
            "the setting asks.")
