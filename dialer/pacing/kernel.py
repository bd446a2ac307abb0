"""The predictive pacer's plan as compiled loops (numba): gather the busy agents' and ringing calls' terms, sum
their moments and scan the candidate counts, in one pass each instead of ~60 small numpy calls.

A plan on a 100-agent floor is ~180 µs of numpy, most of it the fixed cost of each call on arrays of 8 to 100
elements, and a simulated day asks for 60,000 plans. The same arithmetic in compiled loops takes a few µs.

What stays the same, bit for bit (``tests/dialer/pacing/test_kernel.py``): the rows gathered, the moments (each
column summed row after row, as numpy sums a C-ordered array over its first axis) and the explanation's sums
(numpy's pairwise summation, ``_pairwise``). What may differ in the last bit: the normal scan's risks and the
expected abandons in flight (``excess``), whose
``exp`` and cube are the C library's here and numpy's own vectorised ones there (numpy's differ from the C
library's by one unit in the last place for ~5 % of arguments on this machine's AVX-512, and equal them on a
machine without it). A count changes only where a risk lies within ~1e-16 of α: the tests and the plans hashed
before and after (docs/planner.md §4) found none.

Compiled on first use and cached beside this file (``cache=True``); ``warm()`` compiles them in a parent
process before it forks the planner's seeds, so the children do not each compile them again.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from dialer.pacing import handle_kernel, survival_kernel
from dialer.pacing.handle import COARSE_STEP, FINE_UNTIL

_INV_SQRT_2PI = 0.3989422804014327
_SQRT2 = math.sqrt(2.0)


@njit(cache=True, nogil=True)
def busy_rows(state: np.ndarray, since: np.ndarray, n: int, code: int, t: float, limit: int):
    """Rows of a handle table for the agents in state ``code`` (slot order, as ``Floor.agents_in``), by their
    elapsed time as ``handle.elapsed_index`` computes it; and the largest row (−1 when none)."""
    count = 0
    for i in range(n):
        if state[i] == code:
            count += 1
    rows = np.empty(count, np.int64)
    top, j = -1, 0
    for i in range(n):
        if state[i] == code:
            x = t - since[i]
            if x < 0.0:
                x = 0.0
            v = x if x < FINE_UNTIL else FINE_UNTIL + (x - FINE_UNTIL) / COARSE_STEP
            k = min(np.int64(v), limit - 1)
            rows[j] = k
            j += 1
            if k > top:
                top = k
    return rows, top


@njit(cache=True, nogil=True)
def _pairwise_block(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]`` for n <= 128: eight accumulators, the same rounding."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise summation of ``a[lo:lo + n]``: above 128 terms the halves (cut at a multiple of 8) are
    summed apart and added, as numpy recurses; walked with a stack here (numba's cache mishandles recursion)."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    los, ns = np.empty(128, np.int64), np.empty(128, np.int64)
    split = np.zeros(128, np.bool_)
    sums = np.empty(128)
    los[0], ns[0], sp, done = lo, n, 1, 0
    while sp:
        top = sp - 1
        if ns[top] <= 128:
            sums[done] = _pairwise_block(a, los[top], ns[top])
            done += 1
            sp -= 1
        elif not split[top]:  # push the right half, then the left (summed first)
            split[top] = True
            half = ns[top] // 2
            half -= half % 8
            los[sp], ns[sp], split[sp] = los[top] + half, ns[top] - half, False
            los[sp + 1], ns[sp + 1], split[sp + 1] = los[top], half, False
            sp += 2
        else:  # both halves summed: left + right
            sums[done - 2] = sums[done - 2] + sums[done - 1]
            done -= 1
            sp -= 1
    return sums[0]


@njit(cache=True, nogil=True)
def floor_moments(base: int, talk: np.ndarray, talk_rows: np.ndarray, wrap: np.ndarray, wrap_rows: np.ndarray,
                  ring_terms: np.ndarray, ring_placed: np.ndarray, t: float, ring_step: float, k: int):
    """``risk.moments_of_terms`` of the busy agents (talk rows, then wrap rows) and the ringing calls (their
    placement times in slot order, NaN for a free slot), gathered from the ``with_terms`` tables; with the
    explanation's sums (agents free by the middle horizon, live answers expected from ringing calls) and the
    number of ringing calls; and ``risk.expected_excess`` of them. Each column is summed row after row, as numpy
    does, so the moments are its own."""
    width = 3 * k
    sa = np.zeros(width)
    mid = np.empty(len(talk_rows) + len(wrap_rows))
    j = 0
    for r in talk_rows:
        for c in range(width):
            sa[c] += talk[r, c]
        mid[j] = talk[r, k // 2]
        j += 1
    for r in wrap_rows:
        for c in range(width):
            sa[c] += wrap[r, c]
        mid[j] = wrap[r, k // 2]
        j += 1
    sc = np.zeros(width)
    last = np.empty(len(ring_placed))
    ringing, top = 0, len(ring_terms) - 1
    for i in range(len(ring_placed)):
        placed = ring_placed[i]
        if placed != placed:  # NaN: a free slot
            continue
        e = t - placed
        if e < 0.0:
            e = 0.0
        r = min(np.int64(e / ring_step), top)
        for c in range(width):
            sc[c] += ring_terms[r, c]
        last[ringing] = ring_terms[r, k - 1]
        ringing += 1
    mu, var, k3 = np.empty(k), np.empty(k), np.empty(k)
    for c in range(k):
        mu[c] = base + sa[c] - sc[c]
        var[c] = sa[k + c] + sc[k + c]
        k3[c] = sa[2 * k + c] - sc[2 * k + c]
    return mu, var, k3, _pairwise(mid, 0, j), _pairwise(last, 0, ringing), ringing, excess(mu[k - 1], var[k - 1])


@njit(cache=True, nogil=True)
def excess(m: float, var: float) -> float:
    """``risk.expected_excess`` of the longest horizon's mean and variance, the same operations in order."""
    sd = math.sqrt(var if var > 1e-12 else 1e-12)
    z = m / sd
    x = -z / _SQRT2  # norm_cdf(-z) through survival.erf
    a = abs(x)
    tt = 1.0 / (1.0 + 0.3275911 * a)
    poly = tt * (0.254829592 + tt * (-0.284496736 + tt * (1.421413741 + tt * (-1.453152027 + tt * 1.061405429))))
    sign = 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
    cdf = 0.5 * (1.0 + sign * (1.0 - poly * math.exp(-a * a)))
    return max(0.0, sd * _INV_SQRT_2PI * math.exp(-0.5 * z * z) - m * cdf)


