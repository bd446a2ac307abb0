"""The chance that one more dial, if it answers live, finds no agent (the marginal abandon risk).

At each candidate answer time τ_k the free-agent surplus is X = ready − waiting + Σ Bern(P_i) − Σ Bern(π_j) −
Bin(n, q): busy agents who will be free by τ_k + grace, minus ringing calls that will have answered live by τ_k,
minus the other ``n`` new dials. One more live answer is abandoned when X ≤ 0. With few terms the Poisson-binomial
laws are convolved exactly; with many, a normal approximation with a skewness correction (the "refined normal
approximation" for Poisson-binomial sums) is accurate and O(terms). The risk is averaged over the τ_k, which are
equal-mass quantiles of the live answer time, so it is E_τ[P(no agent | live at τ)].
"""

from __future__ import annotations

import math

import numpy as np

from dialer.pacing.survival import norm_cdf

EXACT_MAX_TERMS = 12  # above this many busy agents + ringing calls the normal approximation takes over
EXACT_MARGIN = 1e-9  # choose_exact trusts its direct risks this far from alpha (both ways are within 1e-12)
_INV_SQRT_2PI = 0.3989422804014327
_SQRT2 = math.sqrt(2.0)


def poisson_binomial_pmf(p: np.ndarray) -> np.ndarray:
    """PMF of Σ_i Bern(p[i, k]) for each column k, shape (K, terms + 1), by adding one term at a time
    (measured faster than the DFT of the generating function at the sizes where the exact law is used)."""
    terms, k = p.shape
    pt = np.ascontiguousarray(p.T)
    qt = 1.0 - pt
    pmf = np.zeros((k, terms + 1))
    pmf[:, 0] = 1.0
    for i in range(terms):
        pmf[:, 1 : i + 2] = pmf[:, 1 : i + 2] * qt[:, i : i + 1] + pmf[:, : i + 1] * pt[:, i : i + 1]
        pmf[:, 0] *= qt[:, i]
    return pmf


def risk_curve_exact(base: int, agents: np.ndarray, calls: np.ndarray, q: np.ndarray, alpha: float,
                     n_cap: int) -> tuple[int, np.ndarray]:
    """Largest n whose marginal risk stays ≤ alpha, and the risks r(0..n) computed on the way (exact laws).

    ``agents``: (busy agents, K) probabilities of being free by τ_k + grace; ``calls``: (ringing, K)
    probabilities of a live answer by τ_k; ``q``: (K,) the same for a new dial; ``base`` = ready − waiting.
    The surplus is base − ringing + Σ Bern(P_i) + Σ Bern(1 − π_j): one Poisson-binomial law.
    """
    k = len(q)
    x = poisson_binomial_pmf(np.concatenate([agents, 1.0 - calls]))
    vmin = base - len(calls)  # value of index 0
    risks = []
    n = 0
    while True:
        cut = -vmin + 1  # indices whose value ≤ 0
        r = float(x[:, : max(cut, 0)].sum(axis=1).mean()) if cut > 0 else 0.0
        risks.append(r)
        if r > alpha or n >= n_cap:
            return n, np.array(risks)
        grown = np.zeros((k, x.shape[1] + 1))
        grown[:, 1:] += x * (1.0 - q[:, None])
        grown[:, :-1] += x * q[:, None]
        x = grown
        vmin -= 1
        n += 1


def choose_exact(base: int, agents: np.ndarray, calls: np.ndarray, q: np.ndarray, alpha: float,
                 n_cap: int) -> tuple[int, float]:
    """``risk_curve_exact``'s n and r(0), found by bisection on r(n) computed directly, not by convolving n times.

    The curve walks n up one dial at a time, each step a convolution as wide as n: with a whole floor ready and
    little in flight (the start of a day, a list running dry) it walks hundreds of steps, 25 ms a plan. Here
    r(n) = mean_k Σ_j P(Bin(n, q_k) = j)·P(X_k ≤ j), with X the surplus before any new dial, costs O(n) and
    is monotone in n, so a bracket from the normal approximation's guess and a bisection need ~10 of them.
    r(0) is computed as the curve computes it. Both ways are within ~1e-12 of the exact law; when the crossing
    is decided by less than EXACT_MARGIN the curve itself decides, so the answer is the curve's, always.
    """
    x = poisson_binomial_pmf(np.concatenate([agents, 1.0 - calls]))
    vmin = base - len(calls)  # value of index 0
    cut = -vmin + 1
    r0 = float(x[:, : max(cut, 0)].sum(axis=1).mean()) if cut > 0 else 0.0
    if r0 > alpha or n_cap <= 0:
        return 0, r0
    cdf = np.cumsum(x, axis=1)
    with np.errstate(divide="ignore"):
        logq, log1q = np.log(q), np.log1p(-q)
    risk = {0: r0}

    def r(n: int) -> float:
        if n not in risk:
            risk[n] = _risk_direct(cdf, vmin, logq, log1q, n)
        return risk[n]

    mu, var, k3 = moments(base, agents, calls)
    guess = min(max(choose_normal(mu, var, k3, q, alpha, n_cap)[0], 1), n_cap)
    lo, hi, step = 0, n_cap + 1, 1  # r(lo) ≤ alpha < r(hi); hi = n_cap + 1 stands for "none up to the cap"
    if r(guess) > alpha:
        hi = guess
        while hi - step > lo and r(hi - step) > alpha:
            hi, step = hi - step, step * 2
        lo = max(lo, hi - step)
    else:
        lo = guess
        while lo + step < hi and r(lo + step) <= alpha:
            lo, step = lo + step, step * 2
        hi = min(hi, lo + step)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if r(mid) > alpha else (mid, hi)
    n = min(hi, n_cap)
    sure_below = n == 1 or r(n - 1) <= alpha - EXACT_MARGIN  # r(0) is the curve's own
    sure_above = n == n_cap or r(n) > alpha + EXACT_MARGIN  # the curve stops at the cap whatever r(cap) is
    if not (sure_below and sure_above):
        return risk_curve_exact(base, agents, calls, q, alpha, n_cap)[0], r0
    return n, r0


