"""``dialer callbacks``: the callback queue (pending, missed, cancelled), scheduling and moving callbacks."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import click

from campaigns.agents.service import get_agent
from campaigns.callbacks import service as cb
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.leads.models import Lead
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError


@click.group("callbacks")
def callbacks_group() -> None:
    """Callbacks: the queue (pending, missed, cancelled), schedule, move or cancel one."""


def lead_time(raw: str, lead: Lead, campaign: Campaign) -> datetime:
    """``--at``: ISO 8601; without an offset it is the lead's own local time (its first zone), as agreed with them."""
    try:
        t = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(f"--at {raw!r} is not a date-time such as 2030-01-08T17:30 or 2030-01-08T17:30-05:00") from None
    if t.tzinfo is None:
        zones = lead.zone_list
        t = t.replace(tzinfo=ZoneInfo(zones[0] if zones else campaign.timezone))
    return t


def _lead(s, campaign: Campaign, lead_id: int) -> Lead:
    lead = s.get(Lead, lead_id)
    if lead is None or lead.campaign_id != campaign.id:
        raise UserError(f"campaign {campaign.name!r} has no lead {lead_id}")
    return lead


@callbacks_group.command("list")
@click.option("--campaign", required=True)
@click.option("--status", "statuses", multiple=True, type=click.Choice(cb.CALLBACK_STATUSES),
              help="Only these (repeatable; default: pending and missed).")
@click.option("--missed", is_flag=True, help="Only the missed queue.")
@click.option("--agent", default=None, help="Only this agent's personal callbacks.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_(ctx: CliContext, campaign: str, statuses: tuple[str, ...], missed: bool, agent: str | None,
          as_json: bool) -> None:
    """The callbacks of a campaign, soonest first."""
    wanted = ("missed",) if missed else (statuses or cb.OPEN)
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        agent_id = get_agent(s, agent).id if agent else None
        rows = [r.as_dict() for r in cb.queue(s, c.id, tuple(wanted), agent_id)]
    if as_json:
        emit_json({"campaign": campaign, "statuses": list(wanted), "callbacks": rows})
        return
    click.echo(table([{"id": r["id"], "status": r["status"], "due (UTC)": r["due_at"][:16].replace("T", " "),
                       "asked for": r["requested_at"][:16].replace("T", " "), "lead": r["lead_id"],
                       "phone": r["phone"], "name": r["name"], "agent": r["agent"], "reason": r["reason"]}
                      for r in rows]))


@callbacks_group.command("add")
@click.option("--campaign", required=True)
@click.option("--lead", "lead_id", type=int, required=True)
@click.option("--at", "at_raw", required=True, help="When (ISO 8601; without offset: the lead's local time).")
@click.option("--agent", default=None, help="A personal callback for this agent (default: anyone).")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def add(ctx: CliContext, campaign: str, lead_id: int, at_raw: str, agent: str | None, note: str,
        as_json: bool) -> None:
    """Schedule a callback; it fires at the first legal instant at or after the time asked for."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        lead = _lead(s, c, lead_id)
        agent_id = get_agent(s, agent).id if agent else None
        row = cb.schedule(s, lead, lead_time(at_raw, lead, c), ctx.clock.now(), agent_id=agent_id, note=note)
        out = {"id": row.id, "lead_id": lead.id, "requested_at": row.requested_at.isoformat(),
               "due_at": row.due_at.isoformat(), "moved": row.due_at != row.requested_at, "agent": agent}
    if as_json:
        emit_json(out)
    else:
        moved = " (moved to the next legal opening)" if out["moved"] else ""
        click.echo(f"callback {out['id']} for lead {lead_id} due {out['due_at']}{moved}")


@callbacks_group.command("reschedule")
@click.argument("callback_id", type=int)
@click.option("--at", "at_raw", required=True, help="New time (ISO 8601; without offset: the lead's local time).")
@click.option("--agent", default=None, help="Give it to this agent (default: keep).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def reschedule(ctx: CliContext, callback_id: int, at_raw: str, agent: str | None, as_json: bool) -> None:
    """Move an open callback (e.g. from the missed queue) to a new time."""
    with ctx.session() as s:
        old = s.get(cb.Callback, callback_id)
        if old is None:
            raise UserError(f"no callback {callback_id}")
        lead = s.get(Lead, old.lead_id)
        c = s.get(Campaign, old.campaign_id)
        agent_id = get_agent(s, agent).id if agent else None
        row = cb.reschedule(s, callback_id, lead_time(at_raw, lead, c), ctx.clock.now(), agent_id)
        out = {"id": row.id, "replaces": callback_id, "due_at": row.due_at.isoformat()}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"callback {callback_id} replaced by {out['id']}, due {out['due_at']}")


@callbacks_group.command("cancel")
@click.argument("callback_id", type=int)
@click.option("--reason", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def cancel(ctx: CliContext, callback_id: int, reason: str, as_json: bool) -> None:
    """Cancel an open callback (the lead goes back to ordinary retries)."""
    with ctx.session() as s:
        row = cb.cancel(s, callback_id, reason, ctx.clock.now())
        out = {"id": row.id, "status": row.status, "reason": row.cancelled_reason}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"callback {callback_id} cancelled")


@callbacks_group.command("sweep")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def sweep(ctx: CliContext, as_json: bool) -> None:
    """Mark callbacks missed that were due and not dialed (what the worker's job does every 30 s)."""
    with ctx.session() as s:
        n = cb.mark_missed(s, ctx.clock.now())
    if as_json:
        emit_json({"missed": n})
    else:
        click.echo(f"{n} callback(s) marked missed")
