"""The pacing contract for every named pacer: any event order a real floor produces, plain non-negative ints,
paused/offline agents never available, settings checked by name."""

from __future__ import annotations

import random

import pytest

from dialer.pacing import (
    PACER_NAMES,
    AgentState,
    AgentWillBeFree,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallPlaced,
    HistorySummary,
    PacerSettingError,
    make_pacer,
)
from dnc.errors import UserError


def _is_count(n) -> bool:
    return type(n) is int and n >= 0


def _floor_events(rng: random.Random, n_agents: int, n_calls: int) -> list:
    """A plausible floor's events, then shuffled locally and sprinkled with duplicates and strays."""
    evs: list = [AgentState(t=0.0, agent_id=f"a{i}", state="ready") for i in range(n_agents)]
    t = 0.0
    for c in range(n_calls):
        t += rng.uniform(0.1, 3.0)
        cid = f"c{c}"
        evs.append(CallPlaced(t=t, call_id=cid))
        r = rng.random()
        if r < 0.3:
            ta = t + rng.uniform(2, 20)
            agent = f"a{rng.randrange(n_agents)}"
            evs += [CallAnswered(t=ta, call_id=cid, answered_by="human"),
                    CallConnected(t=ta + 0.5, call_id=cid, agent_id=agent),
                    AgentState(t=ta + 0.6, agent_id=agent, state="talking"),
                    CallEnded(t=ta + 60, call_id=cid, outcome="completed"),
                    AgentState(t=ta + 60, agent_id=agent, state="wrap"),
                    AgentState(t=ta + 70, agent_id=agent, state="ready")]
        elif r < 0.4:
            ta = t + rng.uniform(2, 20)
            evs += [CallAnswered(t=ta, call_id=cid, answered_by="human"),
                    CallEnded(t=ta + 2, call_id=cid, outcome="abandoned")]
        elif r < 0.6:
            evs += [CallAnswered(t=t + 5, call_id=cid, answered_by="machine"),
                    CallEnded(t=t + 6, call_id=cid, outcome="machine")]
        else:
            evs.append(CallEnded(t=t + rng.uniform(2, 25), call_id=cid,
                                 outcome=rng.choice(["no_answer", "busy", "failed"])))
    evs.sort(key=lambda e: e.t)
    for _ in range(len(evs) // 10):  # local reordering, duplicates, strays
        i = rng.randrange(len(evs) - 1)
        evs[i], evs[i + 1] = evs[i + 1], evs[i]
        evs.insert(rng.randrange(len(evs)), evs[rng.randrange(len(evs))])
    evs += [CallEnded(t=t, call_id="never-placed", outcome="abandoned"),
            CallConnected(t=t, call_id="ghost", agent_id="a0"),
            CallAnswered(t=t, call_id="ghost2", answered_by="human"),
            AgentWillBeFree(t=t, agent_id="a1", free_at=t + 30),
            HistorySummary(t=t, live_answers=1000, abandoned=20)]
    return evs


@pytest.mark.parametrize("name", PACER_NAMES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_event_order_gives_plain_non_negative_counts(name: str, seed: int) -> None:
    rng = random.Random(seed)
    pacer = make_pacer(name)
    for i, ev in enumerate(_floor_events(rng, n_agents=6, n_calls=300)):
        pacer.observe(ev)
        if i % 3 == 0:
            n = pacer.plan(ev.t)
            assert _is_count(n), (ev, n)
            info = pacer.explain()
            assert info["n"] == n and isinstance(info["mode"], str)
            assert info["calls_in_flight"] >= 0 and info["answered_waiting"] >= 0
            assert info["agents_ready"] >= 0 and info["agents_busy"] >= 0


@pytest.mark.parametrize("name", PACER_NAMES)
def test_paused_and_offline_agents_are_never_available(name: str) -> None:
    pacer = make_pacer(name)
    for i in range(10):
        pacer.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    for i in range(10):
        pacer.observe(AgentState(t=1.0, agent_id=f"a{i}", state="paused" if i % 2 else "offline"))
    for t in (1.0, 2.0, 50.0, 5000.0):
        assert pacer.plan(t) == 0
    assert pacer.explain()["agents_ready"] == 0


@pytest.mark.parametrize("name", [n for n in PACER_NAMES if n != "preview"])
def test_ready_agents_get_calls_and_a_stale_ready_does_not_undo_a_connect(name: str) -> None:
    pacer = make_pacer(name)
    pacer.observe(AgentState(t=0.0, agent_id="a", state="ready"))
    assert pacer.plan(1.0) >= 1
    pacer.observe(CallPlaced(t=1.0, call_id="c"))
    pacer.observe(CallConnected(t=9.0, call_id="c", agent_id="a"))  # before its "talking" and its answer
    pacer.observe(AgentState(t=0.5, agent_id="a", state="ready"))  # stale duplicate arriving late
    assert pacer.explain()["agents_ready"] == 1  # explain is of the last plan (t=1, a ready), not of the events since
    pacer.plan(10.0)
    assert pacer.explain()["agents_ready"] == 0
    if name in ("progressive", "power"):
        assert pacer.plan(10.0) == 0  # nobody ready, nothing to dial for


def test_progressive_counts_ready_minus_in_flight() -> None:
    p = make_pacer("progressive")
    for i in range(5):
        p.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
    p.observe(AgentState(t=0.0, agent_id="x", state="paused"))
    assert p.plan(0.0) == 5
    p.observe(CallPlaced(t=0.0, call_id="1"))
    p.observe(CallPlaced(t=0.0, call_id="2"))
    p.observe(CallPlaced(t=0.0, call_id="2"))  # duplicate
    assert p.plan(0.5) == 3
    p.observe(CallAnswered(t=1.0, call_id="1", answered_by="human"))
    assert p.plan(1.0) == 3  # the waiting call still needs its agent
    p.observe(CallEnded(t=2.0, call_id="2", outcome="busy"))
    p.observe(CallEnded(t=2.0, call_id="2", outcome="busy"))
    assert p.plan(2.0) == 4


def test_power_and_ratio_follow_their_formulas() -> None:
    p = make_pacer("power", k=2.5)
    r = make_pacer("ratio", dial_level=1.5)
    for pacer in (p, r):
        for i in range(4):
            pacer.observe(AgentState(t=0.0, agent_id=f"a{i}", state="ready"))
        pacer.observe(CallPlaced(t=0.0, call_id="x"))
        pacer.observe(CallConnected(t=1.0, call_id="x", agent_id="a0"))
        pacer.observe(CallPlaced(t=1.0, call_id="y"))
    assert p.plan(2.0) == 6  # floor(2.5*3 - 1 ringing)
    assert r.plan(2.0) == 4  # round(1.5*4) = 6, minus 1 ringing and 1 connected


@pytest.mark.parametrize("bad", [{"no_such_setting": 1}, {"target_abandon_rate": "lots"},
                                 {"target_abandon_rate": -1}, {"target_abandon_rate": float("nan")}])
@pytest.mark.parametrize("name", PACER_NAMES)
def test_bad_settings_raise_a_clear_error(name: str, bad: dict) -> None:
    with pytest.raises(PacerSettingError) as e:
        make_pacer(name, **bad)
    assert isinstance(e.value, ValueError) and isinstance(e.value, UserError)
    assert next(iter(bad)) in str(e.value)


def test_unknown_pacer_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="progressive"):
        make_pacer("telepathic")


def test_settings_accept_plain_strings_and_ints() -> None:
    p = make_pacer("power", k="3", target_abandon_rate="0.02")
    assert p.settings["k"] == 3.0 and p.target == 0.02


def test_events_reject_wrong_values_at_construction() -> None:
    with pytest.raises(ValueError, match="state"):
        AgentState(t=0.0, agent_id="a", state="lunch")
    with pytest.raises(ValueError, match="outcome"):
        CallEnded(t=0.0, call_id="c", outcome="dropped")
    with pytest.raises(ValueError, match="t"):
        CallPlaced(t="now", call_id="c")
    assert CallPlaced(t=3, call_id="c").t == 3.0 and isinstance(CallPlaced(t=3, call_id="c").t, float)


def test_ledger_counts_each_live_answer_once_and_keeps_history() -> None:
    p = make_pacer("progressive")
    p.observe(HistorySummary(t=0.0, live_answers=100, abandoned=2))
    p.observe(CallPlaced(t=0.0, call_id="c"))
    p.observe(CallAnswered(t=5.0, call_id="c", answered_by="human"))
    p.observe(CallAnswered(t=5.0, call_id="c", answered_by="human"))
    p.observe(CallEnded(t=7.0, call_id="c", outcome="abandoned"))
    p.observe(CallEnded(t=7.0, call_id="c", outcome="abandoned"))
    p.observe(AgentState(t=7.0, agent_id="a", state="ready"))
    p.plan(8.0)
    info = p.explain()
    assert info["live_answers_30d"] == 101
    assert info["abandon_rate_30d"] == pytest.approx(3 / 101, abs=1e-4)
    p.plan(31 * 86_400.0)  # a month later the seeded history and the abandon have aged out
    assert p.explain()["live_answers_30d"] == 0


def test_a_late_machine_verdict_takes_the_live_answer_back() -> None:
    p = make_pacer("progressive")
    p.observe(AgentState(t=0.0, agent_id="a", state="ready"))
    p.observe(CallPlaced(t=0.0, call_id="m"))
    p.observe(CallAnswered(t=5.0, call_id="m", answered_by="human"))  # "unknown" at answer: treated as a person
    p.observe(CallConnected(t=5.0, call_id="m", agent_id="a"))
    p.observe(CallEnded(t=7.5, call_id="m", outcome="machine"))  # AMD decided 2.5 s later
    p.plan(8.0)
    assert p.explain()["live_answers_30d"] == 0
