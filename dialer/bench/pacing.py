"""``dialer bench pacing``: docs/pacing.md §4's scenarios × every pacer × several seeds through the simulator.

Each run is the real dial loop on a virtual clock (``dialer.sim.run``), so the benchmark measures the product's
pacing end to end, not a model of it. Runs are independent and go to a process pool; seeds are common random
numbers (the simulator keys customers by seed, lead and attempt), so pacers meet the same people.

The default run is sized to finish in well under 30 minutes on two cores: 2 seeds × 1 day of 8 hours, the
500-agent floor for 2 hours and the 100-agent floor for 4. ``--full`` is the protocol of docs/pacing.md §4:
30 days × 20 seeds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from dialer.bench.pacing_metrics import RunMetrics, run_metrics
from dialer.bench.pacing_report import PRODUCT_SETTINGS, QUICK_HOURS
from dialer.pacing import PACER_NAMES
from dialer.sim import Scenario, load_scenario, run
from dialer.sim.scenario import Step
from dnc.errors import UserError

SCENARIO_DIR = Path(__file__).with_name("scenarios")


@dataclass(frozen=True)
class Job:
    path: str
    pacer: str
    seed: int
    days: int
    hours: float | None  # None: the scenario's own day length
    settings: tuple[tuple[str, object], ...] = ()  # on top of the product's own settings for the pacer


def scenario_files(selected: Iterable[str] = ()) -> list[Path]:
    """The shipped scenarios, or those named (by file, file stem or scenario name prefix such as "S1")."""
    shipped = sorted(SCENARIO_DIR.glob("*.toml"))
    wanted = list(selected)
    if not wanted:
        return shipped
    out: list[Path] = []
    for w in wanted:
        p = Path(w)
        if p.suffix == ".toml" and p.exists():
            out.append(p)
            continue
        key = w.lower()
        hits = [f for f in shipped if f.stem == w or f.stem.startswith(key + "_")
                or load_scenario(f).name.lower() == key or load_scenario(f).name.lower().startswith(key + "-")]
        if not hits:
            names = ", ".join(load_scenario(f).name for f in shipped)
            raise UserError(f"--scenario {w}: no such scenario file or shipped scenario (shipped: {names})")
        out.extend(h for h in hits if h not in out)
    return out


def with_days(sc: Scenario, days: int, hours: float | None) -> Scenario:
    """The scenario over ``days`` days; a step given for day 1 only is repeated every day, from the base share each
    morning (S6's 13:00 drop is a daily pattern, not a one-off)."""
    steps = sc.answering.steps
    if steps and days > 1 and all(s.day == 1 for s in steps):
        steps = steps + tuple(x for d in range(2, days + 1)
                              for x in (Step(d, 0.0, sc.outcomes.live), *(replace(s, day=d) for s in steps)))
    else:
        steps = tuple(s for s in steps if s.day <= days)
    r = replace(sc.run, days=days, **({"hours_per_day": hours} if hours else {}))
    return replace(sc, run=r, answering=replace(sc.answering, steps=steps))


def run_job(job: Job) -> RunMetrics:
    sc = with_days(load_scenario(job.path), job.days, job.hours)
    settings = {**PRODUCT_SETTINGS.get(job.pacer, {}), **dict(job.settings)}
    result = run(sc, pacer=job.pacer, pacer_settings=settings, seed=job.seed)
    return run_metrics(result, sc.name, sc.campaign.abandon_target)


def plan_jobs(files: list[Path], pacers: list[str], seeds: int, days: int, full: bool,
              hours: float | None) -> list[Job]:
    unknown = [p for p in pacers if p not in PACER_NAMES]
    if unknown:
        raise UserError(f"--pacer {unknown[0]}: unknown pacer; valid: {', '.join(PACER_NAMES)}")
    jobs = []
    for f in files:
        name = load_scenario(f).name
        h = hours if hours is not None else (None if full else QUICK_HOURS.get(name))
        jobs += [Job(str(f), p, s, days, h) for p in pacers for s in range(1, seeds + 1)]
    return jobs


FORECASTING = ("predictive", "talk-oracle", "eis", "threshold", "power", "ratio")  # the costly plans


def _cost(job: Job) -> float:
    sc = load_scenario(job.path)
    hours = job.hours or sc.run.hours_per_day
    return sc.agents.max_count * hours * job.days * (3.0 if job.pacer in FORECASTING else 1)


def run_jobs(jobs: list[Job], workers: int, progress: Callable[[str], None] | None = None) -> list[RunMetrics]:
    """Run every job in a pool of ``workers`` processes (biggest first, for balance); results in job order."""
    order = sorted(range(len(jobs)), key=lambda i: -_cost(jobs[i]))
    results: list[RunMetrics | None] = [None] * len(jobs)
    t0 = time.perf_counter()
    if workers <= 1:
        for k, i in enumerate(order, 1):
            results[i] = run_job(jobs[i])
            _report(progress, k, len(jobs), results[i], t0)
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_job, jobs[i]): i for i in order}
            for k, fut in enumerate(as_completed(futures), 1):
                results[futures[fut]] = fut.result()
                _report(progress, k, len(jobs), results[futures[fut]], t0)
    return [r for r in results if r is not None]


