"""``dialer bench plan``: how long a staffing plan takes, and how close the planner comes to a known truth.

``--agents 100 --hours 8``: the one-day plan of a 100-agent campaign, timed from inputs to the table (the inputs
are the base floor's own figures, so no history needs writing first), with the CPU seconds each seed took (what
a loaded machine does not change much, unlike the wall time). ``--backtest``: a simulated campaign is
fitted on its first days and planned for the rest with the schedule it really had; contacts, closes and the day
the list ran dry are set beside the truth's.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import click

from campaigns.db import make_engine, session_factory
from dialer.cli.context import emit_json
from dialer.planner import DEFAULT_SEEDS
from dialer.planner.inputs import Fit, Inputs
from dialer.planner.service import Basis
from dialer.planner.whatif import Schedule, scenario_for, simulate, summarise
from dialer.schema.migrate import upgrade
from dialer.sim.scenario import Scenario

# a new campaign's rules (the defaults of campaigns.campaign.models.Campaign)
NEW_CAMPAIGN_RULES = {"pacing_mode": "predictive", "power_ratio": 2.0, "abandon_target": 0.03, "max_attempts": 5,
                      "retry_no_answer_s": 4 * 3600, "retry_busy_s": 1800, "retry_machine_s": 6 * 3600,
                      "max_lines": None, "machine_action": "hangup"}


def base_inputs(list_size: int) -> Inputs:
    """The base floor of docs/pacing.md §3 as measured inputs (what a long, steady history would show)."""
    sc = Scenario()
    o = sc.outcomes
    shares = {"live": o.live, "machine": o.machine, "no_answer": o.no_answer, "busy": o.busy, "failed": o.sit}
    now = datetime(2030, 1, 1, tzinfo=UTC)
    return Inputs("bench", "America/New_York", now, now, dials=100_000, shares=shares,
                  by_hour={h: {"dials": 10_000, **shares} for h in range(9, 17)},
                  ring_s={"pdd_s": sc.answer.pdd_s, "mean_s": sc.answer.human_mean_s,
                          "shape": sc.answer.human_shape, "samples": 25_000},
                  talk=Fit(tuple((c.weight, c.median_s, c.sigma) for c in sc.talk.components), sc.talk.mean_s,
                           25_000),
                  wrap=Fit(tuple((c.weight, c.median_s, c.sigma) for c in sc.agents.wrap.components),
                           sc.agents.wrap.mean_s, 25_000),
                  dispositions={"close": 0.10, "other": 0.80, "callback": 0.05, "dnc": 0.05}, contacts=25_000,
                  retry_decay=0.8, callable_leads=list_size)


@click.command("plan")
@click.option("--agents", type=click.IntRange(1, 2000), default=100, show_default=True)
@click.option("--hours", type=click.IntRange(1, 13), default=8, show_default=True)
@click.option("--seeds", type=click.IntRange(1, 16), default=DEFAULT_SEEDS, show_default=True)
@click.option("--backtest", is_flag=True, help="Instead: fit a simulated campaign's first days, plan the rest.")
@click.option("--bt-agents", type=int, default=10, show_default=True, help="Back-test floor size.")
@click.option("--bt-hours", type=int, default=4, show_default=True, help="Back-test hours a day.")
@click.option("--bt-days", type=int, default=8, show_default=True, help="Back-test days simulated in all.")
@click.option("--bt-fit-days", type=int, default=5, show_default=True, help="Days the planner fits on.")
@click.option("--bt-list", type=int, default=10_000, show_default=True, help="Back-test list size.")
@click.option("--bt-truth-seeds", type=click.IntRange(1, 16), default=4, show_default=True,
              help="Truth runs with the same parameters (the first is fitted); their mean is the expectation.")
@click.option("--bt-fit-seeds", type=click.IntRange(1, 16), default=1, show_default=True,
              help="Truth runs each fitted and planned as a campaign of its own (at most --bt-truth-seeds).")
@click.option("--database-url", "bench_url", default=None, help="Back-test database (default: a temporary SQLite).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_plan(agents: int, hours: int, seeds: int, backtest: bool, bt_agents: int, bt_hours: int, bt_days: int,
               bt_fit_days: int, bt_list: int, bt_truth_seeds: int, bt_fit_seeds: int, bench_url: str | None,
               as_json: bool) -> None:
    """Time a one-day plan (default 100 agents, 8 hours), or back-test the planner against a known truth."""
    if backtest:
        out = _backtest(bt_agents, bt_hours, bt_days, bt_fit_days, bt_list, seeds, bt_truth_seeds, bt_fit_seeds,
                        bench_url)
    else:
        basis = Basis(base_inputs(agents * hours * 60), dict(NEW_CAMPAIGN_RULES), (0, 0))
        schedule = Schedule(date(2030, 1, 8), 1, tuple((9 + h, agents) for h in range(hours)))
        t0, cpu0 = time.perf_counter(), time.process_time()
        scenario = scenario_for(basis.inputs, schedule, basis.campaign)
        runs = simulate(scenario, seeds)
        day = summarise(scenario, runs)["daily"][0]
        wall, parent = time.perf_counter() - t0, time.process_time() - cpu0
        cpu = [r["cpu_s"] for r in runs]
        if seeds == 1 or (os.cpu_count() or 1) == 1:  # the seeds ran in this process (simulate): counted once
            parent = max(0.0, parent - sum(cpu))
        # the parent's CPU: the warm-up the forked seeds share, the kernels' loading, the pool (0 if not forked)
        out = {"agents": agents, "hours": hours, "seeds": seeds, "cpus": os.cpu_count(), "wall_s": round(wall, 2),
               "cpu_s": round(sum(cpu) + parent, 1), "cpu_s_per_seed": [round(x, 1) for x in cpu],
               "cpu_s_parent": round(parent, 1),
               "load_average": round(os.getloadavg()[0], 2), "contacts": day["contacts"],
               "occupancy": day["occupancy"], "abandon": day["abandon"]}
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        if k != "inputs":
            click.echo(f"{k}: {v}")


def _backtest(agents: int, hours: int, days: int, fit_days: int, list_size: int, seeds: int, truth_seeds: int,
              fit_seeds: int, url: str | None) -> dict:
    from dialer.planner.backtest import backtest

    with tempfile.TemporaryDirectory(prefix="dialer-plan-bench-") as tmp:
        engine = make_engine(url or f"sqlite:///{Path(tmp) / 'backtest.sqlite3'}")
        upgrade(engine)
        t0 = time.perf_counter()
        out = backtest(session_factory(engine), agents=agents, hours=hours, days=days, fit_days=fit_days,
                       list_size=list_size, seeds=seeds, truth_seeds=truth_seeds, fit_seeds=fit_seeds)
        out["wall_s"] = round(time.perf_counter() - t0, 1)
        out["load_average"] = round(os.getloadavg()[0], 2)
        out["fit"]["dials"] = out.pop("inputs")["dials"]
        engine.dispose()
    return out
