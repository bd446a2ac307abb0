"""``dialer callerid``: a campaign's pool of caller IDs, spam flags and the health of each number."""

from __future__ import annotations

import click

from campaigns.callerid import service as callerid
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.service import get_campaign
from dialer.cli.context import CliContext, emit_json, pass_ctx, table


@click.group("callerid")
def callerid_group() -> None:
    """Caller-ID pools: add numbers, flag "shown as spam", watch each number's health."""


def _out(as_json: bool, obj: dict, text: str) -> None:
    if as_json:
        emit_json(obj)
    else:
        click.echo(text)


@callerid_group.command("add")
@click.argument("campaign")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--daily-cap", type=int, default=None, help="Dials per day for these numbers (default: the "
                                                          "campaign's cap).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def add(ctx: CliContext, campaign: str, numbers: tuple[str, ...], daily_cap: int | None, as_json: bool) -> None:
    """Add NUMBERS to CAMPAIGN's caller-ID pool (all or none)."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        rows = [callerid.add_number(s, c, n, ctx.clock.now(), daily_cap) for n in numbers]
        added = [{"number": r.number, "area_code": r.area_code, "state": r.state,
                  "daily_cap": r.daily_cap or c.caller_id_daily_cap} for r in rows]
    _out(as_json, {"campaign": campaign, "added": added},
         "\n".join(f"added {a['number']} ({a['state'] or a['area_code']}, {a['daily_cap']} dials a day)"
                   for a in added))


@callerid_group.command("list")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """The pool of CAMPAIGN with each number's state, cap and status."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        rows = [{"number": n.number, "area_code": n.area_code, "state": n.state,
                 "daily_cap": n.daily_cap or c.caller_id_daily_cap, "active": n.active,
                 "retired_reason": n.retired_reason} for n in callerid.pool(s, c.id)]
        out = {"campaign": c.name, "local_presence": c.local_presence, "numbers": rows}
    _out(as_json, out, table(rows) if rows else f"campaign {campaign!r} has no pool: every call shows its caller ID "
                                                  f"{c.caller_id}")


@callerid_group.command("flag")
@click.argument("campaign")
@click.argument("number")
@click.option("--by", "by", required=True, help="Who saw it (agent or manager name).")
@click.option("--reason", default="shown as spam", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def flag(ctx: CliContext, campaign: str, number: str, by: str, reason: str, as_json: bool) -> None:
    """Flag NUMBER as shown as spam; at the campaign's threshold it is retired."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        row = callerid.flag_number(s, c, number, by, ctx.clock.now(), reason)
        out = {"number": row.number, "active": row.active, "retired_reason": row.retired_reason,
               "threshold": c.spam_flag_threshold}
    _out(as_json, out, f"{row.number} flagged" + ("" if row.active else f"; retired: {row.retired_reason}"))


def _set_active(active: bool):
    @click.argument("campaign")
    @click.argument("number")
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_ctx
    def cmd(ctx: CliContext, campaign: str, number: str, as_json: bool, reason: str = "") -> None:
        with ctx.session() as s:
            row = callerid.set_active(s, get_campaign(s, campaign), number, active, ctx.clock.now(), reason)
            out = {"number": row.number, "active": row.active, "retired_reason": row.retired_reason}
        _out(as_json, out, f"{row.number} is {'active' if row.active else 'retired'}")

    cmd.__doc__ = ("Put a retired NUMBER back into service (earlier flags no longer count)." if active
                   else "Retire NUMBER by hand.")
    if not active:  # a retirement keeps its reason on the number; a restore clears it
        cmd = click.option("--reason", default="", help="Why (kept with the number).")(cmd)
    return callerid_group.command("restore" if active else "retire")(cmd)


_set_active(True)
_set_active(False)


@callerid_group.command("health")
@click.argument("campaign")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def health(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """Per number: dials today against its cap, 7-day dials and answer rate, spam flags (retires past the floor)."""
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        st = settings_of(s, c.id)
        rows = [h.as_dict() for h in callerid.health(s, c, ctx.clock.now(), min_answer_rate=st.callerid_min_answer_rate,
                                                     min_dials=st.callerid_min_dials)]
    if as_json:
        emit_json({"campaign": campaign, "numbers": rows})
        return
    click.echo(table([{**r, "answer_rate_7d": r["answer_rate_7d"]} for r in rows],
                     ["number", "active", "state", "dials_today", "daily_cap", "dials_7d", "answered_7d",
                      "answer_rate_7d", "flags", "retired_reason"]))
