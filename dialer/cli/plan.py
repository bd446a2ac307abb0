"""``dialer plan``: staffing from Erlang C, a campaign's measured inputs, outbound what-ifs and the fewest agents."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import click

from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dialer.planner import DEFAULT_SEEDS
from dnc.errors import UserError


@click.group("plan")
def plan() -> None:
    """Plan staff: how many agents, and when will the list be done?"""


@plan.command("erlang")
@click.option("--calls", type=float, required=True, help="Calls arriving in the period.")
@click.option("--period-min", type=float, default=30.0, show_default=True, help="Length of the period, minutes.")
@click.option("--aht", "aht_s", type=float, required=True, help="Average handle time (talk + wrap), seconds.")
@click.option("--service-level", type=float, default=80.0, show_default=True, help="Goal: % answered within --within.")
@click.option("--within", "target_s", type=float, default=20.0, show_default=True, help="Answer target, seconds.")
@click.option("--max-occupancy", type=float, default=85.0, show_default=True, help="Highest occupancy allowed, %.")
@click.option("--agents", default=None, metavar="N or N-M", help="Show these staffing levels instead of the goal.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def erlang_cmd(calls: float, period_min: float, aht_s: float, service_level: float, target_s: float,
               max_occupancy: float, agents: str | None, as_json: bool) -> None:
    """Erlang C for an inbound queue (callbacks to the safe-harbor number), or a quick first estimate."""
    from dialer.planner.erlang import agents_for, load_of
    from dialer.planner.erlang import table as levels

    load = load_of(calls, period_min * 60, aht_s)
    if agents:
        lo, _, hi = agents.partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise UserError(f"--agents {agents!r}: write N or N-M, for example 20-30") from None
        rows = [s.as_dict() for s in levels(load, aht_s, target_s, first, last)]
        out = {"load_erlangs": round(load, 4), "levels": rows}
    else:
        best = agents_for(load, aht_s, service_level=service_level / 100, target_s=target_s,
                          max_occupancy=max_occupancy / 100)
        out = {"load_erlangs": round(load, 4), "recommended": best.as_dict()}
        rows = [best.as_dict()]
    if as_json:
        emit_json(out)
        return
    click.echo(f"offered load {load:.2f} Erlangs ({calls:g} calls in {period_min:g} min, {aht_s:g} s each)")
    click.echo(table([{"agents": r["agents"], "wait %": _pct(r["p_wait"]), "ASA s": _num(r["asa_s"]),
                       f"answered in {target_s:g} s %": _pct(r["service_level"]),
                       "occupancy %": _pct(r["occupancy"])} for r in rows]))


@plan.command("inputs")
@click.argument("campaign")
@click.option("--days", type=int, default=14, show_default=True, help="Days of history to measure.")
@click.option("--as-of", "as_of", default=None, help="End of the history, YYYY-MM-DD[THH:MM] UTC (default: now).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def inputs_cmd(ctx: CliContext, campaign: str, days: int, as_of: str | None, as_json: bool) -> None:
    """What CAMPAIGN's own history says: answer shares by hour, ring, talk and wrap times, leads left."""
    from dialer.planner.inputs import measure

    with ctx.session() as s:
        i = measure(s, campaign, _as_of(ctx, as_of), days)
    if as_json:
        emit_json(i.as_dict())
        return
    click.echo(f"{i.campaign}: {i.dials:,} finished dials from {i.since:%Y-%m-%d} to {i.until:%Y-%m-%d} "
               f"(hours in {i.timezone})")
    click.echo(table([{"hour": f"{h:02d}:00", "dials": r["dials"], "live %": _pct(r["live"]),
                       "machine %": _pct(r["machine"]), "no answer %": _pct(r["no_answer"]),
                       "busy %": _pct(r["busy"]), "hour factor": r.get("factor")} for h, r in i.by_hour.items()]))
    if i.talk:
        click.echo(f"talk: mean {i.talk.mean_s:.0f} s over {i.talk.samples:,} calls; "
                   f"wrap: mean {i.wrap.mean_s if i.wrap else 0:.0f} s")
    click.echo(f"ring before a live answer: {i.ring_s}")
    click.echo("dispositions of contacts: " + ", ".join(f"{k} {_pct(v)} %" for k, v in i.dispositions.items()))
    click.echo(f"first attempt live among numbers in service: {_pct(i.live_first) if i.live_first else '-'} %; "
               f"dead numbers: {_pct(i.dead_first) if i.dead_first is not None else '-'} % of first attempts, "
               f"failing again: {_pct(i.refail) if i.refail is not None else '-'} %")
    by_attempt = ", ".join(f"{k}: {_pct(v)} %" for k, v in i.live_on_attempt.items()) or "-"
    click.echo(f"live among numbers in service by attempt: {by_attempt}; retry decay beyond: {i.retry_decay}; "
               f"leads left to dial: {i.callable_leads:,}")


