"""By-agent reports list agents: the calls no agent took are shown apart, and the totals still add up.

The hand-built log of ``support.build_floor``: alice and bob took 6 of the 12 dials; the other 6 went to no agent
(a no answer, a busy, a failure, a machine and two abandons, one of them a keypress opt-out: a DNC request no agent
took). Every by-agent report must list exactly alice and bob; a report whose figures include calls no agent took
shows them in a row apart from the agents ("calls no agent took"), and its total is the agents plus that row: the
same total the report shows for the whole campaign. The console's CSV says the same rows in the same
order (``tests/web/test_console_reports_crosscheck.py``).
"""

from __future__ import annotations

import pytest

from campaigns.reports.catalog import REPORTS, run_report
from tests.campaigns.reports.support import build_floor

NOW_AT = "2030-01-09T15:00:00+00:00"
BY_AGENT = [name for name, spec in REPORTS.items() if "agent" in spec.groups] + ["agents", "agent-leaderboard"]
APART = "calls no agent took"


def _run(sessions, name: str, by: str | None):
    from datetime import datetime

    with sessions.begin() as s:
        return run_report(s, name, "Acme", datetime.fromisoformat(NOW_AT), "2030-01-07", "2030-01-08", by)


@pytest.mark.parametrize("name", BY_AGENT)
def test_by_agent_reports_list_agents_and_add_up(sessions, clock, name):
    with sessions.begin() as s:
        build_floor(s, clock)
    by = "agent" if REPORTS[name].groups else None
    rep = _run(sessions, name, by)
    assert sorted(r["agent"] for r in rep.rows) == ["alice", "bob"], \
        f"{name}: rows {[r['agent'] for r in rep.rows]} (calls no agent took are no agent's row)"
    counts = [c.key for c in rep.columns if c.kind == "int" and c.key != "rank"]
    if rep.total is None:
        return
    whole = _run(sessions, name, "campaign").rows[0] if REPORTS[name].groups else None
    apart = rep.apart or {}
    for key in counts:
        added = sum(r[key] or 0 for r in rep.rows) + (apart.get(key) or 0)
        assert rep.total[key] == added, f"{name}: total {key} {rep.total[key]} is not the rows' {added}"
        if whole is not None:
            assert rep.total[key] == whole[key], f"{name}: total {key} {rep.total[key]} != whole campaign {whole[key]}"


def test_the_keypress_opt_out_is_apart_in_the_dnc_report(sessions, clock):
    """DNC requests by agent: alice's DNC disposition is hers; the press-9 opt-out at the safe-harbor message is
    no agent's, shown apart; the total (2) is the campaign's (as ``--by day`` and ``--by campaign`` say)."""
    with sessions.begin() as s:
        build_floor(s, clock)
    rep = _run(sessions, "dnc", "agent")
    assert {r["agent"]: r["dnc_requests"] for r in rep.rows} == {"alice": 1, "bob": 0}
    assert rep.apart is not None and (rep.apart["agent"], rep.apart["dnc_requests"], rep.apart["keypress_optouts"]) \
        == (APART, 1, 1)
    assert (rep.total["dnc_requests"], rep.total["keypress_optouts"]) == (2, 1)


def test_agent_time_has_no_per_agent_dials(sessions, clock):
    """A dial belongs to no agent (the pacer places it; an agent gets only the answered ones): per agent the
    agent-time report shows no dials per agent-hour; its total keeps the campaign's (12 dials ÷ agent-hours)."""
    with sessions.begin() as s:
        build_floor(s, clock)
    rep = _run(sessions, "agent-time", "agent")
    assert [r["dials_per_agent_hour"] for r in rep.rows] == [None, None]
    whole = _run(sessions, "agent-time", "campaign").rows[0]
    assert rep.total["dials_per_agent_hour"] == pytest.approx(whole["dials_per_agent_hour"])
