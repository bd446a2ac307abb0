"""The Kaplan–Meier step as one compiled pass (``survival_kernel.km``) gives numpy's values bit for bit: the
pacer's curves, and so its decisions, must not move."""

from __future__ import annotations

import math

import numpy as np

from dialer.pacing.survival import Survival, SurvivalEstimator, _lognormal_from


def _numpy_km(est: SurvivalEstimator, in_progress: np.ndarray | None):
    """The step as ``SurvivalEstimator.fit`` computed it in numpy (and the censored weights its tail may need)."""
    ev = est.events / est.unit
    ce = est.censored / est.unit
    if in_progress is not None and len(in_progress):
        idx = np.minimum((np.maximum(in_progress, 0.0) / est.width).astype(int), est.bins)
        ce = ce + np.bincount(idx, minlength=est.bins + 1)
    at_risk = np.cumsum((ev + ce)[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, ev / at_risk, 0.0)
    s = np.concatenate([[1.0], np.cumprod(1.0 - hazard[: est.bins])])
    thin = np.nonzero(at_risk[: est.bins] < est.MIN_AT_RISK)[0]
    return ev, s, int(thin[0]) if len(thin) else est.bins, ce


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.int64)


def test_compiled_km_is_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    for trial in range(40):
        width, horizon = float(rng.choice([0.25, 0.5, 2.0])), float(rng.choice([180.0, 1800.0, 14400.0]))
        est = SurvivalEstimator(width, horizon, float(rng.uniform(100, 4000)))
        n = int(rng.integers(0, 3000)) if trial else 0  # the first has seen nothing
        for d in rng.lognormal(math.log(rng.uniform(2, 400)), rng.uniform(0.2, 1.5), n):
            est.add(float(d), bool(rng.random() < 0.9))
            if rng.random() < 0.001:
                est.forget(0.5)
        in_progress = [None, np.zeros(0), rng.uniform(-5, 2 * horizon, int(rng.integers(1, 200)))][trial % 3]
        ev, s, cut, ce = _numpy_km(est, in_progress)
        tail = _lognormal_from(s, est.width, ev, cut, lambda ce=ce: ce)
        want = Survival(est.width, s, tail, max(cut, 1) * est.width if tail is not None else est.bins * est.width)
        got = est.fit(in_progress)
        assert np.array_equal(_bits(got.xs), _bits(want.xs)) and np.array_equal(_bits(got.ss), _bits(want.ss))
        assert got.tail == want.tail and got.tail_from == want.tail_from
