"""``explain()["sentence"]``: one plain sentence for the floor manager, naming what holds the pacer back."""

from __future__ import annotations

import pytest

from dialer.pacing import PACER_NAMES, AgentState, CallPlaced, HistorySummary, make_pacer


@pytest.mark.parametrize("name", PACER_NAMES)
def test_every_pacer_explains_itself_in_one_plain_sentence(name: str) -> None:
    p = make_pacer(name)
    assert p.explain()["sentence"].endswith(".")
    for i in range(4):
        p.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    p.observe(CallPlaced(t=0.0, call_id="c"))
    n = p.plan(1.0)
    s = p.explain()["sentence"]
    assert ". " not in s and s.endswith(".") and "α" not in s and "_" not in s
    assert (f"Placing {n} call" in s) if n else ("no new calls" in s or "Not dialing" in s)


def test_the_sentence_says_why_nothing_is_dialed() -> None:
    p = make_pacer("predictive")
    p.plan(0.0)
    assert p.explain()["sentence"] == "Not dialing: no agent is logged in and unpaused."
    p.observe(AgentState(t=0.0, agent_id="a", state="ready"))
    p.observe(AgentState(t=0.0, agent_id="b", state="ready"))
    p.plan(1.0)
    assert "with so few agents" in p.explain()["sentence"]


def test_a_spent_budget_is_named_with_the_rate_and_target() -> None:
    p = make_pacer("predictive")
    p.observe(HistorySummary(t=0.0, live_answers=1000, abandoned=31))
    for i in range(5):
        p.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    p.plan(1.0)
    s = p.explain()["sentence"]
    assert s == ("Placing 5 calls now (5 agents ready, 0 calls ringing); the 30-day abandon budget is spent "
                 "(3.1 % of 3 %), so it dials one call per ready agent.")


def test_the_target_reads_as_the_manager_set_it() -> None:
    """The console shows a target as set (3 %, 2.5 %); the sentence beside it said 3.0 %."""
    from dialer.pacing.sentence import sentence

    d = {"n": 0, "held_by": "budget", "abandon_budget_left": 1.2, "abandon_rate_30d": 0.0248}
    assert sentence(d, 0.025).endswith("(1.2 abandons left at 2.5 % of 2.5 %).")
    assert sentence(d, 0.01).endswith("at 2.5 % of 1 %).")