_LOG_FACTORIAL = np.zeros(0)


def _log_factorial(n: int) -> np.ndarray:
    """log k! for k = 0..n at least (math.lgamma's accuracy; grown on demand and kept: the sizes repeat)."""
    global _LOG_FACTORIAL
    if len(_LOG_FACTORIAL) <= n:
        size = max(n + 1, 2 * len(_LOG_FACTORIAL), 1024)
        _LOG_FACTORIAL = np.array([math.lgamma(k + 1.0) for k in range(size)])
    return _LOG_FACTORIAL


def _risk_direct(cdf: np.ndarray, vmin: int, logq: np.ndarray, log1q: np.ndarray, n: int) -> float:
    """r(n) = mean_k Σ_j P(Bin(n, q_k) = j)·P(X_k ≤ j); ``cdf`` (K, terms + 1) is X's, index 0 at value vmin."""
    j = np.arange(n + 1)
    lf = _log_factorial(n)
    with np.errstate(invalid="ignore"):  # 0·log 0 is taken as 0 below
        log_pmf = ((lf[n] - lf[j] - lf[n - j])[None, :]
                   + np.where(j == 0, 0.0, j * logq[:, None]) + np.where(j == n, 0.0, (n - j) * log1q[:, None]))
    idx = j - vmin
    below = np.where(idx < 0, 0.0, np.where(idx >= cdf.shape[1], 1.0, cdf[:, np.clip(idx, 0, cdf.shape[1] - 1)]))
    return float((np.exp(log_pmf) * below).sum(axis=1).mean())


