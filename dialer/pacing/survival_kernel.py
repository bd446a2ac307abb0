"""The Kaplan–Meier step of ``SurvivalEstimator.fit`` as one compiled loop (numba), numpy's values bit for bit.

A refit (every 30 s of the floor's time) fits five estimators, the talk one on 7,200 bins: a dozen numpy passes
over each (weights scaled, the calls in progress counted in, the weight at risk summed from the end, the hazards,
their running product, the first thin bin). Here they are one pass back and one forward with the same operations
in the same order: each division and subtraction as numpy's, the sums and products accumulated one bin after
the other as ``np.cumsum`` and ``np.cumprod`` do (``tests/dialer/pacing/test_survival_kernel.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def km(events: np.ndarray, censored: np.ndarray, unit: float, in_progress: np.ndarray, min_at_risk: float):
    """(ev, s, cut_bin) of ``SurvivalEstimator.fit``: the finished weights in units of the newest, the survival at
    each bin edge (``s[0] = 1``), and the first bin whose weight at risk is under ``min_at_risk`` (``bins`` if
    none). ``in_progress``: how many durations not over yet are censored in each bin (empty for none)."""
    m = len(events)  # bins + 1: the last bin holds everything beyond the horizon
    bins = m - 1
    ev = np.empty(m)
    ce = np.empty(m)
    for i in range(m):
        ev[i] = events[i] / unit
        ce[i] = censored[i] / unit
    if len(in_progress):
        for i in range(m):
            ce[i] = ce[i] + in_progress[i]
    at_risk = np.empty(m)
    total = 0.0
    for i in range(m - 1, -1, -1):
        total += ev[i] + ce[i]
        at_risk[i] = total
    s = np.empty(bins + 1)
    s[0] = 1.0
    prod = 1.0
    cut = bins
    for i in range(bins):
        prod *= 1.0 - (ev[i] / at_risk[i] if at_risk[i] > 0 else 0.0)
        s[i + 1] = prod
        if cut == bins and at_risk[i] < min_at_risk:
            cut = i
    return ev, s, cut


def warm() -> None:
    """Compile (or load from the cache) the kernel now (``kernel.warm`` calls it before the planner forks)."""
    km(np.ones(3), np.zeros(3), 1.0, np.zeros(3, np.int64), 5.0)
