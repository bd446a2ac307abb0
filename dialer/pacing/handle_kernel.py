"""The talk table's rows as one compiled loop (numba): ``HandleTables._talk_block`` without its ~60 numpy calls.

A refit (every 30 s of the floor's time) remakes the talk table, and the plans of the next 30 s read its top rows,
256 at a time: each block was eight ``np.interp`` of the talk curve over 256 rows × 8 horizons and ~50 elementwise
numpy calls, ~250 µs, about 5 % of a planned day. Here each (wrap point, horizon) pair walks the curve's grid
forward as the rows' elapsed times grow, and every value is computed with numpy's operations in numpy's order, so
the rows are numpy's bit for bit (``tests/dialer/pacing/test_handle_kernel.py``):

- the curve at x is ``np.interp``'s: the left or right value outside the grid, the grid value where x lies on a
  grid point or on the last, else ``slope * (x − x_j) + y_j`` with ``slope = (y_{j+1} − y_j) / (x_{j+1} − x_j)``
  (and its fallbacks for a non-finite result);
- ``np.maximum``, ``np.clip`` and the accumulation over the wrap points in the same order, NaN kept as numpy
  keeps it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _interp(x: float, xs: np.ndarray, ys: np.ndarray, slopes: np.ndarray, j: int):
    """``np.interp(x, xs, ys)`` for a number x, and the grid index found, searched forward from ``j`` (any guess);
    ``slopes`` as numpy computes them, ``(ys[j + 1] − ys[j]) / (xs[j + 1] − xs[j])``. Where numpy's result would be
    NaN it computes again from the right end: that is left to the caller (``talk_rows`` hands the block back)."""
    last = len(xs) - 1
    if x > xs[last]:
        return ys[last], j
    if x < xs[0]:
        return ys[0], j
    if xs[j] > x:
        j = 0
    while j < last and xs[j + 1] <= x:
        j += 1
    if j == last or xs[j] == x:
        return ys[j], j
    return slopes[j] * (x - xs[j]) + ys[j], j


@njit(cache=True, nogil=True)
def talk_rows(a: np.ndarray, horizons: np.ndarray, w_points: np.ndarray, xs: np.ndarray, ss: np.ndarray,
              p_return: float):
    """Rows for elapsed talk times ``a`` (ascending): the mean over the wrap points w of
    max(F(a + h − w) − F(a), 0) ÷ S(a), clipped to [0, 1], times ``p_return``; F = 1 − S, S the talk curve
    tabulated on ``xs``/``ss`` (``HandleTables._talk_block``). Returns the rows and whether they hold: False when
    an interpolation met a NaN (never on finite curves), where numpy's own handling must decide instead."""
    n, k, m = len(a), len(horizons), len(w_points)
    slopes = np.empty(max(len(xs) - 1, 1))
    for g in range(len(xs) - 1):
        slopes[g] = (ss[g + 1] - ss[g]) / (xs[g + 1] - xs[g])
    check = 0.0  # every value interpolated, summed: NaN if one was (a test per value costs 5× the loop)
    s_a = np.empty(n)
    j = 0
    for i in range(n):
        s, j = _interp(a[i], xs, ss, slopes, j)
        check += s
        s_a[i] = s if s >= 1e-12 else 1e-12  # np.maximum(s, 1e-12) for a number
    acc = np.zeros((n, k))
    for wi in range(m):  # the wrap points in order, as the sum over them is accumulated
        w = w_points[wi]
        for c in range(k):
            h = horizons[c]
            j = max(np.searchsorted(xs, a[0] + h - w, side="right") - 1, 0) if n else 0  # a start, not the answer
            for i in range(n):
                s_x, j = _interp(a[i] + h - w, xs, ss, slopes, j)
                check += s_x
                v = (1.0 - s_x) - (1.0 - s_a[i])
                acc[i, c] = acc[i, c] + (v if v >= 0.0 else 0.0)  # np.maximum(v, 0.0) for a number
    out = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            v = acc[i, c] / m / s_a[i]
            v = v if v > 0.0 else 0.0  # np.clip(v, 0.0, 1.0) for a number: max, then min
            v = v if v < 1.0 else 1.0
            out[i, c] = v * p_return
    return out, check == check


def warm() -> None:
    """Compile (or load from the cache) the kernel now (``kernel.warm`` calls it before the planner forks)."""
    talk_rows(np.zeros(2), np.ones(2), np.zeros(1), np.arange(3.0), np.array([1.0, 0.5, 0.0]), 1.0)
