"""``dialer calls``: import call history from another dialer (reports and the 30-day abandon rate keep it)."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.callimport.service import CallImportResult, import_calls
from campaigns.db import session_factory
from dialer.cli.context import CliContext, emit_json, pass_ctx


@click.group("calls")
def calls() -> None:
    """Call history: import calls placed by another dialer."""


@calls.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--campaign", required=True, help="Campaign the calls belong to.")
@click.option("--rejects", "rejects_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write every rejected row (line, column, reason, row) to this CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def import_(ctx: CliContext, file: Path, campaign: str, rejects_path: Path | None, as_json: bool) -> None:
    """Import FILE (CSV/TSV/XLSX: phone, list, placed at, answered by, connected at, agent, ended at, outcome,
    disposition); every row is imported, a duplicate or rejected with its line and reason; all or nothing."""
    result = import_calls(session_factory(ctx.engine), campaign, file, now=ctx.clock.now(),
                          rejects_path=rejects_path)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(receipt(result))
    for r in result.rejects[:20]:
        click.echo(f"  line {r['line']}, {r['column']}: {r['reason']}")
    if result.rejected > 20:
        more = f"--rejects FILE lists all {result.rejected}" if rejects_path is None else f"all in {rejects_path}"
        click.echo(f"  … {result.rejected - 20} more ({more})")


def receipt(r: CallImportResult) -> str:
    text = (f"{r.file} into campaign {r.campaign!r}: {r.rows:,} rows = {r.imported:,} imported + "
            f"{r.duplicates:,} duplicates + {r.rejected:,} rejected")
    if r.imported:
        text += (f"; {r.matched_leads:,} matched a lead, {r.without_lead:,} did not; "
                 f"placed {r.first_placed_at} .. {r.last_placed_at}")
    if r.attempts_counted or r.dnc_requests:
        moved = ", ".join(f"{n:,} {status}" for status, n in r.leads_moved.items()) or "none"
        text += (f"; {r.attempts_counted:,} attempts counted on leads, leads moved on: {moved}; "
                 f"{r.dnc_requests:,} number(s) put on the internal DNC list")
    if r.agents_created:
        text += f"; new agents: {', '.join(r.agents_created)}"
    if r.ignored_columns:
        text += f"; ignored columns: {', '.join(r.ignored_columns)}"
    return text
