"""A plan answers each attempt at the share its history measured for that attempt, not at a first attempt's share
carried down a fitted decay.

Days into a campaign the list is dialed on its third and fourth attempts. A geometric decay fitted from the first
attempt carried that attempt's luck to every later one, compounded (the 25-agent back-test's fit of truth seed 7:
a first attempt 3 % lucky, a decay of 0.76 for 0.8, a fourth attempt 11 % worse than the truth's), and the plan
then spent its day's due leads sooner than the campaign did: its third hour 32 % short with the day's total 6 %.
Here the truth's retries do not decay geometrically at all (a second attempt answers half as often as a first, a
third 0.6 times, as when later tries go out at another time of day), so a geometric decay misses the third by a
third.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from dialer.loop.pacers import named_pacer
from dialer.planner import inputs
from dialer.planner.backtest import CAMPAIGN, _TruthSimulation, truth_scenario, write_history
from dialer.planner.inputs import Inputs, _rake
from dialer.planner.service import read_basis
from dialer.planner.whatif import Schedule, _answered_in_time, plan_simulation, scenario_for
from dialer.planner.world import ListQueue, PlanCustomers
from dialer.sim.customers import Customers
from dialer.sim.runner import day_windows
from dialer.sim.world import MemoryWorld

PROFILE = {1: 1.0, 2: 0.5, 3: 0.6, 4: 0.6}  # a retry's live share ÷ a first attempt's, in the truth: not geometric


class _FlatRetries(Customers):
    def live_share(self, day: int, hour: float, attempt: int) -> float:
        return super().live_share(day, hour, 1) * PROFILE[min(attempt, 4)]


def _per_attempt(calls, attempts0: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Dials of numbers in service and their live answers, by attempt number."""
    order = np.argsort(calls["placed"], kind="stable")
    seen = dict(attempts0)
    alive: Counter = Counter()
    live: Counter = Counter()
    for i in order:
        lead = int(calls["lead"][i])
        seen[lead] = seen.get(lead, 0) + 1
        k = seen[lead]
        if calls["outcome"][i] != "failed":
            alive[k] += 1
            live[k] += calls["outcome"][i] in ("completed", "abandoned")
    return {k: (alive[k], live[k]) for k in alive}


@pytest.mark.slow
def test_a_plan_answers_each_attempt_at_its_measured_share(sessions, monkeypatch) -> None:
    monkeypatch.setattr(inputs, "MIN_ATTEMPT_LIVES", 100)  # a small floor's history: ~150 on a third attempt
    sc = truth_scenario(agents=10, hours=3, days=3, list_size=3000)
    # retries come back within the day, so two days of history measure three attempts
    sc = replace(sc, campaign=replace(sc.campaign, retry_no_answer_s=1200, retry_machine_s=1200))
    settings = {"target_abandon_rate": sc.campaign.abandon_target}
    t0, _ = day_windows(sc)
    truth = _TruthSimulation(sc, 5, MemoryWorld(sc, t0), named_pacer(sc.pacer, settings))
    truth.carrier.customers = _FlatRetries(sc, 5)
    truth.run()
    result = truth.result(sc.pacer, settings, 0.0)
    now = write_history(sessions, sc, result, truth, fit_days=2)
    with sessions() as s:
        # the list topped up with fresh leads (a manager's "what if it held 2,000 more"), so the planned day
        # dials second and third attempts again
        basis = read_basis(s, CAMPAIGN, now, days=3)
        basis = read_basis(s, CAMPAIGN, now, days=3,
                           overrides={"callable_leads": basis.inputs.callable_leads + 2000})
    i = basis.inputs
    assert set(i.live_on_attempt) >= {1, 2, 3}, i.live_by_attempt
    # what a geometric decay from the first attempt makes of the third: a third or more off
    geometric = i.live_first * i.retry_decay ** 2
    assert abs(geometric / i.live_on_attempt[3] - 1) > 0.15, (geometric, i.live_on_attempt)
    first = (sc.run.start + timedelta(days=2)).date()
    scenario = scenario_for(i, Schedule(first, 1, ((9, 10), (10, 10), (11, 10))), basis.campaign)
    start = basis.start_for()
    sim = plan_simulation(scenario, 1, start)
    customers = sim.carrier.customers
    in_time = _answered_in_time(scenario.answer)
    for k in (1, 2, 3):
        # a number in service answers attempt k in time at the share the history measured for it (a geometric
        # decay from the first attempt gave the third 0.33 of the first's share where the history shows 0.45)
        # (at 10:00, whose fitted hour factor multiplies every attempt alike)
        planned = customers.live_share(2, 10.0, k) / customers.alive * in_time
        assert planned == pytest.approx(i.live_on_attempt[k] * i.by_hour[10]["factor"], rel=0.02), k
    sim.run()
    calls, _ = sim.world.export()
    dialed = _per_attempt(calls, {n + 1: int(a) for n, a in enumerate(start.queue.attempts)})
    for k in (1, 2):  # and the day's dials show it, within their sampling error (hundreds of dials each: at 850
        # second attempts the share's own standard error is ~8 % of it)
        alive, live = dialed[k]
        assert alive >= 500, dialed
        assert live / alive == pytest.approx(i.live_on_attempt[k], rel=0.1), (k, dialed, i.live_on_attempt)


