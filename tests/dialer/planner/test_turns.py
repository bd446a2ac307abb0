"""The plan's loop turns on news, at most every 0.25 s (``dialer.planner.turns``): fewer turns, the same plan.

Each pair of runs shares its seed, so both meet the same customers and agents (common random numbers) and their
difference is the turn rule's alone; the figures must agree within the seeds' own spread of that difference.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from dialer.planner.inputs import Fit, Inputs
from dialer.planner.whatif import Schedule, plan_simulation, scenario_for
from dialer.sim.scenario import Scenario

RULES = {"pacing_mode": "predictive", "power_ratio": 2.0, "abandon_target": 0.03, "max_attempts": 5,
         "retry_no_answer_s": 1800, "retry_busy_s": 600, "retry_machine_s": 1800, "max_lines": None,
         "machine_action": "hangup"}


def _scenario(agents: int, hours: float, leads: int):
    """The base floor of docs/pacing.md §3 as measured inputs, planned for a day of ``hours``."""
    from datetime import UTC, datetime

    sc = Scenario()
    o = sc.outcomes
    shares = {"live": o.live, "machine": o.machine, "no_answer": o.no_answer, "busy": o.busy, "failed": o.sit}
    now = datetime(2030, 1, 1, tzinfo=UTC)
    inputs = Inputs("turns", "America/New_York", now, now, dials=100_000, shares=shares,
                    ring_s={"pdd_s": sc.answer.pdd_s, "mean_s": sc.answer.human_mean_s,
                            "shape": sc.answer.human_shape, "samples": 25_000},
                    talk=Fit(tuple((c.weight, c.median_s, c.sigma) for c in sc.talk.components), sc.talk.mean_s,
                             25_000),
                    wrap=Fit(tuple((c.weight, c.median_s, c.sigma) for c in sc.agents.wrap.components),
                             sc.agents.wrap.mean_s, 25_000),
                    dispositions={"close": 0.10, "other": 0.80, "callback": 0.05, "dnc": 0.05}, contacts=25_000,
                    retry_decay=0.8, callable_leads=leads)
    scenario = scenario_for(inputs, Schedule(date(2030, 1, 8), 1, ((9, agents),)), RULES)
    return replace(scenario, run=replace(scenario.run, hours_per_day=hours))


def _figures(scenario, seed: int, paced: bool) -> dict:
    sim = plan_simulation(scenario, seed, warm_up=False, paced=paced)
    sim.run()
    calls, _ = sim.world.export()
    return {"dials": len(calls["id"]), "contacts": int((~np.isnan(calls["connected"])).sum()),
            "abandoned": int((calls["outcome"] == "abandoned").sum()), "leads_left": sim.leads_left[-1],
            "turns": sim.loop.stats.ticks}


def _agree(before: list[dict], after: list[dict], key: str, within: float) -> None:
    """The mean paired difference is within three standard errors of it, and within ``within``."""
    diff = np.array([a[key] - b[key] for a, b in zip(after, before, strict=True)], dtype=float)
    se = diff.std(ddof=1) / np.sqrt(len(diff))
    assert abs(diff.mean()) <= 3 * se + 1.0, (key, diff.tolist())
    assert abs(diff.mean()) <= within, (key, diff.tolist())


@pytest.mark.parametrize(("agents", "hours", "leads"), [(30, 0.6, 20_000), (10, 1.0, 250)],
                         ids=["steady", "list-runs-dry"])
def test_turning_on_news_plans_the_same_with_far_fewer_turns(agents, hours, leads) -> None:
    scenario = _scenario(agents, hours, leads)
    before = [_figures(scenario, seed, paced=False) for seed in range(1, 5)]
    after = [_figures(scenario, seed, paced=True) for seed in range(1, 5)]
    level = {k: np.mean([b[k] for b in before]) for k in before[0]}
    for key in ("dials", "contacts"):
        _agree(before, after, key, 0.02 * level[key])  # 2 %: a 100-agent day's seeds spread ±1 %
    _agree(before, after, "leads_left", 0.01 * leads)
    _agree(before, after, "abandoned", max(3.0, 0.25 * level["abandoned"]))  # a dozen a run: the coin
    assert sum(a["turns"] for a in after) < 0.75 * sum(b["turns"] for b in before)


def test_a_turn_telling_the_pacer_the_leads_claimable_places_the_same_calls(monkeypatch) -> None:
    """On a list that runs dry (a whole floor ready, a lead or two due a turn) the pacer's scan stops at the leads
    claimable (``PredictivePacer.most``); the loop places the smaller of the answer and those, so every call is
    the same as with no bound."""
    from dialer.planner.turns import PacedTurns

    scenario = _scenario(30, 1.0, 1500)

    def calls_of() -> tuple[dict, list[int | None]]:
        sim = plan_simulation(scenario, 3, warm_up=False)
        told: list[int | None] = []
        most = sim._most_claimable

        def recorded() -> int | None:
            told.append(most())
            return told[-1]

        sim._most_claimable = recorded
        sim.run()
        return sim.world.export()[0], told

    bounded, told = calls_of()
    monkeypatch.setattr(PacedTurns, "_most_claimable", lambda self: None)
    unbounded, _ = calls_of()
    assert sum(1 for m in told if m is not None and m < 10) > 100  # the list ran dry: small bounds were told
    for name in ("id", "placed", "connected", "outcome"):
        a, b = np.asarray(bounded[name]), np.asarray(unbounded[name])
        assert len(a) == len(b) > 1000 and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), name
