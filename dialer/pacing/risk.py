"""The chance that one more dial, if it answers live, finds no agent (the marginal abandon risk).

At each candidate answer time τ_k the free-agent surplus is X = ready − waiting + Σ Bern(P_i) − Σ Bern(π_j) −
Bin(n, q): busy agents who will be free by τ_k + grace, minus ringing calls that will have answered live by τ_k,
minus the other ``n`` new dials. One more live answer is abandoned when X ≤ 0. With few terms the Poisson-binomial
laws are convolved exactly; with many, a normal approximation with a skewness correction (the "refined normal
approximation" for Poisson-binomial sums) is accurate and O(terms). The risk is averaged over the τ_k, which are
equal-mass quantiles of the live answer time, so it is E_τ[P(no agent | live at τ)].
"""

from __future__ import annotations

import numpy as np

from dialer.pacing.survival import norm_cdf

EXACT_MAX_TERMS = 12  # above this many busy agents + ringing calls the normal approximation takes over
_INV_SQRT_2PI = 0.3989422804014327


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


def moments(base: int, agents: np.ndarray, calls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance and third central moment of the surplus X before any new dial, per horizon."""
    va = agents * (1.0 - agents)
    vc = calls * (1.0 - calls)
    mu = base + agents.sum(axis=0) - calls.sum(axis=0)
    var = va.sum(axis=0) + vc.sum(axis=0)
    k3 = (va * (1.0 - 2.0 * agents)).sum(axis=0) - (vc * (1.0 - 2.0 * calls)).sum(axis=0)
    return mu, var, k3


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


def choose_normal(mu: np.ndarray, var: np.ndarray, k3: np.ndarray, q: np.ndarray, alpha: float,
                  n_cap: int) -> tuple[int, float]:
    """Smallest n in [0, n_cap] whose marginal risk r(n) exceeds alpha (n_cap if none does), and r(0).

    r is increasing in n, so candidates are scanned in vectorised chunks that grow eightfold (one array
    evaluation covers a small floor; a 500-agent floor needs two or three)."""
    lo, size = 0, 32
    r0 = None
    while lo <= n_cap:
        cand = np.arange(lo, min(lo + size, n_cap + 1), dtype=float)
        r = risk_normal(mu, var, k3, q, cand)
        if r0 is None:
            r0 = float(r[0])
        over = np.nonzero(r > alpha)[0]
        if len(over):
            return int(cand[over[0]]), r0
        lo += size
        size *= 8
    return max(n_cap, 0), (r0 if r0 is not None else 0.0)


def expected_excess(mu: np.ndarray, var: np.ndarray) -> float:
    """E[(−X)^+] at the longest horizon: live answers already in flight that may find no agent."""
    m, sd = float(mu[-1]), float(np.sqrt(max(var[-1], 1e-12)))
    z = m / sd
    return max(0.0, sd * _INV_SQRT_2PI * float(np.exp(-0.5 * z * z)) - m * float(norm_cdf(-z)))
