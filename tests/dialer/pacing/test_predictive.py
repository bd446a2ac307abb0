"""The predictive pacer's decisions on scripted floors, its fallbacks, its abandon loop and the risk maths."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from dialer.pacing import (
    AgentState,
    AgentWillBeFree,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallPlaced,
    HistorySummary,
    make_pacer,
)
from dialer.pacing.risk import choose_normal, moments, poisson_binomial_pmf, risk_curve_exact, risk_normal

_ids = itertools.count()


def warm_up(pacer, agents: int, t0: float = 0.0) -> float:
    """Enough history to leave cold start: 200 dials (1 in 4 live, answered after 8 s), 50 talks of 100-130 s
    and 3 s of wrap."""
    t = t0
    for i in range(agents):
        pacer.observe(AgentState(t=t, agent_id=f"a{i}", state="ready"))
    for k in range(200):
        cid = f"w{next(_ids)}"
        pacer.observe(CallPlaced(t=t, call_id=cid))
        if k % 4 == 0:
            agent = f"a{k % agents}"
            pacer.observe(CallAnswered(t=t + 8, call_id=cid, answered_by="human"))
            pacer.observe(CallConnected(t=t + 8, call_id=cid, agent_id=agent))
            pacer.observe(AgentState(t=t + 8, agent_id=agent, state="talking"))
            talk = 100.0 + (k * 7) % 31
            pacer.observe(CallEnded(t=t + 8 + talk, call_id=cid, outcome="completed"))
            pacer.observe(AgentState(t=t + 8 + talk, agent_id=agent, state="wrap"))
            pacer.observe(AgentState(t=t + 11 + talk, agent_id=agent, state="ready"))
        elif k % 4 == 1:
            pacer.observe(CallEnded(t=t + 25, call_id=cid, outcome="no_answer"))
        else:
            pacer.observe(CallEnded(t=t + 4, call_id=cid, outcome="busy"))
        t += 200.0
    return t


def all_talking(pacer, agents: int, t: float, elapsed: float) -> None:
    for i in range(agents):
        cid = f"x{next(_ids)}"
        pacer.observe(CallPlaced(t=t - elapsed - 8, call_id=cid))
        pacer.observe(CallAnswered(t=t - elapsed, call_id=cid, answered_by="human"))
        pacer.observe(CallConnected(t=t - elapsed, call_id=cid, agent_id=f"a{i}"))
        pacer.observe(AgentState(t=t - elapsed, agent_id=f"a{i}", state="talking"))


def test_cold_start_dials_progressively_and_says_so() -> None:
    p = make_pacer("predictive")
    for i in range(10):
        p.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    assert p.plan(1.0) == 10
    assert p.explain()["mode"] == "fallback-progressive: cold start"


def test_small_team_dials_progressively() -> None:
    p = make_pacer("predictive")
    t = warm_up(p, 2)
    assert p.plan(t) == 2
    assert p.explain()["mode"].startswith("fallback-progressive: small team")


def test_dials_ahead_for_agents_about_to_be_free() -> None:
    p = make_pacer("predictive")
    t = warm_up(p, 10) + 1000
    all_talking(p, 10, t, elapsed=125.0)
    prog = make_pacer("progressive")
    all_talking(prog, 10, t, elapsed=125.0)
    n = p.plan(t)
    info = p.explain()
    assert info["mode"] == "predictive", info
    assert prog.plan(t) == 0 and n > 0
    assert 0 < info["agents_expected_free"] < 10
    assert 0.15 < info["live_probability"] < 0.35
    assert type(n) is int


def test_more_calls_in_flight_means_fewer_new_ones() -> None:
    counts = []
    for ringing in (0, 5, 15):
        p = make_pacer("predictive")
        t = warm_up(p, 10) + 1000
        all_talking(p, 10, t, elapsed=125.0)
        for j in range(ringing):
            p.observe(CallPlaced(t=t - 1, call_id=f"r{ringing}-{j}"))
        counts.append(p.plan(t))
    assert counts[0] >= counts[1] >= counts[2]
    assert counts[0] > counts[2]


def test_agents_just_started_talking_get_fewer_calls_than_agents_near_the_end() -> None:
    fresh, seasoned = make_pacer("predictive"), make_pacer("predictive")
    t = warm_up(fresh, 10) + 1000
    warm_up(seasoned, 10)
    all_talking(fresh, 10, t, elapsed=1.0)
    all_talking(seasoned, 10, t, elapsed=125.0)
    assert fresh.plan(t) < seasoned.plan(t)


def test_spent_budget_falls_back_to_progressive() -> None:
    p = make_pacer("predictive")
    t = warm_up(p, 10)
    p.observe(HistorySummary(t=t, live_answers=1000, abandoned=40))
    all_talking(p, 10, t + 1000, elapsed=125.0)
    assert p.plan(t + 1000) == 0
    assert p.explain()["mode"] == "fallback-progressive: abandon budget nearly spent"


def test_abandon_loop_tightens_on_abandons_and_relaxes_on_connects() -> None:
    p = make_pacer("predictive")
    t = warm_up(p, 10) + 1000
    p.observe(HistorySummary(t=t, live_answers=10_000, abandoned=0))
    all_talking(p, 10, t, elapsed=125.0)
    p.plan(t)
    a0 = p.explain()["abandon_loop_alpha"]
    for j in range(5):
        p.observe(CallPlaced(t=t, call_id=f"ab{j}"))
        p.observe(CallAnswered(t=t + 5, call_id=f"ab{j}", answered_by="human"))
        p.observe(CallEnded(t=t + 7, call_id=f"ab{j}", outcome="abandoned"))
    p.plan(t + 8)
    a1 = p.explain()["abandon_loop_alpha"]
    assert a1 < a0 * 0.7
    for j in range(300):
        p.observe(CallAnswered(t=t + 9, call_id=f"ok{j}", answered_by="human"))
    p.plan(t + 10)
    assert p.explain()["abandon_loop_alpha"] > a1


def test_talk_oracle_uses_announced_free_times() -> None:
    base, told = make_pacer("talk-oracle"), make_pacer("talk-oracle")
    t = warm_up(base, 10) + 1000
    warm_up(told, 10)
    for p in (base, told):
        all_talking(p, 10, t, elapsed=30.0)
    for i in range(10):
        told.observe(AgentWillBeFree(t=t - 30, agent_id=f"a{i}", free_at=t + 3))
    assert told.plan(t) > base.plan(t)


def test_plan_stays_cheap_and_sane_at_scale() -> None:
    p = make_pacer("predictive")
    t = warm_up(p, 500)
    all_talking(p, 500, t + 500, elapsed=100.0)
    for j in range(1500):
        p.observe(CallPlaced(t=t + 500 - (j % 30), call_id=f"big{j}"))
    n = p.plan(t + 500)
    assert type(n) is int and 0 <= n <= 8 * 500
    assert p.explain()["calls_in_flight"] == 1500


def test_poisson_binomial_pmf_is_exact() -> None:
    rng = np.random.default_rng(0)
    p = rng.random((12, 3))
    pmf = poisson_binomial_pmf(p)
    for k in range(3):
        brute = np.zeros(13)
        for bits in itertools.product([0, 1], repeat=12):
            prob = np.prod([p[i, k] if b else 1 - p[i, k] for i, b in enumerate(bits)])
            brute[sum(bits)] += prob
        assert np.allclose(pmf[k], brute, atol=1e-12)


def test_normal_risk_agrees_with_the_exact_law_on_large_floors() -> None:
    rng = np.random.default_rng(1)
    agents = rng.random((60, 4)) * 0.4
    calls = rng.random((80, 4)) * 0.3
    q = np.array([0.05, 0.1, 0.15, 0.2])
    _, exact = risk_curve_exact(2, agents, calls, q, alpha=1.0, n_cap=40)
    mu, var, k3 = moments(2, agents, calls)
    approx = risk_normal(mu, var, k3, q, np.arange(41, dtype=float))
    assert np.max(np.abs(exact - approx)) < 0.01
    n_exact, _ = risk_curve_exact(2, agents, calls, q, alpha=0.1, n_cap=200)
    n_normal, _ = choose_normal(mu, var, k3, q, alpha=0.1, n_cap=200)
    assert abs(n_exact - n_normal) <= 1


@pytest.mark.parametrize("name", ["predictive", "talk-oracle"])
def test_explain_names_its_inputs(name: str) -> None:
    p = make_pacer(name)
    t = warm_up(p, 10) + 1000
    all_talking(p, 10, t, elapsed=125.0)
    p.plan(t)
    info = p.explain()
    for key in ("agents_expected_free", "live_probability", "calls_in_flight", "answered_waiting",
                "abandon_budget_left", "mode", "n"):
        assert key in info


def test_a_thin_budget_makes_the_threshold_cautious() -> None:
    rich, thin = make_pacer("predictive"), make_pacer("predictive")
    t = warm_up(rich, 10) + 1000
    warm_up(thin, 10)
    rich.observe(HistorySummary(t=t, live_answers=10_000, abandoned=0))  # 300 abandons to spare
    thin.observe(HistorySummary(t=t, live_answers=1_000, abandoned=30))  # under 2 to spare
    for p in (rich, thin):
        all_talking(p, 10, t, elapsed=125.0)
        p.plan(t)
    assert thin.budget_caution < 1.0 == rich.budget_caution
    assert thin.explain()["abandon_loop_alpha"] < rich.explain()["abandon_loop_alpha"]
    assert thin.explain()["mode"] == rich.explain()["mode"] == "predictive"


def test_eis_baseline_dials_ahead_too() -> None:
    p = make_pacer("eis")
    t = warm_up(p, 10) + 1000
    p.observe(HistorySummary(t=t, live_answers=10_000, abandoned=0))
    all_talking(p, 10, t, elapsed=125.0)
    assert p.plan(t) > 0 and p.explain()["mode"] == "eis"


def test_live_answers_earn_the_loop_less_while_the_budget_caution_holds() -> None:
    """Anti-windup: on a fresh campaign (no budget to spare) a live answer raises the gain by the caution's share
    only; with a month of clean history behind it the same answer earns the full step."""

    def gain_step(history: HistorySummary | None) -> tuple[float, float]:
        p = make_pacer("predictive")
        if history is not None:
            p.observe(history)
        t = warm_up(p, 10) + 1000
        all_talking(p, 10, t, elapsed=125.0)
        p.plan(t)
        assert p.active
        before = p.gain
        cid = f"g{next(_ids)}"
        p.observe(CallPlaced(t=t, call_id=cid))
        p.observe(CallAnswered(t=t + 5, call_id=cid, answered_by="human"))
        return p.gain - before, p.budget_caution  # the caution as it stood with this answer counted

    fresh, fresh_caution = gain_step(None)
    seasoned, seasoned_caution = gain_step(HistorySummary(t=0.0, live_answers=20_000, abandoned=0))
    assert fresh_caution < 0.5 and seasoned_caution == 1.0
    assert seasoned > 0 and fresh == pytest.approx(seasoned * fresh_caution, rel=1e-6)


def test_the_threshold_reference_steers_its_alpha_toward_2_2_percent() -> None:
    from dialer.pacing.threshold import AIM, ThresholdPacer

    p = ThresholdPacer()
    a0 = p.alpha
    for _ in range(100):
        p.on_live_answer(0.0)
    assert p.alpha == a0  # the loop learns only from its own decisions (not during a cold start)
    p.active = True
    for _ in range(100):
        p.on_live_answer(0.0)
    p.on_abandon(0.0)
    p.on_abandon(0.0)
    # 100 answers at 2.2 % credit balance 2.2 abandons: two leave α a little above where it started
    assert p.alpha == pytest.approx(a0 * math.exp(0.05 * (100 * 0.022 - 2)))
    assert AIM == 0.022


def _fresh_floor_at_once(agents: int, seed: int, minutes: float = 5.0):
    """A fresh campaign whose agents all log in at the same second (the scale bench, a manager starting a full
    floor): (live answers, abandons) placed in order, counting the calls answered while the floor ran."""
    from dialer.sim import parse_scenario, run

    sc = parse_scenario({"name": "at-once", "seed": seed, "run": {"hours_per_day": minutes / 60},
                         "agents": {"count": agents, "stagger_min": 0.0},
                         "pacer": {"name": "predictive"}})
    result = run(sc)
    c = result.calls
    during = c.answered < result.days[0][1]  # while it dialed (before c514216 the close sent the agents home)
    live = np.isin(c.outcome, ("completed", "abandoned")) & during
    order = np.argsort(c.placed[live], kind="stable")
    return np.arange(1, live.sum() + 1), np.cumsum((c.outcome[live] == "abandoned")[order])


def _first_wave(finished: int, first_end: float):
    """A fresh 100-agent floor 70 s in: 240 dials placed at once, 60 live answers connected at 8 s, of which the
    first ``finished`` ended one a second from ``first_end`` (the rest still talking), 180 no-answers and busies."""
    pacer = make_pacer("predictive")
    for i in range(100):
        pacer.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    for k in range(240):
        cid = f"c{k}"
        pacer.observe(CallPlaced(t=0.0, call_id=cid))
        if k % 4 == 0:
            agent, n = f"a{k // 4}", k // 4
            pacer.observe(CallAnswered(t=8.0, call_id=cid, answered_by="human"))
            pacer.observe(CallConnected(t=8.0, call_id=cid, agent_id=agent))
            pacer.observe(AgentState(t=8.0, agent_id=agent, state="talking"))
            if n < finished:
                pacer.observe(CallEnded(t=first_end + n, call_id=cid, outcome="completed"))
                pacer.observe(AgentState(t=first_end + n, agent_id=agent, state="ready"))
        else:
            pacer.observe(CallEnded(t=20.0 + k % 5, call_id=cid, outcome="no_answer" if k % 2 else "busy"))
    return pacer


def test_a_large_fresh_floor_leaves_the_cold_start_once_its_talks_show_their_upper_quartile() -> None:
    """A 100-agent floor need not wait for one finished talk per agent (six minutes of one call per ready agent,
    85 % busy against 96 % after): once 50 of its first 60 talks have ended and the curve reaches its upper
    quartile among the talks seen, the forecast is trusted. The first wave of dials resolves in placement order."""
    pacer = _first_wave(finished=50, first_end=10.0)  # talks of 2-51 s, 10 still running
    pacer.plan(70.0)
    assert pacer.explain()["mode"] == "predictive"


def test_a_fresh_floor_whose_talks_have_not_shown_their_upper_quartile_counts_only_its_ready_agents() -> None:
    """20 quick refusals ended and 40 talks still running: the curve's tail would be a guess about exactly the
    agents the forecast must count, so none of them is counted as coming free. The answers are trusted (240 dials
    resolved in placement order, 60 live) and 60 live answers pay for an abandon, so the 60 ready agents are dialed
    for as the answer model allows: more than one call each (one call per ready agent left a fresh 500-agent floor
    64 % busy over its first five minutes, 80 % with this)."""
    pacer = _first_wave(finished=20, first_end=18.0)
    n = pacer.plan(70.0)
    info = pacer.explain()
    assert info["agents_ready"] == 60 and info["agents_busy"] == 40
    assert n > 60, info
    assert info["held_by"] == "warming" and info["mode"] == "predictive: ready agents only (talks not yet trusted)"
    assert info["agents_expected_free"] == 60  # no talking agent counted
    assert "ready agents" in info["sentence"]


def test_a_fresh_floor_with_untrusted_answers_stays_one_call_per_ready_agent() -> None:
    """Before 100 dials have resolved in placement order the live share is not known: one call per ready agent."""
    pacer = make_pacer("predictive")
    for i in range(100):
        pacer.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    for k in range(60):
        pacer.observe(CallPlaced(t=0.0, call_id=f"c{k}"))
        if k % 4 == 0:
            pacer.observe(CallAnswered(t=8.0, call_id=f"c{k}", answered_by="human"))
            pacer.observe(CallConnected(t=8.0, call_id=f"c{k}", agent_id=f"a{k // 4}"))
            pacer.observe(AgentState(t=8.0, agent_id=f"a{k // 4}", state="talking"))
        else:
            pacer.observe(CallEnded(t=20.0, call_id=f"c{k}", outcome="no_answer"))
    assert pacer.plan(30.0) == 85 and pacer.explain()["mode"].endswith("cold start")


@pytest.mark.parametrize("seed", [2, 3])
def test_a_fresh_floor_logging_in_at_once_never_abandons_more_than_its_live_answers_pay_for(seed):
    """100 agents logged in together: 20 finished talks (the cold start's count) came in the first minute and were
    all quick refusals, so the talk curve said the 40 agents still talking would be free within seconds and the
    first forecast dialed 199 calls for 52 ready agents; the campaign reached 9.6 % of its live answers abandoned.
    The budget allows target × live answers at every moment (read once 1/target live answers are in)."""
    lives, abandons = _fresh_floor_at_once(100, seed)
    assert lives[-1] > 200
    read = lives >= 34
    assert (abandons[read] <= 0.03 * lives[read]).all(), f"worst running rate {(abandons[read] / lives[read]).max()}"


@pytest.mark.parametrize("seed", [1, 5])
def test_a_fresh_300_agent_floor_never_abandons_more_than_its_live_answers_pay_for(seed):
    """300 agents logged in together: the first burst of dials resolves its live answers within seconds and its
    no-answers together at the ring timeout; change detection read that wave as a fall in the live share (0.09-0.12
    for a true 0.25) and the next plans dialed 500-770 calls for 57-115 ready agents with about one abandon of
    budget left, reaching 7.5 % of the live answers abandoned. While the budget is thin the live share is never
    taken below what all dials so far show."""
    lives, abandons = _fresh_floor_at_once(300, seed, minutes=8.0)
    assert lives[-1] > 1000
    read = lives >= 34
    assert (abandons[read] <= 0.03 * lives[read]).all(), f"worst running rate {(abandons[read] / lives[read]).max()}"


@pytest.mark.parametrize("seed", [1, 2])
def test_a_fresh_500_agent_floor_never_abandons_more_than_its_live_answers_pay_for(seed):
    """500 agents logged in together, the budget no longer thin when the forecast takes over: a burst of 636 dials
    placed at one instant resolved its live answers first and its no-answers together at the ring timeout, the
    change detector read that order as a fall in the live share (0.08 for a true 0.25), and the next plan dialed
    680 calls for 7 ready agents (9.5 % of the live answers abandoned). Outcomes now count in placement order."""
    lives, abandons = _fresh_floor_at_once(500, seed, minutes=8.0)
    assert lives[-1] > 1500
    read = lives >= 34
    assert (abandons[read] <= 0.03 * lives[read]).all(), f"worst running rate {(abandons[read] / lives[read]).max()}"