def test_hour_and_attempt_shares_are_told_apart_when_retries_fill_the_morning() -> None:
    """Live answers that are exactly numbers in service × an attempt's share × an hour's factor, with the
    retries dialed in the morning and the fresh leads in the afternoon: the fit gives back both, where each
    one's raw share mixes in the other."""
    share = {1: 0.30, 2: 0.21, 3: 0.18}
    factor = {9: 1.1, 10: 1.0, 13: 0.8}
    alive = {(9, 1): 1000, (9, 2): 4000, (9, 3): 3000, (10, 1): 3000, (10, 2): 2000, (10, 3): 1000,
             (13, 1): 6000, (13, 2): 500, (13, 3): 200}
    lives = {hk: round(n * share[hk[1]] * factor[hk[0]]) for hk, n in alive.items()}
    cells = {hk: Counter(live=lives[hk], no_answer=n - lives[hk], failed=50) for hk, n in alive.items()}
    got_share, got_factor = _rake(cells)
    ratio = got_share[1] / share[1]  # the product's scale is the history's average hour: only ratios are fixed
    for k, v in share.items():
        assert got_share[k] / ratio == pytest.approx(v, rel=2e-3)
    for h, f in factor.items():
        assert got_factor[h] * ratio == pytest.approx(f, rel=2e-3)
    expected = sum(n * got_share[k] for (h, k), n in alive.items())
    assert sum(n * got_share[k] * got_factor[h] for (h, k), n in alive.items()) == pytest.approx(expected)


def test_attempts_beyond_the_measured_ones_decay_from_the_last_measured() -> None:
    sc = truth_scenario(agents=2, hours=1, days=1, list_size=10)
    i = Inputs("c", "America/Chicago", sc.run.start, sc.run.start, live_first=0.30,
               live_on_attempt={1: 0.30, 2: 0.21, 3: 0.18})
    assert i.attempt_factors() == (1.0, 0.7, 0.6)
    customers = PlanCustomers(sc, 1, ListQueue.fresh(10, sc.run.start), 1.0, 0.0, i.attempt_factors())
    first = customers.live_share(0, 10.0, 1)
    assert customers.live_share(0, 10.0, 3) == pytest.approx(first * 0.6)
    assert customers.live_share(0, 10.0, 5) == pytest.approx(first * 0.6 * sc.answering.retry_decay ** 2)
    geometric = PlanCustomers(sc, 1, ListQueue.fresh(10, sc.run.start), 1.0, 0.0)
    assert geometric.live_share(0, 10.0, 3) == pytest.approx(first * sc.answering.retry_decay ** 2)
