"""The plan's pacer after its warm-up: it must see the warm-up's floor as it ended, everyone gone home."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from dialer.planner.whatif import _warm_pacer
from dialer.sim import load_scenario

BASE = Path(__file__).resolve().parents[3] / "dialer" / "sim" / "scenarios" / "base.toml"


@pytest.mark.parametrize("seed", [1, 2])
def test_the_warm_up_hands_on_a_pacer_that_counts_no_agent_of_its_own_floor(seed):
    """The warm-up's last agent logs out after its last wrap, when no more turns come: a pacer never told counts
    that agent busy (coming free) into the plan's first minutes, an agent the plan's floor does not have."""
    sc = load_scenario(BASE)
    sc = replace(sc, agents=replace(sc.agents, count=6))
    pacer, first_call = _warm_pacer(sc, seed, None, {"target_abandon_rate": 0.03})
    assert first_call > 50  # it dialed
    assert pacer.logged_in == 0 and pacer.busy == 0 and pacer.staffed == 0
    assert pacer.in_flight == 0
