"""``dialer campaigns``: create, list and change campaigns from scripts."""

from dataclasses import asdict

import click

from campaigns.campaign.models import CAMPAIGN_STATUSES, DEDUPE_SCOPES, PACING_MODES
from campaigns.campaign.service import CampaignSettings, create_campaign, get_campaign, list_campaigns, set_status
from dialer.cli.context import CliContext, emit_json, pass_ctx, table


@click.group("campaigns")
def campaigns() -> None:
    """Create, list, start, pause and finish campaigns."""


@campaigns.command("create")
@click.argument("name")
@click.option("--caller-id", required=True, help="Number shown to the called party, E.164 (+12125550100).")
@click.option("--region", default="US", show_default=True, help="Default region for parsing lead numbers.")
@click.option("--timezone", "tz", default="America/New_York", show_default=True, help="Zone for reports.")
@click.option("--pacing", type=click.Choice(PACING_MODES), default="predictive", show_default=True)
@click.option("--abandon-target", type=float, default=0.03, show_default=True, help="Fraction of live answers.")
@click.option("--max-attempts", type=int, default=5, show_default=True)
@click.option("--dedupe", type=click.Choice(DEDUPE_SCOPES), default="campaign", show_default=True,
              help="Where a lead's number must be unique.")
@click.option("--seller-name", default="", help="Name played in the safe-harbor message (default: campaign name).")
@click.option("--callback-number", default="", help="Number that takes DNC requests (default: caller ID).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def create(ctx: CliContext, name, caller_id, region, tz, pacing, abandon_target, max_attempts, dedupe, seller_name,
           callback_number, as_json) -> None:
    """Create campaign NAME (status draft)."""
    settings = CampaignSettings(region=region, timezone=tz, pacing_mode=pacing, abandon_target=abandon_target,
                                max_attempts=max_attempts, dedupe_scope=dedupe, seller_name=seller_name,
                                callback_number=callback_number)
    with ctx.session() as s:
        c = create_campaign(s, name, caller_id, ctx.clock.now(), settings)
        out = {"id": c.id, "name": c.name, "caller_id": c.caller_id, "status": c.status, "pacing_mode": c.pacing_mode}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"created campaign {out['name']!r} (caller ID {out['caller_id']}, {out['pacing_mode']}, draft)")


@campaigns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_(ctx: CliContext, as_json: bool) -> None:
    """List campaigns with their status and lead counts."""
    with ctx.session() as s:
        rows = [asdict(r) for r in list_campaigns(s)]
    if as_json:
        emit_json({"campaigns": rows})
    else:
        click.echo(table(rows))


def _status_command(status: str, verb: str):
    @click.argument("name")
    @pass_ctx
    def cmd(ctx: CliContext, name: str) -> None:
        with ctx.session() as s:
            c = set_status(s, get_campaign(s, name), status, ctx.clock.now())
            click.echo(f"campaign {c.name!r} is {c.status}")

    cmd.__doc__ = f"{verb} campaign NAME."
    return campaigns.command(verb.lower())(cmd)


for _status, _verb in (("active", "Start"), ("paused", "Pause"), ("finished", "Finish")):
    assert _status in CAMPAIGN_STATUSES
    _status_command(_status, _verb)
