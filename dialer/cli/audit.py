"""``dialer audit``: prove the suppression ledger was not edited, deleted from or reordered."""

from __future__ import annotations

import click

from dialer.cli.context import CliContext, emit_json, pass_ctx
from dnc.ledger import verify


class Tampered(click.ClickException):
    exit_code = 1


@click.group("audit")
def audit() -> None:
    """The tamper-evident audit ledger."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def verify_cmd(ctx: CliContext, as_json: bool) -> None:
    """Recompute the hash chain; name every edited, deleted or reordered record (exit 1 if any)."""
    with ctx.session() as s:
        result = verify(s)
    if as_json:
        emit_json({"ok": result.ok, "records": result.records, "problems": result.problems})
    elif result.ok:
        click.echo(f"ledger intact: {result.records:,} records, hash chain verified")
    else:
        for p in result.problems:
            click.echo(f"TAMPERED: {p}")
    if not result.ok:
        raise Tampered(f"the audit ledger failed verification: {len(result.problems)} problem(s)")
