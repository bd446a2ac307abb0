"""``dialer leads hot`` (a lead that jumps the queue) and ``dialer leads phones`` (more numbers per lead)."""

from __future__ import annotations

import getpass

import click
from sqlalchemy import select

from campaigns.campaign.service import get_campaign
from campaigns.leads.hot import HOT_PRIORITY, make_hot
from campaigns.leads.models import Lead, LeadList
from campaigns.leads.phones import attach, attach_from_field, phones_of
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dialer.cli.leads import leads
from dnc.errors import UserError


def _who(by: str) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@leads.command("hot")
@click.option("--campaign", required=True)
@click.option("--lead", "lead_id", type=int, default=None, help="The lead (by id).")
@click.option("--phone", default=None, help="The number: the campaign's lead with it, or a new lead.")
@click.option("--priority", type=int, default=HOT_PRIORITY, show_default=True, help="1-100; ordinary leads are 0.")
@click.option("--first-name", default="")
@click.option("--last-name", default="")
@click.option("--state", default=None, help="Two-letter state of a new lead.")
@click.option("--zip", "postal_code", default=None, help="ZIP code of a new lead.")
@click.option("--by", default="", help="Who asks (default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def hot(ctx: CliContext, campaign: str, lead_id: int | None, phone: str | None, priority: int, first_name: str,
        last_name: str, state: str | None, postal_code: str | None, by: str, as_json: bool) -> None:
    """Make a lead hot: it is dialed next (still through every compliance rule)."""
    with ctx.session() as s:
        r = make_hot(s, get_campaign(s, campaign), ctx.clock.now(), lead_id=lead_id, phone=phone, priority=priority,
                     first_name=first_name, last_name=last_name, state=state, postal_code=postal_code, by=_who(by))
        out = r.as_dict()
    if as_json:
        emit_json(out)
    elif out["status"] == "suppressed":
        click.echo(f"{out['phone']} stored as lead {out['lead_id']} but suppressed ({out['suppression']}): "
                   "it will not be dialed")
    else:
        made = "new lead" if out["created"] else "lead"
        click.echo(f"{made} {out['lead_id']} ({out['phone']}) is hot: priority {out['priority']}, {out['status']}")


@leads.command("phones")
@click.option("--campaign", required=True)
@click.option("--lead", "lead_id", type=int, default=None, help="Add NUMBERS to this lead.")
@click.option("--from-field", "field_name", default=None,
              help="Take each waiting lead's next number from this column of its list (e.g. 'Phone 2').")
@click.option("--list", "list_name", default=None, help="With --from-field: only this list.")
@click.option("--by", default="", help="Who (default: $USER; kept on the scrub record).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.argument("numbers", nargs=-1)
@pass_ctx
def phones(ctx: CliContext, campaign: str, lead_id: int | None, field_name: str | None, list_name: str | None,
           by: str, as_json: bool, numbers: tuple[str, ...]) -> None:
    """Give leads more phone numbers (scrubbed first), tried in order after N failures (strategy
    --phone-switch-after). Without NUMBERS or --from-field: show the lead's numbers."""
    now = ctx.clock.now()
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        if field_name is not None:
            if lead_id is not None or numbers:
                raise UserError("--from-field works on the whole campaign (or --list): give no --lead or NUMBERS")
            list_id = None
            if list_name is not None:
                list_id = s.scalar(select(LeadList.id).where(LeadList.campaign_id == c.id,
                                                             LeadList.name == list_name))
                if list_id is None:
                    raise UserError(f"campaign {campaign!r} has no list {list_name!r}")
            out = attach_from_field(s, c, field_name, now, _who(by), list_id).as_dict()
        elif lead_id is not None:
            lead = s.get(Lead, lead_id)
            if lead is None or lead.campaign_id != c.id:
                raise UserError(f"campaign {campaign!r} has no lead {lead_id}")
            if numbers:
                out = attach(s, c, [(lead, list(numbers))], now, _who(by)).as_dict()
            else:
                rows = phones_of(s, lead.id)
                out = {"lead_id": lead.id, "current": lead.phone,
                       "phones": [{"position": r.position, "phone": r.phone, "failures": r.failures} for r in rows]
                       or [{"position": 1, "phone": lead.phone, "failures": 0}]}
        else:
            raise UserError("give --lead ID [NUMBERS...] or --from-field COLUMN")
    if as_json:
        emit_json(out)
    elif "phones" in out:
        click.echo(f"lead {out['lead_id']} dials {out['current']}")
        click.echo(table(out["phones"]))
    else:
        click.echo(f"{out['attached']} number(s) added to {out['leads']} lead(s); {out['already']} already there, "
                   f"{out['invalid']} invalid, suppressed: {out['suppressed'] or 'none'}")
