"""One seeded scenario through the SQL store (SQLite, and PostgreSQL when configured) and the memory store:
the same calls, outcomes, agents and dispositions, so the benchmark's memory runs speak for the product."""

from __future__ import annotations

import numpy as np
import pytest

from dialer.sim import parse_scenario, run

SCENARIO = {
    "name": "equivalence", "seed": 21,
    "run": {"hours_per_day": 0.3, "days": 2, "tick_s": 2.0},
    "list": {"size": 400, "retry_decay": 0.8},
    "campaign": {"retry_no_answer_s": 300, "retry_busy_s": 120, "retry_machine_s": 600, "max_attempts": 3,
                 "lines_per_agent": 3, "machine_action": "voicemail"},
    "amd": {"delay_s": 2.5, "human_as_machine": 0.1, "machine_as_human": 0.15},
    "agents": {"count": 4, "schedule": [{"hour": 0.15, "count": 6}], "break_every_h": 0.1, "break_min": 2,
               "stagger_min": 1, "logouts_per_hour": 2.0, "relogin_s": 60},
    "dispositions": {"SALE": 0.2, "NI": 0.5, "CALLBK": 0.2, "DNC": 0.1, "callback_after_h": 0.1},
    "pacer": {"name": "power", "settings": {"k": 2.5}},
}


@pytest.mark.slow
def test_memory_and_sql_stores_give_the_same_run(db_url):
    sc = parse_scenario(SCENARIO)
    mem = run(sc, store="memory")
    sql = run(sc, store="sql", database_url=db_url)
    a, b = mem.calls, sql.calls
    assert len(a) > 200
    outcomes = set(a.outcome)
    assert {"completed", "abandoned", "machine", "no_answer"} <= outcomes  # the scenario exercises every path
    assert {"SALE", "CALLBK", "DNC", "NOANS"} <= set(a.disposition)
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), name
    for name in mem.agents.__dataclass_fields__:
        x, y = getattr(mem.agents, name), getattr(sql.agents, name)
        assert np.array_equal(x, y), name
    assert mem.summary() == sql.summary()
    assert mem.loop == sql.loop
