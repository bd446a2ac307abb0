"""How dials turn out: live-answer probability and time-to-answer, learned with forgetting and change detection.

Every dial resolves as live (a person), machine, or dead (no answer, busy, failed) after some ring time. The
model keeps the three shares with exponential forgetting (half-life in dials) and a per-kind ring-time curve, so
for a call that has rung ``e`` seconds it can say how likely it still is to be live (the posterior of docs/pacing.md
§1.6 step 2) and how likely it is to answer live within the next ``h`` seconds. A two-sided Bernoulli CUSUM on
"was it live" notices a step in the answer rate (lunch hour, a bad list segment) within a few dozen dials and then
shrinks the old evidence, so the estimate tracks the change instead of drifting over hundreds of dials.
"""

from __future__ import annotations

import math

import numpy as np

from dialer.pacing.floor import DEAD_KIND, LIVE_KIND, MACHINE_KIND
from dialer.pacing.survival import Survival, SurvivalEstimator

KINDS = (LIVE_KIND, MACHINE_KIND, DEAD_KIND)


class BernoulliCusum:
    """Two-sided log-likelihood CUSUM for a shift of ``rel_shift`` (relative) in a Bernoulli rate.

    ``update(x, p0)`` returns +1 or -1 when the evidence for an upward or downward shift from ``p0`` crosses
    ``threshold`` (then restarts), else 0. With threshold 6 a false alarm comes once in many thousand draws, and a
    drop from 30 % to 12 % live is flagged within about a hundred dials.
    """

    def __init__(self, rel_shift: float = 0.35, threshold: float = 6.0) -> None:
        self.rel_shift = rel_shift
        self.threshold = threshold
        self.up = 0.0
        self.down = 0.0

    def update(self, x: bool, p0: float) -> int:
        p0 = min(max(p0, 1e-4), 1 - 1e-4)
        hi = min(p0 * (1 + self.rel_shift), 0.999)
        lo = max(p0 * (1 - self.rel_shift), 1e-5)
        if x:
            self.up = max(0.0, self.up + math.log(hi / p0))
            self.down = max(0.0, self.down + math.log(lo / p0))
        else:
            self.up = max(0.0, self.up + math.log((1 - hi) / (1 - p0)))
            self.down = max(0.0, self.down + math.log((1 - lo) / (1 - p0)))
        if self.up > self.threshold:
            self.up = self.down = 0.0
            return 1
        if self.down > self.threshold:
            self.up = self.down = 0.0
            return -1
        return 0


class DialOutcomeModel:
    """Shares of live/machine/dead dials and their ring-time curves, with forgetting and change detection."""

    def __init__(self, half_life: float = 400.0, ring_horizon: float = 180.0, width: float = 0.25,
                 keep_on_change: float = 0.05) -> None:
        self.growth = 2.0 ** (1.0 / half_life)
        self.unit = 1.0
        self.weights = np.zeros(3)
        self.count = 0
        self.lives = 0
        self.keep_on_change = keep_on_change
        self.times = [SurvivalEstimator(width, ring_horizon, half_life=4 * half_life) for _ in KINDS]
        self.cusum = BernoulliCusum()
        self.changes = 0

    def add(self, kind: int, elapsed: float | None) -> None:
        p_live = self.p_live
        self.weights[kind] += self.unit
        self.unit *= self.growth
        if self.unit > 1e100:
            self.weights /= self.unit
            self.unit = 1.0
        self.count += 1
        self.lives += kind == LIVE_KIND
        if elapsed is not None:
            self.times[kind].add(elapsed, True)
        if self.count > 30 and self.cusum.update(kind == LIVE_KIND, p_live):
            self.changes += 1
            # old shares shrink so the dials since the change dominate the estimate from here on
            self.weights = self.weights * self.keep_on_change
            for est in self.times:
                est.forget(0.5)

    @property
    def effective_n(self) -> float:
        return float(self.weights.sum() / self.unit * self.growth) if self.count else 0.0

    @property
    def shares(self) -> np.ndarray:
        """(live, machine, dead) shares, with a weak prior so a cold model is not degenerate."""
        prior = np.array([0.25, 0.2, 0.55]) * 2.0 * self.unit / self.growth
        w = self.weights + prior
        return w / w.sum()

    @property
    def p_live(self) -> float:
        """``shares[LIVE_KIND]`` in plain floats, the same operations in the same order (asked at every resolved
        dial, where the arrays cost more than the arithmetic)."""
        w, scale = self.weights, self.unit
        live, machine, dead = (float(w[k]) + c * 2.0 * scale / self.growth for k, c in enumerate((0.25, 0.2, 0.55)))
        return live / ((live + machine) + dead)

    @property
    def lifetime_live(self) -> float:
        """The live share of every dial resolved so far, unforgetting: what change detection cannot talk down."""
        return self.lives / self.count if self.count else 0.0

    def fit(self, live_at_least: float = 0.0) -> FittedAnswers:
        """The snapshot; ``live_at_least`` raises the live share to that floor (the other shares shrink in
        proportion), for a pacer that must not under-count answers."""
        shares = self.shares
        if shares[LIVE_KIND] < live_at_least < 1.0:
            rest = 1.0 - shares[LIVE_KIND]
            shares = shares * ((1.0 - live_at_least) / rest) if rest > 0 else shares
            shares[LIVE_KIND] = live_at_least
        return FittedAnswers(shares, [est.fit() for est in self.times])


class FittedAnswers:
    """A frozen snapshot for fast lookups: posterior live probability and live-within-h for ringing calls."""

    def __init__(self, shares: np.ndarray, curves: list[Survival]) -> None:
        self.shares = shares
        self.curves = curves
        self.p_live = float(shares[LIVE_KIND])
        self.live = curves[LIVE_KIND]

    def still_ringing(self, e: np.ndarray) -> np.ndarray:
        """Σ_k p_k S_k(e): the chance a fresh dial is still unresolved after ``e`` seconds."""
        return sum(self.shares[k] * self.curves[k].sf(e) for k in KINDS)

    def posterior_live(self, e: np.ndarray) -> np.ndarray:
        """P(live | still ringing after e) = p·S_L(e) / Σ p_k S_k(e)."""
        num = self.p_live * self.live.sf(e)
        den = self.still_ringing(e)
        return np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0.0)

    def live_within(self, e: np.ndarray, h: np.ndarray) -> np.ndarray:
        """P(answers live within the next h | rang e so far); broadcasts e against h."""
        e = np.asarray(e, dtype=float)
        h = np.asarray(h, dtype=float)
        num = self.p_live * (self.live.cdf(e + h) - self.live.cdf(e))
        den = self.still_ringing(e)
        return np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0.0)
