"""The ``dialer bench pacing`` command (registered on the ``bench`` group in ``dialer/cli/bench.py``)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from dialer.bench import pacing_report as defaults
from dialer.bench.pacing_report import check_targets, plot, table_rows
from dialer.cli.context import emit_json, table


@click.command("pacing")
@click.option("--scenario", "scenarios", multiple=True, metavar="NAME|FILE",
              help="Only these scenarios (shipped name prefix such as S1 or S5-talk, or a scenario file); "
                   "repeatable. Default: all ten of docs/pacing.md §4.")
@click.option("--pacer", "pacers", multiple=True, metavar="NAME",
              help=f"Only these pacers; repeatable. Default: {', '.join(defaults.PACERS)}.")
@click.option("--seeds", type=click.IntRange(1, 1000), default=None,
              help=f"Seeds per scenario and pacer (default {defaults.DEFAULT_SEEDS}; --full: {defaults.FULL_SEEDS}).")
@click.option("--days", type=click.IntRange(1, 366), default=None,
              help=f"Days per run (default {defaults.DEFAULT_DAYS}; --full: {defaults.FULL_DAYS}).")
@click.option("--hours", type=click.FloatRange(0.1, 24), default=None,
              help="Hours per day for every scenario (default: each scenario's own; the big floors are shortened "
                   "unless --full).")
@click.option("--full", is_flag=True, help="docs/pacing.md §4 protocol: 30 days x 20 seeds, full days everywhere.")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Processes running simulations at once (default: the CPU count).")
@click.option("--plot", "plot_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Where to write the occupancy-against-abandon PNG (default: var/bench/pacing.png).")
@click.option("--save", "save_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the full JSON report (every run) to this file.")
@click.option("--no-latency", is_flag=True, help="Skip the plan() latency measurement.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_pacing(scenarios: tuple[str, ...], pacers: tuple[str, ...], seeds: int | None, days: int | None,
                 hours: float | None, full: bool, workers: int | None, plot_path: Path | None,
                 save_path: Path | None, no_latency: bool, as_json: bool) -> None:
    """docs/pacing.md §4: every scenario x pacer x seed through the simulator; occupancy, abandon, waits, dials."""
    from dialer.bench import pacing as bench
    from dialer.bench.pacing_latency import plan_latency

    t0 = time.perf_counter()
    files = bench.scenario_files(scenarios)
    seeds = seeds or (defaults.FULL_SEEDS if full else defaults.DEFAULT_SEEDS)
    days = days or (defaults.FULL_DAYS if full else defaults.DEFAULT_DAYS)
    jobs = bench.plan_jobs(files, list(pacers or defaults.PACERS), seeds, days, full, hours)
    workers = workers or bench.default_workers()
    click.echo(f"{len(jobs)} runs ({len(files)} scenarios, {seeds} seeds, {days} day(s)) on {workers} "
               f"process(es)…", err=True)
    runs = bench.run_jobs(jobs, workers, lambda msg: click.echo(msg, err=True))
    rows = bench.aggregate(runs)
    latency = None if no_latency else plan_latency()
    per_run = [r.to_dict() for r in runs]
    targets = check_targets(rows, per_run, latency)
    png = plot(rows, plot_path or Path("var/bench/pacing.png"))
    out = {"config": {"scenarios": [str(f) for f in files], "pacers": list(pacers or defaults.PACERS),
                      "seeds": seeds, "days": days, "hours": hours, "full": full, "workers": workers},
           "rows": rows, "targets": targets, "plan_latency": latency, "plot": str(png),
           "wall_s": round(time.perf_counter() - t0, 1)}
    if save_path is not None:
        save_path.parent.mkdir(parents=True, exist_ok=True)
        save_path.write_text(json.dumps({**out, "runs": per_run}, indent=1, default=str), encoding="utf-8")
    if as_json:
        emit_json(out)
        return
    click.echo(table(table_rows(rows)))
    click.echo("")
    for c in targets:
        mark = {True: "ok  ", False: "MISS", None: "n/a "}[c["ok"]]
        click.echo(f"{mark} {c['target']}: {c['value']}")
        for d in c.get("detail") or []:
            click.echo(f"       over: {d}")
    if latency is not None:
        click.echo(f"plan() at {latency['agents']} agents / {latency['calls_in_flight']} in flight: "
                   f"mean {latency['mean_ms']:.3f} ms, p50 {latency['p50_ms']:.3f} ms, p99 {latency['p99_ms']:.2f} "
                   f"ms, max {latency['max_ms']:.1f} ms over {latency['plans']} plans")
    click.echo(f"plot: {png}   ({out['wall_s']:.0f} s)")
