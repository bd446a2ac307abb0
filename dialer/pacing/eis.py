"""The EIS-style residual pacer (docs/pacing.md §1.6 step 3, US 5,640,445): a baseline of the benchmark.

n = ⌊(r·A(h) − Q − Σπⱼ)/p⌋: agents expected free within h (the median live answer time plus the grace), minus
answered calls waiting, minus the eventual live answers of the calls ringing (their posterior live probability),
divided by the live probability of a new dial. The over-dial factor r is steered by the same closed loop on
abandons as the predictive pacer's threshold, and the same budget, cold-start and small-team fallbacks apply.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from dialer.pacing.predictive import HORIZONS, PredictivePacer

R_BASE = 1.0
R_GAIN = 0.5  # r = R_BASE·exp(R_GAIN·gain): the loop's log-steps act more gently on r than on α


class EisPacer(PredictivePacer):
    name = "eis"

    def _decide(self, t: float, agents: np.ndarray, calls: np.ndarray, base: int, cap: int, ring_idx: np.ndarray,
                info: dict[str, Any]) -> int:
        r = R_BASE * math.exp(R_GAIN * self.gain) * self.budget_caution
        free = self.ready + float(agents[:, HORIZONS // 2].sum())
        in_flight = self.waiting + float(self.posterior_table[ring_idx].sum())
        p = max(self.fitted.p_live, 1e-3)
        info["overdial_r"] = r
        return min(cap, max(0, math.floor((r * free - in_flight) / p)))
