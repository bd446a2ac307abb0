"""Erlang B and C against published traffic tables and textbook closed forms (docs/planner.md cites them)."""

import math

import pytest

from dialer.planner.erlang import agents_for, erlang_b, erlang_c, load_of, staffing, table
from dnc.errors import UserError

# Erlang B traffic table: the load (Erlangs) that N trunks carry at a given blocking probability, to the
# three significant figures such tables print.
ERLANG_B_TABLE = {
    0.01: {1: 0.0101, 2: 0.153, 3: 0.455, 4: 0.869, 5: 1.36, 10: 4.46, 20: 12.0, 30: 20.3, 40: 29.0, 50: 37.9,
           100: 84.1},
    0.001: {10: 3.09, 20: 9.41, 50: 32.5, 100: 75.2},
    0.05: {10: 6.22, 20: 15.2, 50: 44.5, 100: 95.2},
}


def _load_at(agents: int, blocking: float) -> float:
    lo, hi = 0.0, 2.0 * agents
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if erlang_b(agents, mid) < blocking else (lo, mid)
    return lo


@pytest.mark.parametrize("blocking,agents,load", [(b, n, a) for b, row in ERLANG_B_TABLE.items()
                                                    for n, a in row.items()])
def test_erlang_b_matches_the_published_table_to_its_precision(blocking, agents, load):
    digits = 3 - int(math.floor(math.log10(load))) - 1
    assert round(_load_at(agents, blocking), digits) == pytest.approx(load)


def test_erlang_c_matches_the_closed_forms_of_one_and_two_servers():
    for rho in (0.1, 0.5, 0.9):
        assert erlang_c(1, rho) == pytest.approx(rho)  # M/M/1: a caller waits exactly when the one agent is busy
        assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho ** 2 / (1 + rho))  # M/M/2


def test_service_level_and_asa_follow_from_the_waiting_probability():
    s = staffing(55, load_of(360, 1800, 240), 240, 15)  # 360 calls per half hour, 4-minute calls, 55 agents
    assert s.load == pytest.approx(48.0)
    assert s.occupancy == pytest.approx(48 / 55)
    assert s.asa_s == pytest.approx(s.p_wait * 240 / 7)
    assert s.service_level == pytest.approx(1 - s.p_wait * math.exp(-7 * 15 / 240))
    assert 0.2 < s.p_wait < 0.3 and 8.0 < s.asa_s < 8.4


def test_finite_and_monotone_from_one_to_a_thousand_agents():
    for load in (0.5, 9.7, 97.0, 480.0, 990.0):
        rows = table(load, 180, 20, 1, 1000)
        waits = [r.p_wait for r in rows]
        levels = [r.service_level for r in rows]
        assert all(math.isfinite(w) and 0 <= w <= 1 for w in waits)
        assert all(a >= b for a, b in zip(waits, waits[1:], strict=False))  # more agents never make callers wait more
        assert all(a <= b for a, b in zip(levels, levels[1:], strict=False))
        asas = [r.asa_s for r in rows if r.agents > load]
        assert all(a >= b for a, b in zip(asas, asas[1:], strict=False))


def test_agents_for_is_the_fewest_that_meet_the_goal():
    s = agents_for(48.0, 240, service_level=0.8, target_s=15, max_occupancy=1.0)
    assert s.service_level >= 0.8
    assert staffing(s.agents - 1, 48.0, 240, 15).service_level < 0.8


def test_the_occupancy_cap_adds_agents_the_service_level_alone_would_not():
    loose = agents_for(900.0, 300, service_level=0.8, target_s=20, max_occupancy=1.0)
    capped = agents_for(900.0, 300, service_level=0.8, target_s=20, max_occupancy=0.85)
    assert capped.agents == math.ceil(900 / 0.85) > loose.agents
    assert capped.occupancy <= 0.85


def test_an_overloaded_floor_waits_for_ever_and_bad_goals_are_named():
    s = staffing(10, 12.0, 180, 20)
    assert s.p_wait == 1.0 and s.asa_s == math.inf and s.service_level == 0.0
    with pytest.raises(UserError, match="service level"):
        agents_for(10, 180, service_level=1.5)
    with pytest.raises(UserError, match="load"):
        erlang_c(3, float("nan"))
