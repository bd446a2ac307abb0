"""When will each busy agent be free? Residual handle time from elapsed talk or wrap time (docs/pacing.md §1.6 step 1).

For an agent talking for ``a`` seconds, P(free within H) = P(T − a + W ≤ H | T > a); in wrap for ``b`` seconds,
P(W ≤ b + H | W > b); both times the chance the agent comes back to ready rather than pausing or logging out.
Talk T and wrap W are learned online (``SurvivalEstimator``: Kaplan–Meier with forgetting, censored by the calls
still in progress and by mid-call logouts, lognormal beyond the data). Because the pacer asks for hundreds of
agents several times a second, ``fit`` tabulates these probabilities over an elapsed-time grid for the current
horizons once in a while; a plan is then one fancy-index lookup per agent.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from dialer.pacing import handle_kernel
from dialer.pacing.survival import Survival, SurvivalEstimator

FINE_UNTIL = 600.0  # elapsed-time grid: 1 s steps up to here, then 5 s steps
COARSE_STEP = 5.0
WRAP_QUANTILES = 8  # wrap time enters the talk table as this many equal-mass points


def elapsed_index(x: np.ndarray, limit: int) -> np.ndarray:
    """Row of the tables for elapsed times ``x`` (1 s resolution to 10 min, 5 s beyond, clipped)."""
    x = np.maximum(np.asarray(x, dtype=float), 0.0)
    idx = np.where(x < FINE_UNTIL, x, FINE_UNTIL + (x - FINE_UNTIL) / COARSE_STEP)
    return np.minimum(idx.astype(np.int64), limit - 1)


def elapsed_grid(max_elapsed: float) -> np.ndarray:
    fine = np.arange(0.0, FINE_UNTIL)
    if max_elapsed <= FINE_UNTIL:
        return fine
    return np.concatenate([fine, np.arange(FINE_UNTIL, max_elapsed + COARSE_STEP, COARSE_STEP)])


class HandleModel:
    """Talk and wrap distributions plus the share of handles that end back in ready."""

    def __init__(self, half_life: float = 1000.0, max_talk: float = 4 * 3600.0, max_wrap: float = 1800.0) -> None:
        self.talk = SurvivalEstimator(2.0, max_talk, half_life)
        self.wrap = SurvivalEstimator(0.5, max_wrap, half_life)
        self.growth = 2.0 ** (1.0 / half_life)
        self.back = np.zeros(2)  # weights of (handles ending in ready, handles ending in pause/logout)
        self.unit = 1.0

    def add_talk(self, duration: float, finished: bool) -> None:
        self.talk.add(duration, finished)

    def add_wrap(self, duration: float) -> None:
        self.wrap.add(duration, True)

    def add_return(self, to_ready: bool) -> None:
        """How a handle ended: back to ready, or into pause/offline (breaks, logouts)."""
        self.back[0 if to_ready else 1] += self.unit
        self.unit *= self.growth
        if self.unit > 1e100:
            self.back /= self.unit
            self.unit = 1.0

    @property
    def p_return(self) -> float:
        prior = np.array([19.0, 1.0]) * self.unit / self.growth * 0.5
        w = self.back + prior
        return float(w[0] / w.sum())

    def fit(self, horizons: np.ndarray, talking: np.ndarray, wrapping: np.ndarray) -> HandleTables:
        """Tabulate P(free within each horizon) over elapsed talk and wrap times.

        ``talking`` / ``wrapping`` are the elapsed times of the periods in progress: they are censored
        observations, without which a campaign whose long calls are still running would look short-talking.
        """
        talk = self.talk.fit(talking)
        wrap = self.wrap.fit(wrapping) if self.wrap.count else None
        return HandleTables(talk, wrap, np.asarray(horizons, dtype=float), self.p_return)


class LazyTable:
    """A table whose rows are computed when a lookup first reaches them, a block at a time from the top.

    ``fill(lo, hi)`` gives rows lo .. hi − 1; every value of a row depends on that row's own grid point only, so
    a block holds the values the whole table would. Tables are remade at every refit (every 30 s) over a grid
    that reaches the talk curve's 99.99th percentile (3,000 rows of a 2-minute median talk), while the agents of
    the next 30 s look up a few hundred rows at the top: most of a refit went into rows nobody read."""

    BLOCK = 256

    def __init__(self, rows: int, cols: int, fill: Callable[[int, int], np.ndarray]) -> None:
        self.rows = rows
        self.fill = fill
        self.values = np.empty((rows, cols))
        self.done = 0  # rows 0 .. done − 1 are computed

    def __len__(self) -> int:
        return self.rows

    def upto(self, n: int) -> np.ndarray:
        """The table with at least its first ``n`` rows computed (the rest undefined)."""
        if n > self.done:
            hi = min(self.rows, max(n, self.done + self.BLOCK))
            self.values[self.done:hi] = self.fill(self.done, hi)
            self.done = hi
        return self.values

    def take(self, idx: np.ndarray) -> np.ndarray:
        """Rows ``idx`` (each in 0 .. rows − 1)."""
        return self.upto(int(idx.max()) + 1 if len(idx) else 0)[idx]

    def full(self) -> np.ndarray:
        return self.upto(self.rows)


class HandleTables:
    """P(an agent is back in ready within horizon H_k), by elapsed talk or wrap time (``LazyTable`` rows)."""

    def __init__(self, talk: Survival, wrap: Survival | None, horizons: np.ndarray, p_return: float) -> None:
        self.horizons = horizons
        self.p_return = p_return
        q = (np.arange(WRAP_QUANTILES) + 0.5) / WRAP_QUANTILES
        self._w_points = np.array([wrap.quantile(x) for x in q]) if wrap is not None else np.zeros(1)
        max_talk = max(talk.quantile(0.9999), 60.0) + float(horizons.max(initial=0.0))
        self._elapsed = elapsed_grid(max_talk)
        self._a = self._elapsed[:, None]  # rows: elapsed talk; columns: horizons
        self.talk_rows = LazyTable(len(self._a), len(horizons), self._talk_block)
        if wrap is None:  # no wrap observed yet: agents in wrap are treated as coming straight back
            self.wrap_rows = LazyTable(1, len(horizons), lambda lo, hi: np.full((hi - lo, len(horizons)), p_return))
        else:
            self._b = elapsed_grid(max(wrap.quantile(0.9999), 30.0) + float(horizons.max(initial=0.0)))[:, None]
            self.wrap_rows = LazyTable(len(self._b), len(horizons), self._wrap_block)
        self.talk_curve = talk
        self.wrap_curve = wrap

    def _talk_block(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo .. hi − 1 of the talk table, by the compiled loop (``handle_kernel``: numpy's values bit for bit,
        a third of the time), or by numpy where an interpolation met a NaN."""
        talk = self.talk_curve
        rows, held = handle_kernel.talk_rows(self._elapsed[lo:hi], self.horizons, self._w_points, talk.xs, talk.ss,
                                            self.p_return)
        return rows if held else self._talk_block_numpy(lo, hi)

    def _talk_block_numpy(self, lo: int, hi: int) -> np.ndarray:
        talk, horizons = self.talk_curve, self.horizons
        a = self._a[lo:hi]
        s_a = np.maximum(talk.sf(a), 1e-12)
        f_a = 1.0 - s_a
        acc = np.zeros((len(a), len(horizons)))
        for w in self._w_points:
            acc += np.maximum(talk.cdf(a + horizons[None, :] - w) - f_a, 0.0)
        return np.clip(acc / len(self._w_points) / s_a, 0.0, 1.0) * self.p_return

    def _wrap_block(self, lo: int, hi: int) -> np.ndarray:
        wrap, b = self.wrap_curve, self._b[lo:hi]
        s_b = np.maximum(wrap.sf(b), 1e-12)
        return np.clip((wrap.cdf(b + self.horizons[None, :]) - (1.0 - s_b)) / s_b, 0.0, 1.0) * self.p_return

    @property
    def talk(self) -> np.ndarray:
        """The whole talk table (rows: elapsed talk on ``elapsed_grid``; columns: horizons)."""
        return self.talk_rows.full()

    @property
    def wrap(self) -> np.ndarray:
        return self.wrap_rows.full()

    def talking(self, elapsed: np.ndarray) -> np.ndarray:
        return self.talk_rows.take(elapsed_index(elapsed, self.talk_rows.rows))

    def wrapping(self, elapsed: np.ndarray) -> np.ndarray:
        return self.wrap_rows.take(elapsed_index(elapsed, self.wrap_rows.rows))
