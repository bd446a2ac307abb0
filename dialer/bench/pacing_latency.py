"""plan() latency on a big floor: 500 agents at assorted elapsed talk and wrap times and 1,500 calls ringing.

1,500 calls in flight for 500 agents is what a poor list (S4: 8 % live answers) looks like, so the pacer is first
taught such a history (thousands of resolved dials, finished talks from the base talk mix), then timed over a
stretch of consecutive plans a few tens of milliseconds apart in event time, so the periodic refits of its curves
are included at their real frequency (the mean is the amortised cost).
"""

from __future__ import annotations

import math
import time

import numpy as np

from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, HistorySummary, make_pacer


def _teach(pacer, rng: np.random.Generator, agents: int, t: float, live: float) -> float:
    for i in range(agents):
        pacer.observe(AgentState(t=t, agent_id=f"a{i}", state="ready"))
    for k in range(6000):
        cid = f"h{k}"
        pacer.observe(CallPlaced(t=t, call_id=cid))
        u = rng.random()
        if u < live:
            agent = f"a{k % agents}"
            ans = t + 2 + rng.gamma(2.0, 4.0)
            talk = rng.lognormal(math.log(15 if rng.random() < 0.35 else 120), 0.6)
            pacer.observe(CallAnswered(t=ans, call_id=cid, answered_by="human"))
            pacer.observe(CallConnected(t=ans, call_id=cid, agent_id=agent))
            pacer.observe(AgentState(t=ans, agent_id=agent, state="talking"))
            pacer.observe(CallEnded(t=ans + talk, call_id=cid, outcome="completed"))
            pacer.observe(AgentState(t=ans + talk, agent_id=agent, state="wrap"))
            pacer.observe(AgentState(t=ans + talk + rng.lognormal(math.log(12), 0.5), agent_id=agent, state="ready"))
        elif u < live + 0.3:
            pacer.observe(CallAnswered(t=t + 2 + rng.gamma(4.0, 3.0), call_id=cid, answered_by="machine"))
            pacer.observe(CallEnded(t=t + 20, call_id=cid, outcome="machine"))
        else:
            pacer.observe(CallEnded(t=t + rng.uniform(2, 25), call_id=cid, outcome="no_answer"))
        t += 0.2
    return t + 600.0


def plan_latency(agents: int = 500, in_flight: int = 1500, plans: int = 2000, pacer: str = "predictive",
                 seed: int = 1) -> dict:
    """Time ``plans`` consecutive plan() calls on the floor described; milliseconds."""
    rng = np.random.default_rng(seed)
    p = make_pacer(pacer)
    t = _teach(p, rng, agents, 0.0, live=0.08)
    p.observe(HistorySummary(t=t, live_answers=100_000, abandoned=2_000))  # a campaign with budget to spend
    for i in range(agents):  # nearly everyone busy, at elapsed times spread over a handle
        since = t - rng.uniform(0, 300)
        u = rng.random()
        state = "talking" if u < 0.85 else "wrap" if u < 0.97 else "ready"
        p.observe(AgentState(t=since, agent_id=f"a{i}", state=state))
    for j in range(in_flight):
        p.observe(CallPlaced(t=t - rng.uniform(0, 25), call_id=f"f{j}"))
    p.plan(t)  # first plan fits the curves; the timed stretch then includes refits at their real rate
    times = np.empty(plans)
    counts = []
    for k in range(plans):
        now = t + 0.05 * (k + 1)
        t0 = time.perf_counter()
        counts.append(p.plan(now))
        times[k] = time.perf_counter() - t0
    ms = times * 1000.0
    return {"pacer": pacer, "agents": agents, "calls_in_flight": in_flight, "plans": plans,
            "mean_ms": float(ms.mean()), "p50_ms": float(np.median(ms)), "p99_ms": float(np.quantile(ms, 0.99)),
            "max_ms": float(ms.max()), "mode": p.explain()["mode"], "last_n": int(counts[-1])}
