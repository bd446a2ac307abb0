"""``choose_normal``'s chunks and ``_risk_rows`` are a faster way to the same numbers, not a different
pacer: same n, same r(0), the same risk value for value, and a simulated day the same call for call."""

from __future__ import annotations

import numpy as np

from dialer.pacing import predictive
from dialer.pacing.risk import _risk_rows, choose_normal, moments, moments_of_terms, risk_normal, with_terms
from dialer.sim.runner import run
from dialer.sim.scenario import Agents, Run, Scenario


def _reference(mu, var, k3, q, alpha, n_cap, hint=0) -> tuple[int, float]:
    """choose_normal as it was: chunks of 32 growing eightfold, every chunk through risk_normal (no hint)."""
    lo, size, r0 = 0, 32, None
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


def _floor(rng):
    na, nc = int(rng.integers(0, 300)), int(rng.integers(0, 400))
    agents = rng.random((na, 8)) * rng.choice([0.0, 0.01, 0.3, 1.0])
    calls = rng.random((nc, 8)) * rng.choice([0.0, 0.05, 0.5])
    q = np.sort(rng.random(8)) * rng.choice([0.0, 0.05, 0.3, 1.0])
    return int(rng.integers(-50, 200)), agents, calls, q


def test_the_chunks_compute_risk_normals_values_exactly() -> None:
    rng = np.random.default_rng(11)
    degenerate = 0
    for _ in range(3000):
        base, agents, calls, q = _floor(rng)
        mu, var, k3 = moments(base, agents, calls)
        lo = int(rng.choice([0, 0, int(rng.integers(0, 600))]))
        hi = lo + int(rng.integers(1, 9 if lo == 0 else 300))
        want = risk_normal(mu, var, k3, q, np.arange(lo, hi, dtype=float))
        got = _risk_rows(mu, var, k3, q, lo, hi)
        assert np.array_equal(got, want), (base, lo, hi)
        degenerate += bool((var < 1e-9).any())
    assert degenerate > 100  # floors with nothing uncertain (the branch the fast way skips otherwise) were tried


def test_same_answer_as_before_on_random_floors() -> None:
    rng = np.random.default_rng(12)
    beyond_first = 0
    for _ in range(3000):
        base, agents, calls, q = _floor(rng)
        mu, var, k3 = moments(base, agents, calls)
        alpha, cap = float(10 ** rng.uniform(-5, -0.2)), int(rng.integers(0, 2000))
        want = _reference(mu, var, k3, q, alpha, cap)
        assert choose_normal(mu, var, k3, q, alpha, cap) == want
        hint = int(rng.choice([want[0], max(0, want[0] - int(rng.integers(0, 50))), int(rng.integers(0, 2000))]))
        assert choose_normal(mu, var, k3, q, alpha, cap, hint) == want
        beyond_first += want[0] >= 8
    assert beyond_first > 300  # answers the first chunk does not hold were tried too


def test_a_simulated_day_is_the_same_call_for_call(monkeypatch) -> None:
    """A 60-agent floor (the normal approximation decides every plan past the day's first minutes): every call,
    its placement and its outcome must be the same with either way."""
    sc = Scenario(agents=Agents(count=60), run=Run(hours_per_day=0.5), pacer="predictive")
    decided: dict[str, list[tuple[int, float]]] = {"fast": [], "before": []}

    def recorded(way, choose):
        def decide(*args):
            decided[way].append(choose(*args))
            return decided[way][-1]
        return decide

    monkeypatch.setattr(predictive.PredictivePacer, "_compiled_decide", lambda *args: None)  # the numpy path
    monkeypatch.setattr(predictive, "choose_normal", recorded("fast", choose_normal))
    fast = run(sc, seed=4)
    monkeypatch.setattr(predictive, "choose_normal", recorded("before", _reference))
    before = run(sc, seed=4)
    assert decided["fast"] == decided["before"] and len(decided["fast"]) > 3000
    for name in ("lead_id", "agent_id", "placed", "answered", "connected", "ended", "outcome", "disposition"):
        a, b = getattr(fast.calls, name), getattr(before.calls, name)
        assert len(a) == len(b) > 1000 and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name


def test_moments_from_the_terms_tables_are_moments_bit_for_bit() -> None:
    """The predictive pacer gathers rows of ``with_terms`` tables and sums them once: the same mean, variance and
    third moment as ``moments`` on the probabilities, bit for bit (any floor size, empty sides included)."""
    rng = np.random.default_rng(13)
    for _ in range(2000):
        base, agents, calls, _q = _floor(rng)
        table_a, table_c = with_terms(rng.random((50, 8)) ** 3), with_terms(rng.random((40, 8)))
        a = table_a[rng.integers(0, 50, size=len(agents))]
        c = table_c[rng.integers(0, 40, size=len(calls))]
        want = moments(base, a[:, :8], c[:, :8])
        got = moments_of_terms(base, a, c)
        assert all(np.array_equal(x, y) for x, y in zip(got, want, strict=True))
