"""``dialer dnc report``: the compliance reports as tables, JSON or formula-safe CSV."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.campaign.service import get_campaign
from campaigns.compliance import feed as compliance_feed
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dialer.cli.dnc import dnc, parse_when
from dnc import reports
from dnc.errors import UserError


def output(rows: list[dict], csv_path: Path | None, as_json: bool, extra: dict | None = None,
           columns: list[str] | None = None) -> None:
    if csv_path is not None:
        tmp = csv_path.with_name(csv_path.name + ".part")
        try:
            with tmp.open("w", newline="", encoding="utf-8") as f:
                n = reports.write_csv(rows, f, columns)
            tmp.replace(csv_path)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise UserError(f"{csv_path}: cannot write ({e.strerror})") from None
        click.echo(f"wrote {n:,} rows to {csv_path}", err=True)
    if as_json:
        emit_json({**(extra or {}), "count": len(rows), "rows": rows})
    elif csv_path is None:
        click.echo(table(rows, columns))


def call_records(ctx: CliContext, campaign: str | None, since, until) -> list[reports.CallRecord]:
    """Placed calls with their lead's state, ZIP and zones (the console's compliance pages read the same)."""
    with ctx.session() as s:
        cid = get_campaign(s, campaign).id if campaign is not None else None
        return compliance_feed.call_records(s, cid, since, until)


_opts = [
    click.option("--since", default=None, help="ISO-8601 start (inclusive)."),
    click.option("--until", default=None, help="ISO-8601 end (exclusive)."),
    click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="Write the rows as CSV (formula-safe cells)."),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
]


def opts(f):
    for o in reversed(_opts):
        f = o(f)
    return f


def _range(ctx, since, until):
    return (parse_when(since, ctx, "--since") if since else None, parse_when(until, ctx, "--until") if until
            else None)


@dnc.group("report")
def report() -> None:
    """Compliance reports: scrubs, reconcile, sla, window."""


@report.command("scrubs")
@opts
@pass_ctx
def scrubs(ctx: CliContext, since, until, csv_path, as_json) -> None:
    """Scrub ledger: one row per list load with sources, versions, ages and counts by reason."""
    with ctx.session() as s:
        rows = reports.scrub_ledger(s, *_range(ctx, since, until))
    output(rows, csv_path, as_json, columns=["seq", "at", "kind", "what", "campaign", "operator", "rows",
                                             "suppressed", "by_reason", "sources"])


@report.command("reconcile")
@click.option("--campaign", default=None)
@opts
@pass_ctx
def reconcile(ctx: CliContext, campaign, since, until, csv_path, as_json) -> None:
    """Zero-violation reconciliation: every placed call against the rules in force when it was placed."""
    calls = call_records(ctx, campaign, *_range(ctx, since, until))
    with ctx.session() as s:
        rows = reports.reconcile(s, calls)
    output(rows, csv_path, as_json, {"calls": len(calls)})
    if not as_json and csv_path is None:
        click.echo(f"{len(calls):,} calls checked, {len(rows):,} exceptions", err=True)


@report.command("window")
@click.option("--campaign", default=None)
@opts
@pass_ctx
def window(ctx: CliContext, campaign, since, until, csv_path, as_json) -> None:
    """Calling-window and state-cap exceptions among placed calls (expected: none)."""
    calls = call_records(ctx, campaign, *_range(ctx, since, until))
    with ctx.session() as s:
        rows = reports.window_exceptions(s, calls)
    output(rows, csv_path, as_json, {"calls": len(calls)})


@report.command("sla")
@opts
@pass_ctx
def sla(ctx: CliContext, since, until, csv_path, as_json) -> None:
    """Internal-DNC SLA: request to effective, breaches of the 10-business-day limit, removals."""
    with ctx.session() as s:
        out = reports.sla(s, *_range(ctx, since, until))
    if as_json:
        emit_json(out)
        return
    output(out["requests"], csv_path, False)
    click.echo("\nby channel:\n" + table(out["channels"]))
    click.echo("\nremovals:\n" + table(out["removals"]))