def _common(f):
    f = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(f)
    f = click.option("--set", "overrides", multiple=True, metavar="NAME=VALUE",
                     help="Override a measured input (live, machine, no_answer, busy as fractions; talk_mean_s, "
                          "wrap_mean_s, callable_leads, retry_decay, close_share).")(f)
    f = click.option("--seeds", type=int, default=DEFAULT_SEEDS, show_default=True,
                     help="Simulated runs; the spread is shown.")(f)
    f = click.option("--as-of", "as_of", default=None,
                     help="End of the history to fit, YYYY-MM-DD[THH:MM] UTC (default: now).")(f)
    f = click.option("--history-days", type=int, default=14, show_default=True, help="Days of history to fit.")(f)
    f = click.option("--start", "start", default=None, help="First planned day, YYYY-MM-DD (default: tomorrow).")(f)
    f = click.option("--days", type=int, default=1, show_default=True, help="Days to plan.")(f)
    f = click.option("--schedule", required=True, metavar="FROM-TO:AGENTS,...",
                     help="Agents per local hour, every planned day, for example 9-12:20,12-17:25.")(f)
    return click.argument("campaign")(f)


@plan.command("whatif")
@_common
@click.option("--pacer", "pacers", multiple=True, help="Compare pacing modes (repeatable; default: the campaign's).")
@pass_ctx
def whatif_cmd(ctx: CliContext, campaign: str, schedule: str, days: int, start: str | None, as_of: str | None,
               history_days: int, seeds: int, overrides: tuple[str, ...], as_json: bool,
               pacers: tuple[str, ...]) -> None:
    """Simulate CAMPAIGN on its measured inputs with a proposed schedule: dials, contacts, closes per hour/day."""
    from dialer.planner.service import what_if

    basis, sched = _basis(ctx, campaign, schedule, days, start, as_of, history_days, overrides)
    out = what_if(basis, sched, seeds, pacers)
    if as_json:
        emit_json(out)
        return
    for p in out["plans"]:
        _print_plan(p, out["timezone"])


@plan.command("staff")
@_common
@click.option("--goal", type=click.Choice(["contacts_per_day", "occupancy", "list_done_by"]), required=True)
@click.option("--value", required=True, help="Contacts a day, an occupancy in %, or a date YYYY-MM-DD.")
@pass_ctx
def staff_cmd(ctx: CliContext, campaign: str, schedule: str, days: int, start: str | None, as_of: str | None,
              history_days: int, seeds: int, overrides: tuple[str, ...], as_json: bool, goal: str, value: str) -> None:
    """The fewest agents (flat over the schedule's hours) that meet a goal within the abandon target."""
    from dialer.planner.service import fewest_agents

    basis, sched = _basis(ctx, campaign, schedule, days, start, as_of, history_days, overrides)
    try:
        goal_value = (value if goal == "list_done_by" else float(value) / (100 if goal == "occupancy" else 1))
        if goal == "list_done_by":
            date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--value {value!r} does not fit the goal {goal}") from None
    out = fewest_agents(basis, sched, goal, goal_value, seeds)
    if as_json:
        emit_json(out)
        return
    click.echo(f"fewest agents for {goal} {value}: {out['agents']}")
    _print_plan(out["plan"], basis.inputs.timezone)


def _basis(ctx: CliContext, campaign: str, schedule: str, days: int, start: str | None, as_of: str | None,
           history_days: int, overrides: tuple[str, ...]):
    from dialer.planner.service import read_basis
    from dialer.planner.whatif import parse_schedule

    now = _as_of(ctx, as_of)
    try:
        first = date.fromisoformat(start) if start else (now + timedelta(days=1)).date()
    except ValueError:
        raise UserError(f"--start {start!r}: write a date as YYYY-MM-DD") from None
    sched = parse_schedule(schedule, first, days)
    parsed = {}
    for raw in overrides:
        key, sep, val = raw.partition("=")
        try:
            parsed[key.strip()] = float(val)
        except ValueError:
            raise UserError(f"--set {raw!r}: write NAME=NUMBER, for example live=0.3") from None
        if not sep:
            raise UserError(f"--set {raw!r}: write NAME=NUMBER")
    with ctx.session() as s:
        basis = read_basis(s, campaign, now, history_days, parsed)
    return basis, sched


def _as_of(ctx: CliContext, raw: str | None) -> datetime:
    if not raw:
        return ctx.clock.now()
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise UserError(f"--as-of {raw!r}: write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _print_plan(p: dict, zone: str) -> None:
    click.echo(f"pacing: {p['pacer']} (hours in {zone}; mean of the seeds, [min-max])")
    click.echo(table([{"day": d["day"], "dials": _m(d["dials"]), "contacts": _m(d["contacts"]),
                       "closes": _m(d["closes"]), "occupancy %": _mp(d["occupancy"]),
                       "abandon %": _mp(d["abandon"]), "30-day abandon %": _mp(d["abandon_30d"]),
                       "leads left": _m(d["leads_left"])} for d in p["daily"]]))
    dry = p["dry"]
    if dry["date"]:
        click.echo(f"list runs dry: {dry['date']}{' (projected from the last day)' if dry['projected'] else ''}")


def _m(s: dict) -> str:
    return f"{s['mean']:,.0f} [{s['min']:,.0f}-{s['max']:,.0f}]"


def _mp(s: dict) -> str:
    return f"{s['mean'] * 100:.1f} [{s['min'] * 100:.1f}-{s['max'] * 100:.1f}]"


def _pct(x: float) -> str:
    return f"{x * 100:.1f}"


def _num(x: float) -> str:
    return "∞" if x == float("inf") else f"{x:.1f}"
