"""The VICIdial ADAPT_* port follows the paraphrased Perl (docs/vicidial.md §1.6)."""

from __future__ import annotations

import pytest

from dialer.pacing import AgentState, CallAnswered, CallConnected, CallEnded, CallPlaced, make_pacer


def floor(pacer, ready: int, talking: int, t: float = 0.0) -> None:
    for i in range(ready):
        pacer.observe(AgentState(t=t, agent_id=f"r{i}", state="ready"))
    for i in range(talking):
        pacer.observe(CallPlaced(t=t, call_id=f"k{i}"))
        pacer.observe(CallConnected(t=t, call_id=f"k{i}", agent_id=f"b{i}"))


def test_level_starts_at_one_and_rises_while_agents_sit_ready() -> None:
    p = make_pacer("vicidial-adaptive")
    floor(p, ready=5, talking=5)
    assert p.plan(0.0) == 5  # round(1.0 * 10) - 5 connected
    for s in range(1, 16):
        p.plan(float(s))
    # 15 samples of R=5, W=0, A=10: m = 0.5, level 1.0 -> 1.5
    assert p.explain()["dial_level"] == pytest.approx(1.5)
    assert p.plan(15.5) == 10  # round(1.5 * 10) - 5


def test_level_is_clamped_to_the_maximum_and_intensity_speeds_it_up() -> None:
    slow = make_pacer("vicidial-adaptive")
    fast = make_pacer("vicidial-adaptive", adaptive_intensity=40)
    for p in (slow, fast):
        floor(p, ready=5, talking=5)
        for s in range(0, 16):
            p.plan(float(s))
    assert fast.explain()["dial_level"] == pytest.approx(1.7)
    assert slow.explain()["dial_level"] == pytest.approx(1.5)
    for s in range(16, 200):
        slow.plan(float(s))
    assert slow.explain()["dial_level"] == pytest.approx(3.0)


def _drops(p, t: float, calls: int, drops: int) -> None:
    for i in range(calls):
        cid = f"d{t}-{i}"
        p.observe(CallPlaced(t=t, call_id=cid))
        p.observe(CallAnswered(t=t + 1, call_id=cid, answered_by="human"))
        p.observe(CallEnded(t=t + 2, call_id=cid, outcome="abandoned" if i < drops else "completed"))


@pytest.mark.parametrize(("method", "expect"), [("ADAPT_AVERAGE", 1.5), ("ADAPT_HARD_LIMIT", 1.0)])
def test_daily_drop_limit(method: str, expect: float) -> None:
    p = make_pacer("vicidial-adaptive", dial_method=method, dial_level=3.0)
    floor(p, ready=0, talking=10, t=3600.0)
    _drops(p, 3600.0, calls=60, drops=3)  # over 3 % of today's answers dropped, over 50 calls today
    for s in range(0, 60):
        p.plan(3610.0 + s)
    assert p.explain()["dial_level"] == pytest.approx(3.0)  # the drop stats refresh only every 60 s
    p.plan(3670.0)
    assert p.explain()["dial_level"] == pytest.approx(expect)
    assert p.explain()["drops_answers_today_pct"] == pytest.approx(100 * 3 / 70, abs=1e-3)  # +10 on the floor


def test_under_fifty_calls_only_the_one_minute_panic_rule_applies() -> None:
    calm = make_pacer("vicidial-adaptive", dial_level=2.0)
    panic = make_pacer("vicidial-adaptive", dial_level=2.0)
    for p, drops in ((calm, 10), (panic, 20)):
        floor(p, ready=0, talking=10, t=0.0)
        _drops(p, 0.0, calls=30, drops=drops)
        for s in range(0, 61):
            p.plan(float(s))
    assert calm.explain()["dial_level"] == pytest.approx(2.0)  # 33 % dropped: under the 50 % panic line
    assert panic.explain()["dial_level"] == pytest.approx(1.0)  # 67 % of the last minute's calls: halved


def test_threshold_agents_force_level_one() -> None:
    p = make_pacer("vicidial-adaptive", dial_level=3.0, dial_level_threshold_agents=20)
    floor(p, ready=5, talking=5)
    assert p.plan(0.0) == 5  # level forced to 1 with 10 < 20 agents
