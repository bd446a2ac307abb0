"""``dialer leads``: import lead lists, list them, export their rejected rows (nightly loads are scripted)."""

from __future__ import annotations

import getpass
import sys
from pathlib import Path

import click
from sqlalchemy import select

from campaigns.campaign.service import get_campaign
from campaigns.db import session_factory
from campaigns.leadimport.export import export_rejects
from campaigns.leadimport.mapping import parse_map_option
from campaigns.leadimport.scrub import Scrubber
from campaigns.leadimport.service import ImportResult, import_leads, lists_of
from campaigns.leads.hot import HOT_PRIORITY, make_hot
from campaigns.leads.models import Lead, LeadList
from campaigns.leads.phones import attach, attach_from_field, phones_of
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError


@click.group("leads")
def leads() -> None:
    """Import lead lists into campaigns, list them, export rejected rows."""


def _default_scrubber(ctx: CliContext, campaign_name: str, operator: str = "") -> Scrubber | None:
    """The suppression scrub applied to every CLI import: the DNC engine's bulk scrub."""
    from dialer.cli.dnc import import_scrubber

    return import_scrubber(ctx, campaign_name, operator)


@leads.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--campaign", required=True, help="Campaign to load into.")
@click.option("--list", "list_name", default=None, help="List name (default: the file name).")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN[,...]",
              help="Column for a lead field (phone, first_name, last_name, name, state, postal_code); repeatable.")
@click.option("--force", is_flag=True, help="Import even if this exact file was imported into the campaign before.")
@click.option("--by", "uploaded_by", default="", help="Who uploads (stored on the list; default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def import_(ctx: CliContext, file: Path, campaign: str, list_name: str | None, maps: tuple[str, ...], force: bool,
            uploaded_by: str, as_json: bool) -> None:
    """Import FILE (CSV, TSV, pipe-separated or XLSX) into a campaign as a new list; every row is accounted for."""
    import getpass

    mapping = parse_map_option(maps)
    who = uploaded_by or _user(getpass)
    with _progress_bar() as bar:
        result = import_leads(session_factory(ctx.engine), campaign, file, now=ctx.clock.now(), list_name=list_name,
                              mapping=mapping or None, uploaded_by=who, force=force,
                              scrubber=_default_scrubber(ctx, campaign, who), progress=bar)
    if as_json:
        emit_json(result.as_dict())
    else:
        click.echo(summary(result))
        if result.rejected:
            click.echo(f"rejected rows: dialer leads rejects --campaign {_q(result.campaign)} "
                       f"--list {_q(result.list_name)} -o rejects.csv")


def _user(getpass) -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _q(s: str) -> str:
    return s if s.replace("-", "").replace("_", "").isalnum() else "'" + s.replace("'", "'\\''") + "'"


def summary(r: ImportResult) -> str:
    """The human receipt: counts that add up, then where each suppressed row went."""
    text = (f"list {r.list_name!r} in campaign {r.campaign!r} ({r.source}): {r.rows:,} rows = "
            f"{r.accepted:,} accepted + {r.duplicates:,} duplicates + {r.rejected:,} rejected "
            f"+ {r.suppressed:,} suppressed")
    if r.suppressed_by:
        text += " (" + ", ".join(f"{k}: {v:,}" for k, v in sorted(r.suppressed_by.items())) + ")"
    if r.blank_lines:
        text += f"; {r.blank_lines:,} blank lines skipped"
    return text


class _progress_bar:
    """A progress bar on stderr when it is a terminal; otherwise nothing (scripts read stdout)."""

    def __init__(self) -> None:
        self.bar = None

    def __enter__(self):
        if not sys.stderr.isatty():
            return None
        return self

    def __call__(self, rows: int, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label="importing", file=sys.stderr,
                                         show_eta=True, width=30)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


@leads.command("lists")
@click.option("--campaign", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def lists(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """List a campaign's lead lists with their counts."""
    with ctx.session() as s:
        rows = lists_of(s, campaign)
    if as_json:
        emit_json({"campaign": campaign, "lists": rows})
        return
    cols = ["name", "file", "uploaded_at", "rows", "accepted", "duplicates", "rejected", "suppressed"]
    click.echo(table([{**r, "uploaded_at": f"{r['uploaded_at']:%Y-%m-%d %H:%M}"} for r in rows], cols))


@leads.command("rejects")
@click.option("--campaign", required=True)
@click.option("--list", "list_name", required=True)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV file to write (default: stdout).")
@click.option("--duplicates", is_flag=True, help="Include duplicate rows too.")
@pass_ctx
def rejects(ctx: CliContext, campaign: str, list_name: str, output: Path | None, duplicates: bool) -> None:
    """Export a list's rejected rows as CSV (original columns + reason) to fix and import again."""
    with ctx.session() as s:
        if output is None:
            export_rejects(s, campaign, list_name, sys.stdout, duplicates)
            return
        tmp = output.with_name(output.name + ".part")
        try:
            with tmp.open("w", newline="", encoding="utf-8-sig") as f:
                n = export_rejects(s, campaign, list_name, f, duplicates)
            tmp.replace(output)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise UserError(f"{output}: cannot write ({e.strerror})") from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    click.echo(f"wrote {n:,} rows to {output}", err=True)


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
