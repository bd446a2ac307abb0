"""Duration distributions learned online: weighted Kaplan–Meier on a fixed grid with exponential forgetting,
and a lognormal fitted to it for the tail.

Why this shape: handle and ring times are right-censored (a call still in progress, an agent who logs out
mid-call), call-centre service times are near-lognormal (Brown et al., JASA 2005), and the pacer needs
``S(x)`` for thousands of elapsed times per second. Observations go into fixed bins with weights that grow
geometrically (so older ones fade with a half-life counted in observations), adding one is O(1), and a refit is
a single O(bins) cumulative product — never a pass over the history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dialer.pacing import survival_kernel

_SQRT2 = math.sqrt(2.0)
_NONE = np.zeros(0, dtype=np.int64)  # no call in progress


def erf(x: np.ndarray | float) -> np.ndarray:
    """Vectorised error function (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7): numpy has none, scipy is not
    a dependency, and pacing needs it on whole arrays."""
    x = np.asarray(x, dtype=float)
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def norm_cdf(z: np.ndarray | float) -> np.ndarray:
    """Standard normal CDF, vectorised."""
    return 0.5 * (1.0 + erf(np.asarray(z, dtype=float) / _SQRT2))


@dataclass(frozen=True)
class Lognormal:
    """log X ~ Normal(mu, sigma)."""

    mu: float
    sigma: float

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        x = np.maximum(np.asarray(x, dtype=float), 1e-12)
        return norm_cdf((np.log(x) - self.mu) / self.sigma)

    def sf(self, x: np.ndarray | float) -> np.ndarray:
        return 1.0 - self.cdf(x)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)


class Survival:
    """A fitted survival curve: the KM steps joined linearly, continued by a lognormal where data get thin.

    The whole curve is tabulated once at construction on the KM grid plus a geometric grid over the tail, so
    every later ``sf`` is a single ``np.interp`` — the pacer calls it on thousands of points per second.
    """

    TAIL_POINTS = 200

    def __init__(self, width: float, s_edges: np.ndarray, tail: Lognormal | None, tail_from: float) -> None:
        self.width = width
        self.tail = tail
        self.tail_from = tail_from  # beyond this the KM has too little weight at risk; the lognormal takes over
        cut = min(int(round(tail_from / width)), len(s_edges) - 1)
        xs = np.arange(cut + 1) * width
        ss = s_edges[: cut + 1]
        if tail is not None:
            far = max(2.0 * xs[-1] + 1.0, math.exp(tail.mu + 7.0 * tail.sigma))
            xt = np.geomspace(max(xs[-1], width), far, self.TAIL_POINTS)[1:]
            base = max(float(tail.sf(xs[-1])), 1e-300)
            st = ss[-1] * np.minimum(tail.sf(xt) / base, 1.0)
            xs, ss = np.concatenate([xs, xt]), np.concatenate([ss, st])
        self.xs = xs
        self.ss = np.minimum.accumulate(ss)  # numerically monotone

    def sf(self, x: np.ndarray | float) -> np.ndarray:
        return np.interp(x, self.xs, self.ss)

    def cdf(self, x: np.ndarray | float) -> np.ndarray:
        return 1.0 - np.interp(x, self.xs, self.ss)

    def quantile(self, q: float) -> float:
        """Smallest x with F(x) >= q (linear between tabulated points; the largest tabulated x if never)."""
        f = 1.0 - self.ss
        i = int(np.searchsorted(f, q, side="left"))
        if i >= len(f):
            return float(self.xs[-1])
        if i == 0:
            return 0.0
        lo, hi = f[i - 1], f[i]
        frac = (q - lo) / (hi - lo) if hi > lo else 1.0
        return float(self.xs[i - 1] + frac * (self.xs[i] - self.xs[i - 1]))

    def mean(self) -> float:
        """E[X] = area under S (trapezoids over the tabulated curve; the part beyond it is < 1e-10 of mass)."""
        return float(np.trapezoid(self.ss, self.xs))


class SurvivalEstimator:
    """Weighted Kaplan–Meier on bins of ``width`` seconds up to ``horizon``, forgetting with ``half_life``
    observations. ``add`` is O(1); ``fit`` is O(bins) and may add the durations still in progress as censored."""

    MIN_AT_RISK = 5.0  # below this much (effective) weight at risk the KM hands over to the lognormal tail

    def __init__(self, width: float, horizon: float, half_life: float = 1000.0) -> None:
        self.width = float(width)
        self.bins = int(math.ceil(horizon / width))
        self.events = np.zeros(self.bins + 1)  # last bin = beyond horizon
        self.censored = np.zeros(self.bins + 1)
        self.growth = 2.0 ** (1.0 / half_life)
        self.unit = 1.0  # weight of the next observation (grows; older ones fade relative to it)
        self.total = 0.0  # sum of weights, in raw units
        self.count = 0

    def _bin(self, d: float) -> int:
        return min(int(max(d, 0.0) / self.width), self.bins)

    def add(self, duration: float, finished: bool = True) -> None:
        if not math.isfinite(duration) or duration < 0:
            return
        (self.events if finished else self.censored)[self._bin(duration)] += self.unit
        self.total += self.unit
        self.count += 1
        self.unit *= self.growth
        if self.unit > 1e100:
            self.events /= self.unit
            self.censored /= self.unit
            self.total /= self.unit
            self.unit = 1.0

    def forget(self, keep: float) -> None:
        """Shrink all past weight to ``keep`` of itself (a detected change makes old data less relevant)."""
        self.events *= keep
        self.censored *= keep
        self.total *= keep

    @property
    def effective_n(self) -> float:
        """Past weight measured in units of the newest observation (≈ observations that still count)."""
        return self.total / self.unit * self.growth if self.count else 0.0

    def fit(self, in_progress: np.ndarray | None = None) -> Survival:
        """The KM curve; ``in_progress`` are elapsed times of durations not yet over (censored at "now")."""
        counts = _NONE
        if in_progress is not None and len(in_progress):
            idx = np.minimum((np.maximum(in_progress, 0.0) / self.width).astype(int), self.bins)
            counts = np.bincount(idx, minlength=self.bins + 1)
        # the weights scaled, the calls in progress censored, the weight at risk, the hazards and their running
        # product, the first thin bin: one compiled pass, numpy's values bit for bit (``survival_kernel``)
        ev, s, cut_bin = survival_kernel.km(self.events, self.censored, self.unit, counts, self.MIN_AT_RISK)
        tail = _lognormal_from(s, self.width, ev, cut_bin, lambda: self.censored / self.unit + counts
                               if len(counts) else self.censored / self.unit)
        tail_from = max(cut_bin, 1) * self.width if tail is not None else self.bins * self.width
        return Survival(self.width, s, tail, tail_from)


def _lognormal_from(s: np.ndarray, width: float, ev: np.ndarray, cut_bin: int,
                    censored: Callable[[], np.ndarray]) -> Lognormal | None:
    """Lognormal matched to the KM quartiles (robust to censoring) or, where the KM stops short of them (a fresh
    floor: its quick calls ended, its long ones still running), fitted by maximum likelihood to the finished and
    the censored durations together: fitted to the finished ones alone it would say the running calls end soon."""
    f = 1.0 - s
    x = np.arange(len(s)) * width

    def q(p: float) -> float | None:
        i = int(np.searchsorted(f[: cut_bin + 1], p))
        if i > cut_bin or i >= len(f) or i == 0:
            return None
        lo, hi = f[i - 1], f[i]
        return float(x[i - 1] + (p - lo) / (hi - lo) * width) if hi > lo else float(x[i])

    q25, q50, q75 = q(0.25), q(0.5), q(0.75)
    if q25 and q50 and q75 and q75 > q25 > 0:
        return Lognormal(math.log(q50), max((math.log(q75) - math.log(q25)) / 1.3489795, 0.05))
    w = ev[:-1]
    if w.sum() <= 0:
        return None
    mids = np.maximum((np.arange(len(w)) + 0.5) * width, 1e-3)
    lx = np.log(mids)
    mu = float(np.average(lx, weights=w))
    sd = float(np.sqrt(np.average((lx - mu) ** 2, weights=w)))
    c = censored()
    if c.sum() > 0:
        return _censored_lognormal(lx, w, c, width, mu, max(sd, MIN_START_SIGMA))
    return Lognormal(mu, max(sd, 0.05))


MIN_START_SIGMA = 0.3  # the EM's first spread: a few finished durations close together must not pin it near zero
EM_STEPS = 200


def _censored_lognormal(lx: np.ndarray, w: np.ndarray, censored: np.ndarray, width: float, mu: float,
                        sd: float) -> Lognormal:
    """Maximum-likelihood lognormal of binned durations, ``w`` finished at log-times ``lx`` and ``censored`` still
    running past each bin's lower edge, by expectation-maximisation on the log scale (each censored duration
    replaced by its expected log and squared log beyond its edge, the normal refitted, until it settles)."""
    keep = censored > 0
    lc = np.log(np.maximum(np.flatnonzero(keep) * width, width / 2.0))
    wc = censored[keep]
    total = float(w.sum() + wc.sum())
    s1, s2 = float(np.dot(w, lx)), float(np.dot(w, lx * lx))
    for _ in range(EM_STEPS):
        z = (lc - mu) / sd
        beyond = np.maximum(1.0 - norm_cdf(z), 1e-300)
        # inverse Mills ratio φ(z)/(1 − Φ(z)); its asymptote where the tail underflows
        mills = np.where(z < 8.0, np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) / beyond, z + 1.0 / np.abs(z))
        e1 = mu + sd * mills
        e2 = mu * mu + sd * sd + sd * (lc + mu) * mills
        new_mu = (s1 + float(np.dot(wc, e1))) / total
        new_sd = math.sqrt(max((s2 + float(np.dot(wc, e2))) / total - new_mu * new_mu, 0.0025))
        settled = abs(new_mu - mu) < 1e-6 and abs(new_sd - sd) < 1e-6
        mu, sd = new_mu, new_sd
        if settled:
            break
    return Lognormal(mu, max(sd, 0.05))