def moments(base: int, agents: np.ndarray, calls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance and third central moment of the surplus X before any new dial, per horizon."""
    va = agents * (1.0 - agents)
    vc = calls * (1.0 - calls)
    mu = base + agents.sum(axis=0) - calls.sum(axis=0)
    var = va.sum(axis=0) + vc.sum(axis=0)
    k3 = (va * (1.0 - 2.0 * agents)).sum(axis=0) - (vc * (1.0 - 2.0 * calls)).sum(axis=0)
    return mu, var, k3


def with_terms(p: np.ndarray) -> np.ndarray:
    """``p`` (rows, K) beside the terms ``moments`` sums, as column blocks [p | p(1−p) | p(1−p)(1−2p)]: a table
    of agents-free or live-answer probabilities made once per refit, so a plan gathers each agent's or call's
    three terms in one lookup and sums them in one reduction (the same values, added in the same order)."""
    v = p * (1.0 - p)
    return np.concatenate([p, v, v * (1.0 - 2.0 * p)], axis=1)


def moments_of_terms(base: int, agents: np.ndarray, calls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``moments`` from rows of ``with_terms`` tables, bit for bit: a column sum of a C-ordered 2-D array adds
    the rows one after the other whatever its width (tests/dialer/pacing/test_risk_normal.py holds it)."""
    k = agents.shape[1] // 3
    sa, sc = agents.sum(axis=0), calls.sum(axis=0)
    return base + sa[:k] - sc[:k], sa[k : 2 * k] + sc[k : 2 * k], sa[2 * k :] - sc[2 * k :]


def risk_normal(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Marginal risk for each candidate count in ``n`` (refined normal approximation), shape (len(n),)."""
    n = n[:, None]
    m = mu[None, :] - n * q[None, :]
    v = var[None, :] + n * (q * (1.0 - q))[None, :]
    c3 = k3[None, :] - n * (q * (1.0 - q) * (1.0 - 2.0 * q))[None, :]
    sd = np.sqrt(np.maximum(v, 1e-12))
    z = (0.5 - m) / sd
    gamma = c3 / sd**3
    p = norm_cdf(z) + gamma * (1.0 - z * z) * np.exp(-0.5 * z * z) * _INV_SQRT_2PI / 6.0
    p = np.where(v < 1e-9, (m <= 0.0).astype(float), p)
    return np.clip(p, 0.0, 1.0).mean(axis=1)


FIRST_CHUNK = 8  # choose_normal's first candidates: n ≤ 7 in 99 % of a 100-agent floor's plans
CHUNK_GROWTH = 4  # ... then chunks four times as large each (a list running dry asks for 100-300 dials a plan)


def choose_normal(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, alpha: float,
                  n_cap: int, hint: int = 0) -> tuple[int, float]:
    """Smallest n in [0, n_cap] whose marginal risk r(n) exceeds alpha (n_cap if none does), and r(0).

    r is increasing in n, so candidates are scanned in vectorised chunks from ``FIRST_CHUNK`` (one small array
    evaluation decides almost every plan). ``hint``, the answer a plan like this one had (the pacer's last), sizes
    the second chunk to hold it with a quarter to spare: a whole floor ready on a list running dry asks for
    100-300 dials a plan, each plan a little off the last. Past that, chunks grow fourfold. Each r(n) is
    computed on its own row, so neither the hint nor the chunking ever changes a value or the answer."""
    lo, size = 0, FIRST_CHUNK
    second = hint + hint // 4 + 1 - FIRST_CHUNK if hint >= FIRST_CHUNK else FIRST_CHUNK * CHUNK_GROWTH
    r0 = None
    while lo <= n_cap:
        hi = min(lo + size, n_cap + 1)
        r = _risk_rows(mu, var, k3, q, lo, hi)
        if r0 is None:
            r0 = float(r[0])
        over = np.nonzero(r > alpha)[0]
        if len(over):
            return lo + int(over[0]), r0
        lo += size
        size = second if lo == FIRST_CHUNK else size * CHUNK_GROWTH
    return max(n_cap, 0), (r0 if r0 is not None else 0.0)


_TERMS: dict[bytes, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # q -> the candidates' n·(…) terms


def _n_terms(q: np.ndarray, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n·q, n·q(1−q) and n·q(1−q)(1−2q) for n = 0 .. hi − 1 at least, kept per q (a pacer refits q every 30 s
    and plans several times a second) and grown by doubling."""
    key = q.tobytes()
    terms = _TERMS.get(key)
    if terms is None or len(terms[0]) < hi:
        if terms is None and len(_TERMS) >= 16:
            _TERMS.clear()
        n = np.arange(max(FIRST_CHUNK, hi, 2 * len(terms[0]) if terms is not None else 0), dtype=float)[:, None]
        terms = _TERMS[key] = (n * q[None, :], n * (q * (1.0 - q))[None, :],
                               n * (q * (1.0 - q) * (1.0 - 2.0 * q))[None, :])
    return terms


def _risk_rows(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """``risk_normal`` for n = lo .. hi − 1, the same arithmetic in the same order, value for value: the n·q
    terms are kept per q (``_n_terms``), the error function is inlined and the degenerate-variance branch is
    skipped when no variance can reach it (the candidates only add variance).
    tests/dialer/pacing/test_risk_normal.py holds it to ``risk_normal``."""
    nq, nv, nc3 = _n_terms(q, hi)
    m = mu[None, :] - nq[lo:hi]
    v = var[None, :] + nv[lo:hi]
    c3 = k3[None, :] - nc3[lo:hi]
    sd = np.sqrt(np.maximum(v, 1e-12))
    z = (0.5 - m) / sd
    gamma = c3 / sd**3
    x = z / _SQRT2  # norm_cdf(z) = (1 + erf(z / √2)) / 2, erf as survival.erf computes it
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    cdf = 0.5 * (1.0 + np.sign(x) * (1.0 - poly * np.exp(-a * a)))
    p = cdf + gamma * (1.0 - z * z) * np.exp(-0.5 * z * z) * _INV_SQRT_2PI / 6.0
    if v.min() < 1e-9:
        p = np.where(v < 1e-9, (m <= 0.0).astype(float), p)
    return np.add.reduce(np.minimum(np.maximum(p, 0.0), 1.0), axis=1) / p.shape[1]


def expected_excess(mu: np.ndarray, var: np.ndarray) -> float:
    """E[(−X)^+] at the longest horizon: live answers already in flight that may find no agent."""
    m, sd = float(mu[-1]), float(np.sqrt(max(var[-1], 1e-12)))
    z = m / sd
    return max(0.0, sd * _INV_SQRT_2PI * float(np.exp(-0.5 * z * z)) - m * float(norm_cdf(-z)))
