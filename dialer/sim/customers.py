"""The people and machines at the far end: what each dial meets, drawn from the scenario.

Draws are keyed by (seed, lead, attempt), not by the order of dials, so two pacers dialing the same list meet the
same answers (common random numbers: pacers are compared on the same customers, not on luck). A number that is
dead (SIT) is dead on every attempt, as on a real list.
"""

from __future__ import annotations

import math
import random
from _random import Random as _CRandom
from bisect import bisect_right
from dataclasses import dataclass

from dialer.sim.scenario import Mixture, Scenario

_GOLDEN = 0x9E3779B97F4A7C15
_MASK = (1 << 64) - 1


def mix64(*parts: int, start: int = 0) -> int:
    """A well-spread 64-bit key from integers (splitmix64 steps): seeds for independent random streams.
    ``start``: the key of leading parts already mixed (``mix64(a, b, c) == mix64(c, start=mix64(a, b))``)."""
    x = start
    for p in parts:
        x = (x + _GOLDEN + (p & _MASK)) & _MASK
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
        x ^= x >> 31
    return x


def draw(m: Mixture, rng: random.Random) -> float:
    """One duration from a mixture of lognormals."""
    comps = m.components
    if len(comps) == 1:
        c = comps[0]
    else:
        u = rng.random() * sum(c.weight for c in comps)
        for c in comps:
            u -= c.weight
            if u <= 0:
                break
    return rng.lognormvariate(math.log(c.median_s), c.sigma) if c.sigma > 0 else c.median_s


@dataclass(frozen=True, slots=True)
class Fate:
    """What one dial meets. Times are seconds after the dial."""

    kind: str  # live, machine, no_answer, busy, sit
    end_s: float | None = None  # busy/sit/no-answer: when the carrier reports the end
    answer_s: float | None = None
    talk_s: float = 0.0  # a live person's conversation once connected
    verdict: str = "unknown"  # what detection will say: human, machine, unknown (detection off)
    amd_delay_s: float = 0.0


class Customers:
    STREAM = 1  # stream ids keep the random streams of customers, agents and days apart

    def __init__(self, scenario: Scenario, seed: int) -> None:
        self.sc = scenario
        self.seed = seed
        o = scenario.outcomes
        self.alive = 1.0 - o.sit
        self.sit_share = o.sit
        self._dead: dict[int, bool] = {}
        self._key = mix64(seed, self.STREAM)  # every draw's key starts so: mixed once
        # reseeded for each draw (making a generator cost more than seeding one); ``dead`` has its own, as a fate
        # asks it between draws
        self._rng, self._rng_dead = random.Random(0), random.Random(0)
        rest = o.machine + o.no_answer + o.busy
        self.rest = (o.machine / rest, (o.machine + o.no_answer) / rest) if rest > 0 else (1.0, 1.0)
        self.curve_hours = [h for h, _ in scenario.answering.curve]
        self.curve_factors = [f for _, f in scenario.answering.curve]
        self.steps = [((s.day - 1) * 24 + s.hour, s.live) for s in scenario.answering.steps]
        d = scenario.answering.daily_drift
        rng = random.Random(mix64(seed, 2))
        self.drift = [rng.uniform(1 - d, 1 + d) if d > 0 else 1.0 for _ in range(scenario.run.days + 1)]

    def dead(self, lead_index: int) -> bool:
        """Is this number dead for good (a SIT tone on every attempt)? Drawn once a number and kept: seeding a
        generator costs more than the rest of a dial's fate, and a retried number would draw it again."""
        known = self._dead.get(lead_index)
        if known is None:
            known = self._dead[lead_index] = self._seeded(self._rng_dead, lead_index).random() < self.sit_share
        return known

    def live_share(self, day: int, hour: float, attempt: int) -> float:
        """The unconditional live share of a dial at local ``hour`` of 0-based ``day`` on attempt ``attempt``."""
        base = self.sc.outcomes.live
        if self.steps:
            key = day * 24 + hour
            for at, live in self.steps:
                if at <= key:
                    base = live
        i = bisect_right(self.curve_hours, hour) - 1
        factor = self.curve_factors[i] if i >= 0 else 1.0
        drift = self.drift[min(day, len(self.drift) - 1)]
        return base * factor * drift * self.sc.answering.retry_decay ** (attempt - 1)

    def _seeded(self, rng: random.Random, *parts: int) -> random.Random:
        """The generator, seeded as ``random.Random(mix64(seed, STREAM, *parts))`` would be: the C seeding only (the
        Python wrapper's one other effect, clearing ``gauss``'s cached value, does not concern the draws made
        here, which never call ``gauss``)."""
        _CRandom.seed(rng, mix64(*parts, start=self._key))
        return rng

    def fate(self, lead_index: int, attempt: int, day: int, hour: float, ring_timeout_s: float) -> Fate:
        sc = self.sc
        a = sc.answer
        rng = self._seeded(self._rng, lead_index, attempt)
        u = rng.random()
        if self.dead(lead_index):
            return Fate("sit", end_s=rng.uniform(*a.sit_s))
        p_live = min(0.98, self.live_share(day, hour, attempt) / self.alive) if self.alive > 0 else 0.0
        if u < p_live:
            kind = "live"
        else:
            v = (u - p_live) / (1.0 - p_live) if p_live < 1 else 1.0
            kind = "machine" if v < self.rest[0] else "no_answer" if v < self.rest[1] else "busy"
        if kind == "busy":
            return Fate("busy", end_s=rng.uniform(*a.busy_s))
        if kind == "no_answer":
            return Fate("no_answer", end_s=float(ring_timeout_s))
        mean, shape = (a.human_mean_s, a.human_shape) if kind == "live" else (a.machine_mean_s, a.machine_shape)
        answer_s = a.pdd_s + rng.gammavariate(shape, mean / shape)
        if answer_s >= ring_timeout_s:
            return Fate("no_answer", end_s=float(ring_timeout_s))
        amd = sc.amd
        if not amd.enabled:
            verdict = "unknown"
        elif kind == "live":
            verdict = "machine" if rng.random() < amd.human_as_machine else "human"
        else:
            verdict = "human" if rng.random() < amd.machine_as_human else "machine"
        delay = 0.0
        if amd.enabled and amd.delay_s > 0:
            delay = amd.delay_s * (rng.lognormvariate(0.0, amd.delay_sigma) if amd.delay_sigma > 0 else 1.0)
        talk = draw(sc.talk, rng) if kind == "live" else amd.agent_machine_s
        return Fate(kind, answer_s=answer_s, talk_s=talk, verdict=verdict, amd_delay_s=delay)