def _report(progress, k: int, total: int, m: RunMetrics, t0: float) -> None:
    if progress is not None:
        f = m.figures
        progress(f"[{k}/{total} {time.perf_counter() - t0:.0f}s] {m.scenario} {m.pacer} seed {m.seed}: "
                 f"occupancy {f['occupancy']:.3f}, abandon {f['abandon_rate']:.4f} ({f['wall_s']:.0f}s)")


def aggregate(runs: list[RunMetrics]) -> list[dict]:
    """One row per (scenario, pacer): means over seeds, worst cases, pooled wait and delay quantiles."""
    rows = []
    keys: list[tuple[str, str]] = []
    for r in runs:
        if (r.scenario, r.pacer) not in keys:
            keys.append((r.scenario, r.pacer))
    for scenario, pacer in keys:
        rs = [r for r in runs if r.scenario == scenario and r.pacer == pacer]
        f = [r.figures for r in rs]
        waits = np.concatenate([r.waits for r in rs])
        delays = np.concatenate([r.delays for r in rs])
        rows.append({
            "scenario": scenario, "pacer": pacer, "seeds": len(rs),
            "occupancy": _mean(f, "occupancy"),
            "occupancy_min": min(x["occupancy"] for x in f),
            "talk_min_per_agent_hour": _mean(f, "talk_min_per_agent_hour"),
            "abandon_rate": _mean(f, "abandon_rate"),
            "abandon_rate_max": max(x["abandon_rate"] for x in f),
            "abandon_rate_worst_day": max(x["abandon_rate_worst_day"] for x in f),
            "abandon_rate_worst_running": max(x["abandon_rate_worst_running"] for x in f),
            "share_seeds_over_3pct": sum(x["over_3pct"] for x in f) / len(f),
            "share_seeds_over_target": sum(x["over_target"] for x in f) / len(f),
            "share_days_over_target": sum(x["days_over_target"] for x in f) / max(sum(x["days"] for x in f), 1),
            "agent_wait_p50_s": _q(waits, 0.5), "agent_wait_p90_s": _q(waits, 0.9),
            "dials_per_agent_hour": _mean(f, "dials_per_agent_hour"),
            "connects_per_agent_hour": _mean(f, "connects_per_agent_hour"),
            "answer_to_agent_p50_s": _q(delays, 0.5), "answer_to_agent_p90_s": _q(delays, 0.9),
            "amd_hung_up_on_people": sum(x["amd_hung_up_on_people"] for x in f),
            "wall_s": sum(x["wall_s"] for x in f),
        })
    return rows


def _mean(f: list[dict], key: str) -> float:
    return float(np.mean([x[key] for x in f]))


def _q(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
