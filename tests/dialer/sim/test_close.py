"""The day's close in the batch simulator: dialing stops, and the agents on shift take the calls still ringing
before they go home, as a floor does when its campaign's hours close (the live worker's stop: test_live.py)."""

from __future__ import annotations

import numpy as np
import pytest

from dialer.sim import parse_scenario, run
from dialer.sim.result import SimResult

AGENTS = 20
DRAIN_BOUND_S = 90.0  # dialer.sim.runner.DRAIN_S: the agents wait at most this long for the last calls


def closing_floor(days: int = 1, seed: int = 3) -> dict:
    """Twenty agents on a power campaign dialing three lines each for a quarter of an hour: calls ring at the close
    (seed 3: three people answer after it; seeds 1 over two days: one, then two). A break falls around the close
    (jittered a minute either side of it) for every agent."""
    return {"name": "close", "seed": seed, "run": {"hours_per_day": 0.25, "days": days},
            "agents": {"count": AGENTS, "stagger_min": 1.0, "break_every_h": 0.245, "break_min": 1.0},
            "pacer": {"name": "power", "settings": {"k": 3.0}}}


def _covering(r: SimResult, t: float, *states: str) -> set[int]:
    """The agents in one of ``states`` (any state but offline when none is named) at virtual second ``t``."""
    a = r.agents
    mask = (a.start <= t) & (a.end > t)
    if states:
        mask &= np.isin(a.state, states)
    return {int(x) for x in a.agent_id[mask]}


def assert_the_floor_takes_the_last_calls(r: SimResult) -> int:
    """Each day: nobody on shift at the close goes home while a person can still answer one of the calls placed
    for them; a person answering after the close is abandoned only when no agent was free; the agents go home
    within the bound, and none starts a break or comes back after the close. Returns the answers after a close."""
    c, a = r.calls, r.agents
    late_answers = 0
    for d, (_, close) in enumerate(r.days):
        next_open = r.days[d + 1][0] if d + 1 < len(r.days) else np.inf
        on_shift = _covering(r, close - 1e-6)
        assert len(on_shift) == AGENTS, f"day {d + 1}: {len(on_shift)} agents on shift at the close"
        after = (c.answered >= close) & (c.answered < next_open) & (c.answered_by != "machine")
        late_answers += int(after.sum())
        for i in np.nonzero(after)[0]:
            t, outcome = float(c.answered[i]), str(c.outcome[i])
            gone = on_shift - _covering(r, t - 1e-6)  # going home as the answer is put through is fine
            assert not gone, (f"day {d + 1}: agents {sorted(gone)} went home before a person answered call "
                              f"{int(c.id[i])} {t - close:.1f} s after the close (its outcome: {outcome})")
            if outcome == "abandoned":
                free = _covering(r, t, "ready")
                assert not free, f"day {d + 1}: call {int(c.id[i])} abandoned with agents {sorted(free)} ready"
        late = (a.start >= close) & (a.start < next_open)
        assert not (late & (a.state == "paused")).any(), f"day {d + 1}: a break began after the close"
        ready_late = (a.state == "ready") & (a.end > close) & (a.start < next_open)
        assert (a.end[ready_late] <= close + DRAIN_BOUND_S + 1e-6).all(), f"day {d + 1}: agents kept waiting"
        for agent in on_shift:  # after the close an agent's periods run on without a gap: nobody logs back in
            mine = np.nonzero((a.agent_id == agent) & (a.end > close) & (a.start < next_open))[0]
            mine = mine[np.argsort(a.start[mine])]
            gaps = a.start[mine][1:] - a.end[mine][:-1]
            assert (np.abs(gaps) < 1e-6).all(), f"day {d + 1}: agent {agent} logged back in after the close"
    return late_answers


def test_the_agents_on_shift_take_the_calls_still_ringing_at_the_close():
    r = run(parse_scenario(closing_floor()))
    assert assert_the_floor_takes_the_last_calls(r) >= 3  # people did answer after the close
    c = r.calls
    assert not np.isnan(c.ended).any()
    late = (c.answered >= r.days[0][1]) & (c.answered_by != "machine")
    assert set(c.outcome[late]) == {"completed"} and not np.isnan(c.connected[late]).any()  # all put through


def test_every_day_closes_so_and_the_next_day_logs_in_again():
    r = run(parse_scenario(closing_floor(days=2, seed=1)))
    assert assert_the_floor_takes_the_last_calls(r) >= 3
    (_, close1), (open2, close2) = r.days
    assert len(_covering(r, open2 + 120, "ready", "talking", "wrap")) == AGENTS  # the whole floor back the next morning
    assert ((r.calls.placed >= open2) & (r.calls.placed < close2)).sum() > 100
    assert (r.agents.end <= close2 + 3600).all()  # everyone went home at the end


@pytest.mark.slow
def test_the_close_on_the_sql_store_as_in_memory(db_url):
    """The same run on the product's SQL store (SQLite, and PostgreSQL when configured) takes the same last calls."""
    sc = parse_scenario(closing_floor())
    r = run(sc, store="sql", database_url=db_url)
    assert assert_the_floor_takes_the_last_calls(r) >= 3
    m = run(sc)
    assert np.array_equal(r.calls.outcome, m.calls.outcome)
