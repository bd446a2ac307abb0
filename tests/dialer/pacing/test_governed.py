"""Power and ratio held to the 30-day abandon budget before it is spent (issue 14 finding 6)."""

from __future__ import annotations

import numpy as np

from dialer.loop.pacers import campaign_pacer
from dialer.loop.store import CampaignView
from dialer.pacing import AgentState, HistorySummary, make_pacer, pacer_settings
from dialer.sim import parse_scenario, run


def _floor(pacer, agents: int = 10) -> None:
    for i in range(agents):
        pacer.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))


def test_the_bare_rule_stays_the_library_default_and_hold_is_the_products() -> None:
    assert pacer_settings("power")["abandon_budget"].default == "off"
    bare, held = make_pacer("power", k=6), make_pacer("power", k=6, abandon_budget="hold")
    for p in (bare, held):
        _floor(p)
    assert bare.plan(1.0) == 60  # the formula, as the pacing contract fixes it
    assert held.plan(1.0) == 10  # nothing learned and no budget yet: one call per ready agent
    info = held.explain()
    assert info["rule_asks"] == 60 and info["budget_allows"] == 10 and "held to the abandon budget" in info["mode"]
    assert "one call per ready agent" in info["sentence"]


def test_a_spent_budget_holds_power_to_progressive() -> None:
    p = make_pacer("ratio", dial_level=3, abandon_budget="hold")
    p.observe(HistorySummary(t=0.0, live_answers=1000, abandoned=30))
    _floor(p, 4)
    assert p.plan(1.0) == 4
    assert "budget is spent" in p.explain()["sentence"]


def test_every_power_campaign_gets_the_budget() -> None:
    c = CampaignView(1, "c", "active", "power", 6.0, 0.03, None, "hangup", None, "+12125550100", None)
    assert campaign_pacer(c).settings["abandon_budget"] == "hold"


def _power_floor(agents: int, k: float, hold: str, minutes: float):
    sc = parse_scenario({"name": "overdial", "seed": 5, "run": {"hours_per_day": minutes / 60},
                         "agents": {"count": agents},
                         "pacer": {"name": "power", "settings": {"k": k, "abandon_budget": hold}}})
    result = run(sc)
    calls = result.calls
    # answered while the floor dialed: what the pacer did (before commit c514216 the simulator sent its agents home at
    # the close while calls still rang, and those answers were all abandoned)
    during = calls.answered < result.days[0][1]
    live = np.isin(calls.outcome, ("completed", "abandoned")) & during
    return int(((calls.outcome == "abandoned") & during).sum()), int(live.sum())


def test_power_6_on_50_agents_stays_under_the_cap_where_the_bare_rule_breaks_it() -> None:
    """The audit's case: k = 6 with 50 agents reached 12.7 % within two minutes of live dialing."""
    ab, live = _power_floor(50, 6.0, "off", 30)
    assert ab / live > 0.05
    ab, live = _power_floor(50, 6.0, "hold", 30)
    assert live > 100 and ab / live <= 0.03


def test_a_restarted_campaign_with_budget_to_spare_keeps_its_rule_while_the_forecasts_warm_up() -> None:
    p = make_pacer("power", k=4, abandon_budget="hold")
    p.observe(HistorySummary(t=0.0, live_answers=1000, abandoned=10))  # 20 abandons to spare
    _floor(p, 4)
    assert p.plan(1.0) == 16  # 12 extra calls at 25 % live: 3 abandons at worst, well inside the budget
    q = make_pacer("power", k=4, abandon_budget="hold")
    q.observe(HistorySummary(t=0.0, live_answers=1000, abandoned=28))  # 2 to spare: not enough
    _floor(q, 4)
    assert q.plan(1.0) == 4
