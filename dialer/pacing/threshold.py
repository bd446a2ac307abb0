"""The threshold reference pacer (issue 17): the simplest forecasting rule, kept as a yardstick for ``predictive``.

Dial while P(live answers within the answer horizon ≥ agents available by then) < α, one call at a time:

- the answer horizon is the median time from dial to live answer (learned); agents available by then are the ready
  ones plus each busy agent's chance to be back in ready within the horizon and the 2 s grace, from its elapsed talk
  or wrap time (talk and wrap learned by Kaplan–Meier, calls still in progress entered as censored);
- live answers within the horizon are each ringing call's chance to answer live by then plus the new dials';
- α is steered by an integral loop toward a 2.2 % abandon rate (under a 3 % target; proportionally under others):
  every live answer raises log α by η·0.022, every abandon lowers it by η.

Nothing else: no team-size prior, no budget caution, no progressive fallback on small teams; only a cold start
(one call per ready agent until the curves are fitted). It shares the predictive pacer's estimators, so the
difference between the two is the policy alone.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dialer.pacing.predictive import (
    ALPHA_MAX,
    ALPHA_MIN,
    COLD_DIALS,
    COLD_LIVES,
    COLD_TALKS,
    HORIZONS,
    PredictivePacer,
)
from dialer.pacing.risk import EXACT_MAX_TERMS, choose_exact, choose_normal, moments

AIM = 0.022  # the abandon rate the loop steers to
ALPHA_START = 0.03
LOOP_STEP = 0.05


class ThresholdPacer(PredictivePacer):
    name = "threshold"

    @property
    def eta(self) -> float:
        return LOOP_STEP

    @property
    def alpha(self) -> float:
        return min(max(ALPHA_START * math.exp(self.gain), ALPHA_MIN), ALPHA_MAX)

    def _credit(self) -> float:
        return LOOP_STEP * AIM * self.target / 0.03  # 2.2 % under the 3 % cap; the same proportion under others

    def _fallback(self) -> str | None:
        if (self.handle.talk.count < COLD_TALKS or self.answers.count < COLD_DIALS
                or self.answers.lives < COLD_LIVES):
            return "cold start"
        return None

    def _decide(self, t: float, agents: np.ndarray, calls: np.ndarray, base: int, cap: int, ring_idx: np.ndarray,
                info: dict[str, Any]) -> int:
        k = slice(HORIZONS // 2, HORIZONS // 2 + 1)  # the median answer time: one horizon
        a, c, q = agents[:, k], calls[:, k], self.q_new[k]
        alpha = self.alpha
        if len(a) + len(c) <= EXACT_MAX_TERMS:
            n, r0 = choose_exact(base, a, c, q, alpha, cap)
        else:
            mu, var, k3 = moments(base, a, c)
            n, r0 = choose_normal(mu, var, k3, q, alpha, cap)
        info.update({"abandon_loop_alpha": alpha, "marginal_risk_now": r0})
        return n
