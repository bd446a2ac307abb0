"""The compiled plan (``dialer.pacing.kernel``) is a faster way to the numpy path's numbers, not another pacer:
the same rows, the same moments and explanation sums bit for bit, the same answer, and a simulated day the same
call for call."""

from __future__ import annotations

import numpy as np

from dialer.pacing import kernel
from dialer.pacing.floor import TALKING, WRAP
from dialer.pacing.handle import elapsed_index
from dialer.pacing.predictive import PredictivePacer
from dialer.pacing.risk import choose_normal, expected_excess, moments, moments_of_terms, with_terms
from dialer.sim.runner import run
from dialer.sim.scenario import Agents, Run, Scenario


def test_pairwise_is_numpys_sum_of_a_column() -> None:
    rng = np.random.default_rng(21)
    for n in [*range(0, 140), 255, 256, 257, 1000, 1031, 4097]:
        col = (rng.random((n, 24)) * rng.choice([1.0, 1e-3, 1e6]))[:, 4]  # strided, as the explanation's
        assert kernel._pairwise(np.ascontiguousarray(col), 0, n) == col.sum(), n


def _numpy_path(state, since, t, talk, wrap, ring_terms, ring_placed, base):
    """What ``PredictivePacer`` computes with numpy: rows by elapsed time, gathered, summed."""
    talk_e, wrap_e = t - since[state == TALKING], t - since[state == WRAP]
    a = np.concatenate([talk[elapsed_index(talk_e, len(talk))], wrap[elapsed_index(wrap_e, len(wrap))]])
    ring_e = t - ring_placed[~np.isnan(ring_placed)]
    idx = np.minimum((np.maximum(ring_e, 0.0) / 0.25).astype(np.int64), len(ring_terms) - 1)
    c = ring_terms[idx]
    mu, var, k3 = moments_of_terms(base, a, c)
    return mu, var, k3, float(a[:, 4].sum()), float(c[:, 7].sum()), len(c), expected_excess(mu, var)


def test_floor_moments_are_the_numpy_paths_bit_for_bit() -> None:
    rng = np.random.default_rng(22)
    for _ in range(1500):
        n = int(rng.integers(0, 600))
        state = rng.choice(np.arange(5, dtype=np.int8), size=n + int(rng.integers(0, 20)))
        since = rng.uniform(-3000.0, 1000.0, size=len(state))  # some in the future: a late event
        t = float(rng.uniform(0.0, 1000.0))
        talk = with_terms(rng.random((int(rng.integers(1, 3000)), 8)) ** 2)
        wrap = with_terms(rng.random((int(rng.integers(1, 900)), 8)))
        ring_terms = with_terms(rng.random((int(rng.integers(1, 400)), 8)) * 0.3)
        ring = np.where(rng.random(int(rng.integers(0, 1500))) < 0.3, np.nan, rng.uniform(t - 120, t + 1))
        base = int(rng.integers(-50, 300))
        want = _numpy_path(state[:n], since[:n], t, talk, wrap, ring_terms, ring, base)
        talk_rows, top_t = kernel.busy_rows(state, since, n, TALKING, t, len(talk))
        wrap_rows, top_w = kernel.busy_rows(state, since, n, WRAP, t, len(wrap))
        assert top_t == (talk_rows.max() if len(talk_rows) else -1) and top_w == max(wrap_rows, default=-1)
        got = kernel.floor_moments(base, talk, talk_rows, wrap, wrap_rows, ring_terms, ring, t, 0.25, 8)
        for x, y in zip(got[:6], want[:6], strict=True):
            assert np.array_equal(x, y), (x, y)
        assert abs(got[6] - want[6]) <= 1e-13 * max(1.0, want[6])  # exp: the C library's, not numpy's


def test_the_scan_gives_choose_normals_answer() -> None:
    rng = np.random.default_rng(23)
    beyond = 0
    for _ in range(3000):
        na, nc = int(rng.integers(0, 300)), int(rng.integers(0, 400))
        agents = rng.random((na, 8)) * rng.choice([0.0, 0.01, 0.3, 1.0])
        calls = rng.random((nc, 8)) * rng.choice([0.0, 0.05, 0.5])
        q = np.sort(rng.random(8)) * rng.choice([0.0, 0.05, 0.3, 1.0])
        mu, var, k3 = moments(int(rng.integers(-50, 200)), agents, calls)
        alpha, cap = float(10 ** rng.uniform(-5, -0.2)), int(rng.integers(0, 2000))
        n, r0 = kernel.normal_scan(mu, var, k3, q, alpha, cap)
        want_n, want_r0 = choose_normal(mu, var, k3, q, alpha, cap)
        assert n == want_n and abs(r0 - want_r0) <= 1e-14
        beyond += n >= 8
    assert beyond > 300


def test_a_simulated_day_is_the_same_call_for_call(monkeypatch) -> None:
    """A 60-agent floor: every decision, every call, its placement and its outcome the same either way."""
    sc = Scenario(agents=Agents(count=60), run=Run(hours_per_day=0.5), pacer="predictive")
    decided: dict[str, list[int]] = {"compiled": [], "numpy": []}
    plan = PredictivePacer._plan

    def recorded(way):
        def _plan(self, t, info):
            decided[way].append(plan(self, t, info))
            return decided[way][-1]
        return _plan

    monkeypatch.setattr(PredictivePacer, "_plan", recorded("compiled"))
    compiled = run(sc, seed=4)
    monkeypatch.setattr(PredictivePacer, "_plan", recorded("numpy"))
    monkeypatch.setattr(PredictivePacer, "_compiled_decide", lambda *args: None)
    numpy_path = run(sc, seed=4)
    assert decided["compiled"] == decided["numpy"] and len(decided["compiled"]) > 3000
    for name in ("lead_id", "agent_id", "placed", "answered", "connected", "ended", "outcome", "disposition"):
        a, b = getattr(compiled.calls, name), getattr(numpy_path.calls, name)
        assert len(a) == len(b) > 1000 and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