@njit(cache=True, nogil=True)
def _risk(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, qv: np.ndarray, qc: np.ndarray,
          n: int, p: np.ndarray) -> float:
    """``risk._risk_rows`` for one candidate count ``n``: the same operations in the same order."""
    k = len(q)
    nf = float(n)
    for c in range(k):
        m = mu[c] - nf * q[c]
        v = var[c] + nf * qv[c]
        c3 = k3[c] - nf * qc[c]
        if v < 1e-9:
            p[c] = 1.0 if m <= 0.0 else 0.0
            continue
        sd = math.sqrt(v if v > 1e-12 else 1e-12)
        z = (0.5 - m) / sd
        gamma = c3 / sd**3
        x = z / _SQRT2
        a = abs(x)
        tt = 1.0 / (1.0 + 0.3275911 * a)
        poly = tt * (0.254829592 + tt * (-0.284496736 + tt * (1.421413741 + tt * (-1.453152027
                                                                               + tt * 1.061405429))))
        sign = 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)
        cdf = 0.5 * (1.0 + sign * (1.0 - poly * math.exp(-a * a)))
        pc = cdf + gamma * (1.0 - z * z) * math.exp(-0.5 * z * z) * _INV_SQRT_2PI / 6.0
        p[c] = min(max(pc, 0.0), 1.0)
    return _pairwise(p, 0, k) / k


@njit(cache=True, nogil=True)
def normal_scan(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, alpha: float, n_cap: int):
    """``risk.choose_normal``: the smallest n in [0, n_cap] whose risk exceeds ``alpha`` (n_cap if none), and
    r(0); candidates in order, one at a time (no chunks to size: a compiled row costs ~50 ns)."""
    k = len(q)
    qv, qc, p = np.empty(k), np.empty(k), np.empty(k)
    for c in range(k):
        qv[c] = q[c] * (1.0 - q[c])
        qc[c] = q[c] * (1.0 - q[c]) * (1.0 - 2.0 * q[c])
    r0 = 0.0
    for n in range(n_cap + 1):
        r = _risk(mu, var, k3, q, qv, qc, n, p)
        if n == 0:
            r0 = r
        if r > alpha:
            return n, r0
    return max(n_cap, 0), r0


def warm() -> None:
    """Compile (or load from the cache) every kernel now, in this process: the planner calls it before forking
    its seeds, so each child starts with them ready."""
    state, since = np.zeros(2, dtype=np.int8), np.zeros(2)
    rows, _ = busy_rows(state, since, 2, 1, 1.0, 4)
    table = np.zeros((4, 3))
    mu, var, k3, _, _, _, _ = floor_moments(1, table, rows, table, rows, table, np.full(2, np.nan), 1.0, 0.25, 1)
    normal_scan(mu, var + 1.0, k3, np.full(1, 0.5), 0.1, 2)
    handle_kernel.warm()
    survival_kernel.warm()
