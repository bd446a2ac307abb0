"""``dialer simulate`` (a scenario in virtual time) and ``dialer run`` (the dialing worker in wall-clock time)."""

from __future__ import annotations

from pathlib import Path

import click

from dialer.cli.context import emit_json, table
from dialer.sim.load import SHIPPED_SCENARIOS
from dnc.errors import UserError


def _setting(raw: str) -> tuple[str, object]:
    key, sep, value = raw.partition("=")
    if not sep or not key.strip():
        raise UserError(f"--setting {raw!r}: write NAME=VALUE, e.g. --setting k=2.5")
    value = value.strip()
    for cast in (int, float):
        try:
            return key.strip(), cast(value)
        except ValueError:
            pass
    return key.strip(), value


@click.command("simulate")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help=f"Scenario file (TOML; see the README). Shipped: {SHIPPED_SCENARIOS}.")
@click.option("--pacer", default=None, help="Pacer name (default: the scenario's [pacer] name).")
@click.option("--setting", "settings", multiple=True, metavar="NAME=VALUE",
              help="A pacer setting (repeatable); replaces the scenario's [pacer] settings.")
@click.option("--seed", type=int, default=None, help="Random seed (default: the scenario's). Same seed, same run.")
@click.option("--store", type=click.Choice(["memory", "sql"]), default="memory", show_default=True,
              help="memory: fast; sql: the product's SQL store on a temporary SQLite file (slow).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def simulate(scenario_path: Path, pacer: str | None, settings: tuple[str, ...], seed: int | None, store: str,
             as_json: bool) -> None:
    """Run the real dial loop on a scenario in virtual time and report occupancy, abandons and waits."""
    from dialer.sim import load_scenario, run

    scenario = load_scenario(scenario_path)
    pacer_settings = dict(_setting(s) for s in settings) if settings else None
    result = run(scenario, pacer=pacer, pacer_settings=pacer_settings, seed=seed, store=store)
    out = result.to_dict()
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['scenario']}: pacer {out['pacer']} {out['pacer_settings']}, seed {out['seed']}, "
               f"{out['days']} day(s), {out['calls']:,} calls, {out['events']:,} events in {out['wall_s']:.2f} s")
    keys = ["dials", "live_answers", "connected", "abandoned", "abandon_rate", "abandon_rate_worst_day",
            "amd_hung_up_on_people", "agent_hours", "occupancy", "talk_min_per_agent_hour", "dials_per_agent_hour",
            "wait_p50_s", "wait_p90_s", "answer_to_agent_p50_s", "answer_to_agent_p90_s"]
    click.echo(table([{"metric": k, "value": out[k]} for k in keys]))
    click.echo("outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(out["outcomes"].items())))










