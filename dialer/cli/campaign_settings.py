"""``dialer campaigns set|settings|history|agents``: a campaign's dialing settings as ``key=value`` words, the same
fields, labels, units and refusals as the console's settings page, who may join it (its team, as on the console's
Agents page), and the history of who changed what."""

from __future__ import annotations

import getpass

import click

from campaigns.agents import teams
from campaigns.campaign import dialing
from campaigns.campaign.history import changes
from campaigns.campaign.service import get_campaign
from dialer.cli.context import CliContext, emit_json, pass_ctx, table


def who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _rows(campaign) -> list[dict]:
    shown = dialing.shown(campaign)
    return [{"key": f.key, "setting": f.label, "value": shown[f.key], "unit": f.unit} for f in dialing.FIELDS]


def register(group: click.Group) -> None:
    keys = ", ".join(dialing.BY_KEY)

    @group.command("set", help=f"Change campaign NAME's dialing settings: KEY=VALUE ... (keys: {keys}). "
                               "Delays are h:mm, the abandon target a percentage (2.5 or 2.5%), calling hours "
                               "hh:mm-hh:mm at the called party (or 'legal'), calling days like mon-fri.")
    @click.argument("name")
    @click.argument("pairs", nargs=-1, required=True)
    @click.option("--by", default="", help="Who makes the change (default: this login).")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def set_cmd(ctx: CliContext, name: str, pairs: tuple[str, ...], by: str, as_json: bool) -> None:
        texts = dialing.parse_pairs(list(pairs))
        with ctx.session() as s:
            c = get_campaign(s, name)
            changed = dialing.apply(s, c, texts, by or who(), ctx.clock.now())
            rows = _rows(c)
        if as_json:
            emit_json({"campaign": name, "changed": changed, "settings": {r["key"]: r["value"] for r in rows}})
            return
        click.echo(f"campaign {name!r}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))
        click.echo(table(rows, ["setting", "value", "unit", "key"]))

    @group.command("settings")
    @click.argument("name")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def settings_cmd(ctx: CliContext, name: str, as_json: bool) -> None:
        """Show campaign NAME's dialing settings with their units (change them with `dialer campaigns set`)."""
        with ctx.session() as s:
            rows = _rows(get_campaign(s, name))
        if as_json:
            emit_json({"campaign": name, "settings": {r["key"]: r["value"] for r in rows}})
        else:
            click.echo(table(rows, ["setting", "value", "unit", "key"]))

    @group.command("history")
    @click.argument("name")
    @click.option("--limit", type=click.IntRange(1, 10_000), default=50, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def history_cmd(ctx: CliContext, name: str, limit: int, as_json: bool) -> None:
        """Who changed what on campaign NAME, newest first (settings, lists, leads, agents)."""
        with ctx.session() as s:
            c = get_campaign(s, name)
            rows = [{"at (UTC)": ch.at.strftime("%Y-%m-%d %H:%M:%S"), "by": ch.by, "what": ch.subject,
                     "field": ch.field, "old": ch.old, "new": ch.new} for ch in changes(s, c.id, limit=limit)]
        if as_json:
            emit_json({"campaign": name, "changes": rows})
        else:
            click.echo(table(rows))

    @group.command("agents")
    @click.argument("name")
    @click.option("--add", "add", multiple=True, metavar="AGENT", help="Let this agent join (seat name or login).")
    @click.option("--remove", "remove", multiple=True, metavar="AGENT", help="Take this agent off the team.")
    @click.option("--only", default=None, metavar="A,B,...", help="Exactly these agents may join.")
    @click.option("--everyone", is_flag=True, help="Open the campaign to every agent again.")
    @click.option("--by", default="", help="Who makes the change (default: this login).")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def agents_cmd(ctx: CliContext, name: str, add: tuple[str, ...], remove: tuple[str, ...], only: str | None,
                   everyone: bool, by: str, as_json: bool) -> None:
        """Show or change which agents may join campaign NAME (nobody listed: every agent may). Agents are offered
        only active campaigns they may join, and joining is checked again when they log in or go ready."""
        names = [n for n in (only or "").split(",") if n.strip()] if only is not None else None
        with ctx.session() as s:
            c = get_campaign(s, name)
            changed = False
            if add or remove or names is not None or everyone:
                changed = teams.change_team(s, c, add=list(add), remove=list(remove), only=names,
                                            everyone=everyone, by=by or who(), now=ctx.clock.now())
            members = [{"agent": a.name, "state": a.state} for a in teams.team(s, c.id)]
            status = c.status
        if as_json:
            emit_json({"campaign": name, "status": status, "changed": changed, "open_to_every_agent": not members,
                       "agents": members})
            return
        head = f"campaign {name!r} ({status})" + (": changed" if changed else "")
        click.echo(f"{head}: every agent may join" if not members else f"{head}: only these agents may join")
        if members:
            click.echo(table(members))
