"""``dialer bench pacing-week``: the fixed-rule modes (power, ratio) held to the 30-day abandon budget over a week.

Issue 14 finding 6: the law caps the campaign whatever mode a manager picks. Each run is the product's dial loop in
the simulator for a week of working days on a 3-, 5- and 20-agent floor (the shipped S2b, S2a and S1 scenarios),
with the modes' product settings (``abandon_budget = hold``) and the rule's setting given on the command line; the
week's abandon rate (the campaign's 30-day rate at the end of the week, since the campaign starts fresh) must stay
at or under 3 %. ``--bare`` adds the rule without the budget, for comparison.
"""

from __future__ import annotations

import time

import click

from dialer.cli.context import emit_json, table

FLOORS = ("S2-small-3", "S2-small-5", "S1-base-20")
LIMIT = 0.03


@click.command("pacing-week")
@click.option("--days", type=click.IntRange(1, 31), default=7, show_default=True, help="Working days per run.")
@click.option("--hours", type=click.FloatRange(0.1, 24), default=None,
              help="Hours per day (default: each scenario's own, 8).")
@click.option("--seeds", type=click.IntRange(1, 100), default=1, show_default=True)
@click.option("--k", "k", type=click.FloatRange(0.1, 20), default=2.0, show_default=True,
              help="Power: calls per ready agent.")
@click.option("--dial-level", type=click.FloatRange(0.0, 20), default=1.0, show_default=True,
              help="Ratio: calls per agent.")
@click.option("--floor", "floors", multiple=True, type=click.Choice(FLOORS),
              help="Only these floors (repeatable; default all three).")
@click.option("--bare", is_flag=True, help="Also run each rule without the abandon budget.")
@click.option("--workers", type=click.IntRange(1, 64), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_pacing_week(days: int, hours: float | None, seeds: int, k: float, dial_level: float,
                      floors: tuple[str, ...], bare: bool, workers: int | None, as_json: bool) -> None:
    """Power and ratio on 3-, 5- and 20-agent floors over a week: every run's abandon rate must stay <= 3 %."""
    from dialer.bench import pacing as bench

    t0 = time.perf_counter()
    files = bench.scenario_files(floors or FLOORS)
    variants = [("power", (("k", k),)), ("ratio", (("dial_level", dial_level),))]
    if bare:
        variants += [(p, s + (("abandon_budget", "off"),)) for p, s in variants]
    jobs = [bench.Job(str(f), p, seed, days, hours, s) for f in files for p, s in variants
            for seed in range(1, seeds + 1)]
    workers = workers or bench.default_workers()
    click.echo(f"{len(jobs)} runs of {days} day(s) on {workers} process(es)…", err=True)
    runs = bench.run_jobs(jobs, workers, lambda msg: click.echo(msg, err=True))
    rows = []
    for job, r in zip(jobs, runs, strict=True):
        f = r.figures
        held = dict(job.settings).get("abandon_budget", "hold") == "hold"
        rows.append({"floor": r.scenario, "mode": job.pacer, "setting": dict(job.settings).get(
            "k", dict(job.settings).get("dial_level")), "budget": "held" if held else "bare", "seed": job.seed,
            "occ %": round(100 * f["occupancy"], 1), "week aband %": round(100 * f["abandon_rate"], 2),
            "worst day %": round(100 * f["abandon_rate_worst_day"], 2),
            "ok": (f["abandon_rate"] <= LIMIT + 1e-12) if held else None})
    ok = all(r["ok"] for r in rows if r["ok"] is not None)
    out = {"config": {"days": days, "hours": hours, "seeds": seeds, "k": k, "dial_level": dial_level},
           "rows": rows, "all_held_within_3pct": ok, "wall_s": round(time.perf_counter() - t0, 1)}
    if as_json:
        emit_json(out)
        return
    click.echo(table(rows))
    click.echo(f"{'ok  ' if ok else 'MISS'} every held run's week abandon rate <= 3 %   ({out['wall_s']:.0f} s)")
