"""The abandon rate the reports show and the one the pacer controls agree on the same call log.

A seeded log of a few hundred calls (every outcome, over the last four weeks, plus old calls outside the
30-day window) is stored as calls and fed, as the dial loop would, to the predictive pacer as events.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.reports.catalog import run_report
from campaigns.reports.history import abandon_history
from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, make_pacer
from tests.campaigns.reports.support import add_call

OUTCOMES = ["completed"] * 30 + ["abandoned"] * 3 + ["no_answer"] * 35 + ["busy"] * 10 + ["failed"] * 2 + \
    ["machine"] * 20


def call_log(now, n=400, seed=11):
    """``(placed, outcome, answer_after, talk)``: recent calls inside the window and a few far older ones."""
    rng = random.Random(seed)
    log = []
    for i in range(n):
        days_ago = rng.uniform(45, 60) if i % 25 == 0 else rng.uniform(0.1, 24)
        placed = now - timedelta(days=days_ago)
        log.append((placed, rng.choice(OUTCOMES), rng.uniform(4, 20), rng.uniform(20, 300)))
    return sorted(log)


@pytest.mark.parametrize("pacer_name", ["predictive", "progressive"])
def test_report_and_pacer_abandon_rates_agree(sessions, clock, pacer_name):
    now = clock.now()
    log = call_log(now)
    pacer = make_pacer(pacer_name, target_abandon_rate=0.03)
    pacer.observe(AgentState(t=(now - timedelta(days=70)).timestamp(), agent_id="7", state="ready"))
    with sessions.begin() as s:
        cid = create_campaign(s, "Agree", "+12125550100", now).id
        agent = Agent(name="agree-agent", campaign_id=cid)
        s.add(agent)
        s.flush()
        for i, (placed, outcome, answer_after, talk) in enumerate(log):
            answered = placed + timedelta(seconds=answer_after)
            connected = answered if outcome == "completed" else None
            ended = answered + timedelta(seconds=talk if outcome == "completed" else 2)
            add_call(s, cid, None, None, 1, placed, outcome=outcome, connected=connected,
                     agent_id=agent.id if connected else None, ended=ended,
                     answered=answered if outcome in ("completed", "abandoned", "machine") else None)
            cid_s = f"c{i}"
            pacer.observe(CallPlaced(t=placed.timestamp(), call_id=cid_s))
            if outcome in ("completed", "abandoned", "machine"):
                pacer.observe(CallAnswered(t=answered.timestamp(), call_id=cid_s,
                                           answered_by="machine" if outcome == "machine" else "human"))
            if connected:
                pacer.observe(CallConnected(t=connected.timestamp(), call_id=cid_s, agent_id="7"))
            pacer.observe(CallEnded(t=ended.timestamp(), call_id=cid_s, outcome=outcome))
            if connected:
                pacer.observe(AgentState(t=ended.timestamp(), agent_id="7", state="ready"))
    pacer.plan(now.timestamp())
    explained = pacer.explain()
    with sessions.begin() as s:
        live, abandoned = abandon_history(s, cid, now)
        day = run_report(s, "abandon", "Agree", now, now.date(), now.date()).payload()[-1]
    inside = [x for x in log if x[0] >= now - timedelta(days=30)]
    assert live == sum(1 for x in inside if x[1] in ("completed", "abandoned")) > 50
    assert abandoned == sum(1 for x in inside if x[1] == "abandoned") > 0
    assert explained["live_answers_30d"] == live
    assert explained["abandon_rate_30d"] == pytest.approx(abandoned / live, abs=1e-5)
    assert (day["live_answers_30d"], day["abandoned_30d"]) == (live, abandoned)
    assert day["abandon_rate_30d"] == pytest.approx(explained["abandon_rate_30d"], abs=1e-5)
