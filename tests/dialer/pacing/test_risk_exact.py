"""``choose_exact`` is a faster way to ``risk_curve_exact``'s answer, not a different pacer: same n, same r(0)."""

from __future__ import annotations

import numpy as np

from dialer.pacing import predictive
from dialer.pacing.risk import choose_exact, risk_curve_exact
from dialer.sim.runner import run
from dialer.sim.scenario import Agents, Run, Scenario


def _curve(base, agents, calls, q, alpha, cap) -> tuple[int, float]:
    n, risks = risk_curve_exact(base, agents, calls, q, alpha, cap)
    return n, float(risks[0])


def test_same_answer_as_the_curve_on_random_floors() -> None:
    rng = np.random.default_rng(5)
    walked = 0
    for _ in range(1500):
        na = int(rng.integers(0, 7))
        nc = int(rng.integers(0, 13 - na))
        agents = rng.random((na, 8)) * rng.random()
        calls = rng.random((nc, 8)) * rng.random() * 0.5
        q = np.sort(rng.random(8)) * rng.choice([0.0, 0.05, 0.2, 0.5, 1.0])
        base, alpha, cap = int(rng.integers(-3, 120)), float(10 ** rng.uniform(-4, -0.5)), int(rng.integers(0, 900))
        want = _curve(base, agents, calls, q, alpha, cap)
        assert choose_exact(base, agents, calls, q, alpha, cap) == want
        walked += want[0] > 10
    assert walked > 500  # most cases walk the curve a long way (where the two ways could part)


def test_a_simulated_day_is_the_same_call_for_call(monkeypatch) -> None:
    """40 agents start the day all ready and then run a 700-lead list dry: the two places the exact law decides
    with a long walk. Every call, its placement and its outcome must be the same with either way."""
    sc = Scenario(agents=Agents(count=40), run=Run(hours_per_day=0.4), list_size=700, pacer="predictive")
    decided: dict[str, list[tuple[int, float]]] = {"fast": [], "slow": []}

    def recorded(way, choose):
        def decide(*args):
            decided[way].append(choose(*args))
            return decided[way][-1]
        return decide

    monkeypatch.setattr(predictive, "choose_exact", recorded("fast", choose_exact))
    fast = run(sc, seed=3)
    monkeypatch.setattr(predictive, "choose_exact", recorded("slow", _curve))
    slow = run(sc, seed=3)
    assert decided["fast"] == decided["slow"]
    assert sum(n > 10 for n, _ in decided["fast"]) > 20
    for name in ("lead_id", "agent_id", "placed", "answered", "connected", "ended", "outcome", "disposition"):
        a, b = getattr(fast.calls, name), getattr(slow.calls, name)
        assert len(a) == len(b) > 500 and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
