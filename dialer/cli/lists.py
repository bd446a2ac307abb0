"""``dialer lists``: a campaign's lists for its manager, as on the console's Lists page: enable or disable a list,
the list mix (an order or weights), a reset for another pass (the count is shown and confirmed first). Every change
is recorded in the campaign's history (``dialer campaigns history NAME``)."""

from __future__ import annotations

import click

from campaigns.campaign.service import get_campaign
from campaigns.leads import listadmin
from dialer.cli.campaign_settings import who
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError

COLUMNS = ["id", "name", "enabled", "mix", "share", "leads", "callable", "exhausted", "done", "closed", "dnc",
           "suppressed"]


@click.group("lists")
def lists_group() -> None:
    """A campaign's lead lists: show, enable/disable, mix, reset for another pass."""


def _show(rows: list[dict]) -> str:
    return table([{**r, "enabled": "yes" if r["enabled"] else "no",
                   "share": f"{r['share'] * 100:.0f} %" if r["share"] is not None else "—"} for r in rows], COLUMNS)


@lists_group.command("show")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def show(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """CAMPAIGN's lists: enabled or not, their place in the mix and their leads by status."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        rows = listadmin.overview(s, c)
        mode = listadmin.mix_mode(listadmin.lists(s, c))
    if as_json:
        emit_json({"campaign": campaign, "mix": mode, "lists": rows})
        return
    click.echo(f"list mix: {listadmin.MIX_MODES[mode]}")
    click.echo(_show(rows))


def _toggle(ctx: CliContext, campaign: str, ref: str, active: bool, by: str, as_json: bool) -> None:
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        lst = listadmin.list_of(s, c, ref)
        changed = listadmin.set_active(s, c, lst, active, by or who(), ctx.clock.now())
        name = lst.name
    state = "enabled" if active else "disabled"
    if as_json:
        emit_json({"campaign": campaign, "list": name, "enabled": active, "changed": changed})
    else:
        click.echo(f"list {name!r} {state}" + ("" if changed else " already: nothing changed")
                   + ("; its leads are not dialed" if not active and changed else ""))


@lists_group.command("enable")
@click.argument("campaign")
@click.argument("list_ref", metavar="LIST")
@click.option("--by", default="", help="Who makes the change (default: this login).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def enable(ctx: CliContext, campaign: str, list_ref: str, by: str, as_json: bool) -> None:
    """Dial LIST (a name or id) of CAMPAIGN again."""
    _toggle(ctx, campaign, list_ref, True, by, as_json)


@lists_group.command("disable")
@click.argument("campaign")
@click.argument("list_ref", metavar="LIST")
@click.option("--by", default="", help="Who makes the change (default: this login).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def disable(ctx: CliContext, campaign: str, list_ref: str, by: str, as_json: bool) -> None:
    """Stop dialing LIST (a name or id) of CAMPAIGN; its leads stay as they are."""
    _toggle(ctx, campaign, list_ref, False, by, as_json)


@lists_group.command("mix")
@click.argument("campaign")
@click.option("--order", "order", default=None, metavar="LIST,LIST,...",
              help="Dial the lists in this order (names or ids); lists left out come last.")
@click.option("--weights", "weights", default=None, metavar="LIST=N,...",
              help="Each list's share of the dials, e.g. spring=60,summer=40 (1 to 1000); lists left out are "
                   "dialed only when the weighted ones have nothing due.")
@click.option("--none", "even", is_flag=True, help="No preference: the campaign's lead order alone decides.")
@click.option("--by", default="", help="Who makes the change (default: this login).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def mix(ctx: CliContext, campaign: str, order: str | None, weights: str | None, even: bool, by: str,
        as_json: bool) -> None:
    """Set the list mix of CAMPAIGN: --order, --weights or --none."""
    if sum(x is not None and x is not False for x in (order, weights, even or None)) != 1:
        raise UserError("list mix: give exactly one of --order, --weights or --none")
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        values: dict[int, int] = {}
        if order is not None:
            mode = "order"
            for i, ref in enumerate((r.strip() for r in order.split(",") if r.strip()), 1):
                values[listadmin.list_of(s, c, ref).id] = i
        elif weights is not None:
            mode = "weights"
            for part in (p.strip() for p in weights.split(",") if p.strip()):
                ref, sep, n = part.rpartition("=")
                if not sep or not n.strip().isdigit():
                    raise UserError(f"list mix: give weights as LIST=N, got {part!r}")
                values[listadmin.list_of(s, c, ref.strip()).id] = int(n)
        else:
            mode = "none"
        changed = listadmin.set_mix(s, c, mode, values, by or who(), ctx.clock.now())
        rows = listadmin.overview(s, c)
    if as_json:
        emit_json({"campaign": campaign, "mix": mode, "changed": changed, "lists": rows})
        return
    click.echo(f"list mix: {listadmin.MIX_MODES[mode]}" + ("" if changed else " (nothing changed)"))
    click.echo(_show(rows))


@lists_group.command("reset")
@click.argument("campaign")
@click.argument("list_ref", metavar="LIST")
@click.option("--exhausted", is_flag=True, help="Leads that ran out of attempts.")
@click.option("--disposition", "codes", multiple=True, metavar="CODE",
              help="Leads closed by this final disposition (e.g. NI); repeatable.")
@click.option("--dry-run", is_flag=True, help="Only count what would be reset.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--by", default="", help="Who makes the change (default: this login).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def reset(ctx: CliContext, campaign: str, list_ref: str, exhausted: bool, codes: tuple[str, ...], dry_run: bool,
          yes: bool, by: str, as_json: bool) -> None:
    """Put finished leads of LIST back in the queue for another pass (attempts from 0). DNC, sold, suppressed,
    invalid-number leads and numbers on the internal DNC list never come back."""
    chosen = ([listadmin.EXHAUSTED] if exhausted else []) + [f"done:{c.strip().upper()}" for c in codes]
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        lst = listadmin.list_of(s, c, list_ref)
        name = lst.name
        p = listadmin.plan(s, c, lst, chosen, ctx.clock.now())
    if not chosen:
        offered = ", ".join(f"--disposition {k[5:]} ({n:,})" if k.startswith("done:") else f"--exhausted ({n:,})"
                            for k, n in p.choices.items()) or "none: no finished lead may come back"
        raise UserError(f"reset: choose which leads to reset: {offered}")
    kept = ", ".join(f"{listadmin.KEPT[k]}: {n:,}" for k, n in p.kept.items()) or "none"
    out = {"campaign": campaign, "list": name, "chosen": list(p.chosen), "would_reset": p.total,
           "by_choice": {k: p.choices.get(k, 0) for k in p.chosen}, "never_reset": p.kept}
    if p.total == 0 and not dry_run:
        if as_json:
            emit_json({**out, "reset": 0})
        else:
            click.echo(f"nothing to reset ({p.describe()}); staying closed: {kept}")
        return
    if dry_run or (not yes and not as_json and not click.confirm(
            f"Reset {p.total:,} leads of list {name!r} ({p.describe()})? Staying closed: {kept}.")):
        if as_json:
            emit_json({**out, "reset": 0, "dry_run": True})
        else:
            click.echo(f"would reset {p.total:,} leads ({p.describe()}); staying closed: {kept}")
        return
    if as_json and not yes:
        raise UserError("reset: with --json, give --yes to reset (or --dry-run to count)")
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        lst = listadmin.list_of(s, c, list_ref)
        done = listadmin.reset(s, c, lst, chosen, by or who(), ctx.clock.now(), expected=p.total)
    if as_json:
        emit_json({**out, "reset": done.total})
    else:
        click.echo(f"reset {done.total:,} leads of list {name!r}: back in the queue, due now")
