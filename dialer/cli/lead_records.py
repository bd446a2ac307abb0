"""``dialer leads search|show|edit|dnc``: find a lead (a number in any format, its last digits, a name; by status and
list), read its history, change its fields (validated and recorded) and take a do-not-call request for it, as on
the console's lead pages (``campaigns.leads.search`` and ``campaigns.leads.edit``)."""

from __future__ import annotations

import click

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.leads import edit, listadmin, search
from campaigns.leads.models import LEAD_STATUSES, Lead
from dialer.cli.campaign_settings import who
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError


def _lead(s, campaign: Campaign, lead_id: int) -> Lead:
    lead = s.get(Lead, lead_id)
    if lead is None or lead.campaign_id != campaign.id:
        raise UserError(f"campaign {campaign.name!r} has no lead {lead_id}")
    return lead


def _row(lead: Lead, names: dict[int, str]) -> dict:
    return {"id": lead.id, "phone": lead.phone, "name": f"{lead.first_name} {lead.last_name}".strip(),
            "state": lead.state, "status": lead.status, "attempts": lead.attempts, "list": names.get(lead.list_id)}


def _t(t) -> str | None:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t is not None else None


def register(group: click.Group) -> None:
    @group.command("search")
    @click.argument("query", default="")
    @click.option("--campaign", required=True)
    @click.option("--status", type=click.Choice(LEAD_STATUSES), default=None)
    @click.option("--list", "list_ref", default=None, help="A list's name or id.")
    @click.option("--page", type=click.IntRange(1), default=1, show_default=True)
    @click.option("--per-page", type=click.IntRange(1, 500), default=search.PER_PAGE, show_default=True)
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def search_cmd(ctx: CliContext, query: str, campaign: str, status: str | None, list_ref: str | None, page: int,
                   per_page: int, as_json: bool) -> None:
        """Find leads by QUERY: a phone number in any format, its last digits, or a name."""
        with ctx.session() as s:
            c = get_campaign(s, campaign)
            names = {x.id: x.name for x in listadmin.lists(s, c)}
            lid = listadmin.list_of(s, c, list_ref).id if list_ref else None
            found = search.search(s, c, query, status=status, list_id=lid, page=page, per_page=per_page)
            rows = [_row(x, names) for x in found.leads]
        if as_json:
            emit_json({"campaign": campaign, "query": query, "phone": found.phone, "total": found.total,
                       "page": found.page, "pages": found.pages, "leads": rows})
            return
        click.echo(table(rows))
        plural = "" if found.total == 1 else "s"
        pages = f", page {found.page} of {found.pages}" if found.pages > 1 else ""
        click.echo(f"{found.total:,} lead{plural}{pages}" + (f" (read as {found.phone})" if found.phone else ""))

    @group.command("show")
    @click.argument("lead_id", type=int)
    @click.option("--campaign", required=True)
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def show_cmd(ctx: CliContext, lead_id: int, campaign: str, as_json: bool) -> None:
        """A lead's fields and history: calls, callbacks, changes and suppression decisions."""
        with ctx.session() as s:
            c = get_campaign(s, campaign)
            lead = _lead(s, c, lead_id)
            h = search.history(s, lead)
            out = {**_row(lead, {x.id: x.name for x in listadmin.lists(s, c)}), "first_name": lead.first_name,
                   "last_name": lead.last_name, "postal_code": lead.postal_code, "custom": lead.custom,
                   "suppression": lead.suppression, "next_attempt_at": _t(lead.next_attempt_at),
                   "phones": [p.phone for p in h.phones],
                   "calls": [{"at": _t(x.placed_at), "attempt": x.attempt, "phone": x.phone,
                              "outcome": x.outcome or "live", "agent": x.agent, "disposition": x.disposition,
                              "notes": x.notes} for x in h.calls],
                   "callbacks": [{"due": _t(b.due_at), "status": b.status, "note": b.note} for b in h.callbacks],
                   "changes": [{"at": _t(x.at), "by": x.by, "field": x.field, "old": x.old, "new": x.new}
                               for x in h.changes],
                   "decisions": [{"at": _t(d.at), "what": d.kind, "allowed": d.allowed, "reasons": d.reasons,
                                  "by": d.actor} for d in h.decisions]}
        if as_json:
            emit_json(out)
            return
        click.echo(table([{k: out[k] for k in ("id", "phone", "name", "state", "postal_code", "status",
                                                "attempts", "list")}]))
        for title, key in (("calls", "calls"), ("callbacks", "callbacks"), ("changes (UTC)", "changes"),
                           ("suppression decisions (UTC)", "decisions")):
            click.echo(f"\n{title}:")
            click.echo(table(out[key]))

    @group.command("edit")
    @click.argument("lead_id", type=int)
    @click.argument("pairs", nargs=-1, required=True)
    @click.option("--campaign", required=True)
    @click.option("--by", default="", help="Who makes the change (default: this login).")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def edit_cmd(ctx: CliContext, lead_id: int, pairs: tuple[str, ...], campaign: str, by: str,
                 as_json: bool) -> None:
        """Change a lead's fields: first_name=..., last_name=..., state=NY, postal_code=10001, custom.NAME=...
        (an empty value clears the field)."""
        values = {}
        for pair in pairs:
            key, sep, value = pair.partition("=")
            if not sep:
                raise UserError(f"give fields as KEY=VALUE, got {pair!r}")
            values[key.strip()] = value
        with ctx.session() as s:
            c = get_campaign(s, campaign)
            changed = edit.edit(s, c, _lead(s, c, lead_id), values, by or who(), ctx.clock.now())
        if as_json:
            emit_json({"lead": lead_id, "changed": changed})
        else:
            click.echo(f"lead {lead_id}: " + (f"changed {', '.join(changed)}" if changed else "nothing changed"))

    @group.command("dnc")
    @click.argument("lead_id", type=int)
    @click.option("--campaign", required=True)
    @click.option("--channel", type=click.Choice(list(edit.DNC_CHANNELS)), default="phone", show_default=True,
                  help="How the person asked.")
    @click.option("--reason", required=True, help="What the person asked (kept with the DNC record).")
    @click.option("--scope", type=click.Choice(["company", "campaign"]), default="company", show_default=True)
    @click.option("--by", default="", help="Who takes the request (default: this login).")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def dnc_cmd(ctx: CliContext, lead_id: int, campaign: str, channel: str, reason: str, scope: str, by: str,
                as_json: bool) -> None:
        """The person asked not to be called: the number goes on the internal DNC list and the lead is closed."""
        with ctx.session() as s:
            c = get_campaign(s, campaign)
            lead = _lead(s, c, lead_id)
            done = edit.mark_dnc(s, c, lead, by=by or who(), channel=channel, reason=reason, now=ctx.clock.now(),
                                 scope=scope)
            status, phone = lead.status, lead.phone
        if as_json:
            emit_json({"lead": lead_id, "phone": phone, "status": status, "done": done})
        else:
            click.echo(f"lead {lead_id} ({phone}): {done}; lead status {status}")
